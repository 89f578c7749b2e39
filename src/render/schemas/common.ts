/**
 * Pieces every JSON document shares: the envelope (`schemaVersion`, `command`, `ok`), a device as
 * output names it (BDF with driver and group), a problem, the error document.
 * @module
 */

import { z } from 'zod';
import { DOMAIN_PROBLEM_CODES } from '../../host/problems.ts';

export const Bdf = z
  .string()
  .regex(/^[0-9a-f]{4,8}:[0-9a-f]{2}:[01][0-9a-f]\.[0-7]$/)
  .meta({
    description: 'canonical PCI address dddd:bb:dd.f',
  });
export const Hex = z.string().regex(/^0x[0-9a-f]+$/);

export const DeviceRef = z.strictObject({
  bdf: Bdf,
  driver: z.string().nullable(),
  group: z.number().int().nullable(),
});

export const Era = z.enum(['2013', '6.1', '6.6+']);

/** `version`: 2 for `scan`, `info` and `reset`, whose functions name reset domains (render/json.ts); else 1. */
export function envelope<const C extends string, const V extends 1 | 2 = 1>(command: C, version?: V) {
  return { schemaVersion: z.literal(version ?? 1), command: z.literal(command) };
}

export const NoHotResetReason = z.strictObject({
  code: z.enum(['root-bus', 'virtual-bus', 'no-bus-reset']),
  bus: z.string().optional(),
  on: z.string().optional(),
});

const PROBLEM_CODES = [
  'no-function-reset',
  'stale-bus-method',
  'no-hot-reset',
  'scope-has-bridge',
  'scope-not-vfio',
  'scope-crosses-groups',
  'group-not-viable',
  'no-iommu-group',
  'hotplug-port-plain-sbr',
  'bus-method-below-pciehp',
  'no-bus-reset-quirk',
  'root-bus-device',
  'partial-config',
  'reset-methods-differ',
  'group-differs',
] as const;

/** `host/problems.ts`: `code` says which of the optional fields are present. */
export const ProblemFields = {
  severity: z.enum(['blocker', 'warning', 'info']),
  bdf: Bdf,
  blocker: DeviceRef.optional(),
  sibling: DeviceRef.optional(),
  port: DeviceRef.optional(),
  on: DeviceRef.optional(),
  reason: NoHotResetReason.optional(),
  groups: z.array(z.number().int()).optional(),
  group: z.number().int().optional(),
  slot: z.string().optional(),
  slotDriver: z.string().optional(),
  bytes: z.number().int().optional(),
  sysfs: z.union([z.array(z.string()), z.number().int(), z.null()]).optional(),
  computed: z.union([z.array(z.string()), z.number().int(), z.null()]).optional(),
};

const FUNCTION_PROBLEM_CODES = PROBLEM_CODES.filter(
  (c): c is Exclude<(typeof PROBLEM_CODES)[number], (typeof DOMAIN_PROBLEM_CODES)[number]> =>
    !(DOMAIN_PROBLEM_CODES as readonly string[]).includes(c),
);

/** A function's own problem; its reset domain's are written with the domain (`DomainProblem`). */
export const Problem = z.strictObject({
  code: z.enum(FUNCTION_PROBLEM_CODES),
  ...ProblemFields,
  message: z.string(),
});

/** A problem a hot reset meets whichever function of the reset domain it targets. */
export const DomainProblem = z.strictObject({
  code: z.enum(DOMAIN_PROBLEM_CODES),
  severity: ProblemFields.severity,
  blocker: ProblemFields.blocker,
  port: ProblemFields.port,
  groups: ProblemFields.groups,
  slot: ProblemFields.slot,
  slotDriver: ProblemFields.slotDriver,
  message: z.string(),
});

/** A reset domain's problem said of one function (`info`, `reset`: `hotResetProblems`). */
export const HotResetProblem = DomainProblem.extend({ bdf: Bdf });

export const ErrorDocument = z
  .strictObject({
    schemaVersion: z.literal(1),
    command: z.string(),
    ok: z.literal(false),
    error: z.strictObject({ code: z.string().regex(/^VFIO_RESET_E_[A-Z_]+$/), message: z.string() }),
  })
  .meta({ title: 'vfio-reset error', description: 'what any command prints with --json when it fails' });
