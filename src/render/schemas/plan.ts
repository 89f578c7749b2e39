/** `plan`, `bind` and `restore` with --json (render/plan.ts, render/bind.ts). */
import { z } from 'zod';
import { RestoreEntrySchema } from '../../plan/restore-record.ts';
import { Bdf, DeviceRef, Era, envelope, NoHotResetReason, ProblemFields } from './common.ts';

const HostUse = z.strictObject({
  code: z.enum(['boot-vga', 'mounted-storage', 'default-route']),
  assumed: z.boolean(),
  disk: z.string().nullable().optional(),
  mounts: z.array(z.string()).optional(),
  iface: z.string().nullable().optional(),
});

const BindGroup = z.strictObject({
  id: z.number().int(),
  members: z.array(
    z.strictObject({
      bdf: Bdf,
      driver: z.string().nullable(),
      group: z.number().int().nullable(),
      requested: z.boolean(),
      bridge: z.boolean(),
      action: z.enum(['bind', 'keep', 'leave']),
      hostUse: z.array(HostUse),
    }),
  ),
  requestedBy: z.array(Bdf),
});

const BindRefusal = z.strictObject({
  code: z.enum(['host-device-in-group', 'no-iommu-group', 'bridge-requested']),
  device: DeviceRef,
  group: z.number().int().optional(),
  use: HostUse.optional(),
  requestedBy: z.array(Bdf).optional(),
  message: z.string(),
});

const QemuAction = z.enum(['function-reset', 'hot-reset-single', 'hot-reset-multi', 'pm-reset']);

const BlockReason = z.strictObject({
  code: z.enum([
    'no-function-reset',
    'function-reset-is-pm',
    'no-iommu-group',
    'no-hot-reset',
    'scope-has-bridge',
    'scope-outside-set',
    'scope-in-use',
  ]),
  errno: z.string().nullable().optional(),
  reason: NoHotResetReason.optional(),
  bridge: DeviceRef.optional(),
  devices: z.array(DeviceRef).optional(),
});

const Verdict = z.strictObject({
  kind: z.enum(['resettable', 'resettable-together', 'not-resettable']),
  by: QemuAction.optional(),
  method: z.string().nullable().optional(),
  with: z.array(DeviceRef).optional(),
  reasons: z.array(BlockReason).optional(),
});

const Prediction = z.strictObject({
  kind: z.enum(['function', 'hot']),
  ms: z.number(),
  errno: z.string().nullable(),
  method: z.string().nullable(),
});

const PlanDevice = z.strictObject({
  bdf: Bdf,
  driver: z.string().nullable(),
  group: z.number().int().nullable(),
  className: z.string(),
  capabilities: z.strictObject({
    hasFlr: z.boolean(),
    hasPmReset: z.boolean(),
    resetWorks: z.boolean(),
    functionMethod: z.string().nullable(),
  }),
  qemu: z.strictObject({
    needsReset: z.boolean(),
    deviceReset: QemuAction.nullable(),
    vmReset: QemuAction.nullable(),
  }),
  hotReset: z
    .strictObject({
      kind: z.enum(['slot', 'bus']),
      target: z.string(),
      bridge: Bdf,
      affected: z.array(DeviceRef),
    })
    .nullable(),
  verdict: Verdict,
  verdictMessage: z.string(),
  passedOver: z.array(BlockReason),
  predicted: Prediction.nullable(),
});

const PlanWarning = z.strictObject({
  code: z.enum([
    'stale-bus-method',
    'hotplug-port-plain-sbr',
    'bus-method-below-pciehp',
    'root-bus-device',
    'no-bus-reset-quirk',
    'host-device-in-group',
    'host-device-requested',
    'slow-reset',
    'pm-reset-fallback',
    'reset-fails-in-model',
  ]),
  ...ProblemFields,
  device: DeviceRef.optional(),
  use: HostUse.optional(),
  action: QemuAction.optional(),
  predictedMs: z.number().optional(),
  thresholdMs: z.number().optional(),
  errno: z.string().optional(),
  message: z.string(),
});

const WhatIfError = z.strictObject({ code: z.string(), message: z.string(), blocker: DeviceRef.nullable() });

const WhatIfReset = z.strictObject({
  bdf: Bdf,
  performed: QemuAction.nullable(),
  ok: z.boolean(),
  ms: z.number(),
  affected: z.array(DeviceRef),
  steps: z.array(
    z.strictObject({
      action: z.string(),
      outcome: z.string(),
      why: z.string(),
      error: z.string().nullable(),
    }),
  ),
  error: WhatIfError.nullable(),
});

const BindStep = z.strictObject({
  bdf: Bdf,
  group: z.number().int(),
  action: z.enum(['bind', 'keep', 'leave']),
  from: z.string().nullable(),
  to: z.string().nullable(),
  ok: z.boolean(),
  error: z.string().nullable(),
});

const WhatIf = z.strictObject({
  origin: z.string(),
  clock: z.literal('virtual'),
  mode: z.enum(['group', 'cdev']),
  bind: z.array(BindStep),
  opened: z.array(
    z.strictObject({
      bdf: Bdf,
      ok: z.boolean(),
      resetWorks: z.boolean().nullable(),
      ms: z.number(),
      error: WhatIfError.nullable(),
    }),
  ),
  deviceResets: z.array(WhatIfReset),
  vmReset: z.array(WhatIfReset),
  log: z.array(z.strictObject({ atMs: z.number(), device: z.string().nullable(), text: z.string() })),
  totalMs: z.number(),
});

export const PlanDocument = z
  .strictObject({
    ...envelope('plan'),
    ok: z.literal(true),
    host: z.string(),
    origin: z.string(),
    era: Era,
    iommu: z.boolean(),
    requested: z.array(Bdf),
    bind: z.strictObject({
      requested: z.array(Bdf),
      groups: z.array(BindGroup),
      refusals: z.array(BindRefusal),
    }),
    devices: z.array(PlanDevice),
    collateral: z.array(z.strictObject({ device: DeviceRef, hitBy: z.array(Bdf), boundByPlan: z.boolean() })),
    warnings: z.array(PlanWarning),
    whatIf: WhatIf.nullable(),
  })
  .meta({
    title: 'vfio-reset plan',
    description:
      'groups to bind, how QEMU would reset each device, verdicts, collateral devices, warnings; with --what-if, the simulated run',
  });

export const BindDocument = z
  .strictObject({
    ...envelope('bind'),
    ok: z.boolean(),
    origin: z.string(),
    dryRun: z.boolean(),
    requested: z.array(Bdf),
    groups: z.array(BindGroup),
    refusals: z.array(BindRefusal),
    safety: z.array(z.string()),
    steps: z.array(BindStep),
    record: z.string().nullable(),
  })
  .meta({
    title: 'vfio-reset bind',
    description: 'groups bound (or, as a dry run, to be bound) to vfio-pci, refusals, and the restore record',
  });

export const RestoreDocument = z
  .strictObject({
    ...envelope('restore'),
    ok: z.boolean(),
    origin: z.string(),
    dryRun: z.boolean(),
    record: z.string(),
    devices: z.array(RestoreEntrySchema),
    steps: z.array(
      z.strictObject({
        bdf: Bdf,
        from: z.string().nullable(),
        want: z.string().nullable(),
        to: z.string().nullable(),
        outcome: z.enum(['restored', 'unchanged', 'failed']),
        error: z.string().nullable(),
      }),
    ),
  })
  .meta({
    title: 'vfio-reset restore',
    description: 'drivers put back from a restore record (or, as a dry run, to be put back)',
  });
