/** `scan --json` and `info --json` (render/json.ts). */
import { z } from 'zod';
import { Bdf, DeviceRef, DomainProblem, Era, envelope, Hex, HotResetProblem, Problem } from './common.ts';

export const ResetDomainId = z
  .string()
  .regex(/^(slot:[0-9a-f]{4,8}:[0-9a-f]{2}:.+|bus:[0-9a-f]{4,8}:[0-9a-f]{2})$/)
  .meta({ description: 'slot:<dddd:bb>:<slot name> or bus:<dddd:bb>: the id of an entry of resetDomains' });

export const ResetDomain = z.strictObject({
  id: ResetDomainId,
  kind: z.enum(['slot', 'bus']),
  bridge: Bdf,
  target: z.string(),
  affected: z.array(DeviceRef),
  groups: z.array(z.number().int()),
  bindToVfio: z.array(DeviceRef),
  problems: z.array(DomainProblem),
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
  resetDomain: ResetDomainId.nullable(),
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
    ...envelope('scan', 2),
    ok: z.literal(true),
    ...hostFields,
    functions: z.array(ScanFunction),
    resetDomains: z.array(ResetDomain),
    iommuGroups: z.array(z.strictObject({ id: z.number().int(), members: z.array(DeviceRef) })),
    slots: z.array(
      z.strictObject({ name: z.string(), address: z.string(), driver: z.string(), resetSlot: z.boolean() }),
    ),
    warnings: z.array(z.string()),
  })
  .meta({
    title: 'vfio-reset scan',
    description:
      'every function of the host with group, driver, reset methods and problems, and every reset domain (the slot or bus a hot reset resets) once, with the functions it affects and the problems in the way',
  });

export const InfoDocument = z
  .strictObject({
    ...envelope('info', 2),
    ok: z.literal(true),
    ...hostFields,
    function: ScanFunction,
    resetDomain: ResetDomain.nullable(),
    hotResetProblems: z.array(HotResetProblem),
    iommuGroupMembers: z.array(DeviceRef),
    mustOwn: z.strictObject({ groups: z.array(z.number().int()), bindToVfio: z.array(DeviceRef) }).nullable(),
  })
  .meta({ title: 'vfio-reset info', description: 'one function, and what must be owned for its hot reset' });
