/** `scan --json` and `info --json` (render/json.ts). */
import { z } from 'zod';
import { Bdf, DeviceRef, Era, envelope, Hex, Problem } from './common.ts';

export const HotReset = z.strictObject({
  kind: z.enum(['slot', 'bus']),
  bridge: Bdf,
  target: z.string(),
  affected: z.array(DeviceRef),
  groups: z.array(z.number().int()),
  bindToVfio: z.array(DeviceRef),
});

export const ScanFunction = z.strictObject({
  bdf: Bdf,
  vendor: Hex,
  device: Hex,
  class: Hex,
  className: z.string(),
  kind: z.enum([
    'root-port',
    'upstream-port',
    'downstream-port',
    'pcie-to-pci-bridge',
    'pci-to-pcie-bridge',
    'pci-bridge',
    'endpoint',
    'rc-endpoint',
    'legacy-endpoint',
    'rc-event-collector',
    'conventional',
  ]),
  label: z.string().nullable(),
  parent: Bdf.nullable(),
  children: z.array(Bdf),
  driver: z.string().nullable(),
  iommuGroup: z.number().int().nullable(),
  iommuGroupSource: z.enum(['sysfs', 'computed', 'none']),
  resetMethods: z.array(z.string()),
  resetMethodsSource: z.enum(['sysfs', 'computed', 'unknown']),
  functionReset: z.strictObject({
    method: z.string().nullable(),
    via: z.enum(['slot', 'parent-bus']).nullable(),
    ok: z.boolean(),
    errno: z.string().nullable(),
  }),
  hotReset: HotReset.nullable(),
  slot: z.strictObject({ name: z.string(), driver: z.string() }).nullable(),
  linkSpeed: z.string().nullable(),
  problems: z.array(Problem),
});

const hostFields = {
  host: z.string(),
  origin: z.string(),
  era: Era,
  iommu: z.boolean(),
};

export const ScanDocument = z
  .strictObject({
    ...envelope('scan'),
    ok: z.literal(true),
    ...hostFields,
    functions: z.array(ScanFunction),
    iommuGroups: z.array(z.strictObject({ id: z.number().int(), members: z.array(DeviceRef) })),
    slots: z.array(
      z.strictObject({ name: z.string(), address: z.string(), driver: z.string(), resetSlot: z.boolean() }),
    ),
    warnings: z.array(z.string()),
  })
  .meta({
    title: 'vfio-reset scan',
    description: 'every function of the host with group, driver, reset methods, hot-reset scope and problems',
  });

export const InfoDocument = z
  .strictObject({
    ...envelope('info'),
    ok: z.literal(true),
    ...hostFields,
    function: ScanFunction,
    iommuGroupMembers: z.array(DeviceRef),
    mustOwn: z.strictObject({ groups: z.array(z.number().int()), bindToVfio: z.array(DeviceRef) }).nullable(),
  })
  .meta({ title: 'vfio-reset info', description: 'one function, and what must be owned for its hot reset' });
