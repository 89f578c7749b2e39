/** `dump`, `snapshot`, `import-lspci`, `reset` and `run` with --json. */
import { z } from 'zod';
import { Bdf, DeviceRef, envelope, HotResetProblem } from './common.ts';
import { ResetDomain, ScanFunction } from './inventory.ts';

export const DumpDocument = z
  .strictObject({
    ...envelope('dump'),
    ok: z.literal(true),
    dir: z.string(),
    functions: z.number().int(),
    files: z.number().int(),
    links: z.number().int(),
    partialConfig: z.array(Bdf),
  })
  .meta({ title: 'vfio-reset dump', description: 'what a sysfs dump holds' });

const TopologyLoss = z.strictObject({ where: z.string().nullable(), field: z.string(), message: z.string() });

export const SnapshotDocument = z
  .strictObject({
    ...envelope('snapshot'),
    ok: z.literal(true),
    output: z.string(),
    differences: z.array(
      z.strictObject({
        bdf: z.string().nullable(),
        what: z.string().meta({ description: 'capture/snapshot.ts SNAPSHOT_DIFFERENCE_KINDS' }),
        host: z.unknown(),
        simulated: z.unknown(),
        field: z.string().optional(),
      }),
    ),
    losses: z.array(TopologyLoss),
    warnings: z.array(z.string()),
  })
  .meta({
    title: 'vfio-reset snapshot',
    description: 'the topology file written and where the simulator differs from the host',
  });

export const ImportLspciDocument = z
  .strictObject({
    ...envelope('import-lspci'),
    ok: z.literal(true),
    output: z.string(),
    functions: z.number().int(),
    warnings: z.array(z.string()),
    losses: z.array(TopologyLoss),
  })
  .meta({ title: 'vfio-reset import-lspci', description: 'the topology file written from an lspci dump' });

const ResetError = z.strictObject({
  code: z.string(),
  message: z.string(),
  errno: z.string().nullable(),
  rule: z.string().nullable(),
  blocker: DeviceRef.nullable(),
});

/** The simulated kernel's events (sim/log.ts): `kind` names the rest. */
const KernelEvent = z.looseObject({ kind: z.string() });

const ResetDryRun = z.strictObject({
  ...envelope('reset', 2),
  ok: z.literal(true),
  dryRun: z.literal(true),
  bdf: Bdf,
  method: z.enum(['function', 'hot', 'auto']),
  function: ScanFunction,
  resetDomain: ResetDomain.nullable(),
  hotResetProblems: z.array(HotResetProblem),
});

const ResetRun = z.strictObject({
  ...envelope('reset', 2),
  origin: z.string(),
  bdf: Bdf,
  requested: z.enum(['function', 'hot', 'auto']),
  performed: z.enum(['function-reset', 'hot-reset', 'pm-reset']).nullable(),
  ok: z.boolean(),
  affected: z.array(DeviceRef),
  steps: z.array(
    z.strictObject({
      action: z.string(),
      why: z.string(),
      outcome: z.string(),
      error: z.string().nullable(),
    }),
  ),
  error: ResetError.nullable(),
  timing: z.strictObject({ openMs: z.number(), resetMs: z.number(), closeMs: z.number() }).nullable(),
  mode: z.enum(['group', 'cdev']),
  durationMs: z.number(),
  clock: z.enum(['virtual', 'wall']),
  events: z.array(z.strictObject({ atMs: z.number(), event: KernelEvent })),
});

export const ResetDocument = z.union([ResetDryRun, ResetRun]).meta({
  title: 'vfio-reset reset',
  description: 'the dry run (what --yes would do), or what ran, what it hit and how long it took',
});

const RunStep = z.strictObject({
  ...envelope('run'),
  type: z.literal('step'),
  scenario: z.string(),
  index: z.number().int(),
  verb: z.string(),
  label: z.string().nullable(),
  text: z.string(),
  errno: z.string().nullable(),
  rule: z.string().nullable(),
  value: z.unknown(),
  durationMs: z.number(),
  met: z.boolean().nullable(),
  note: z.string().nullable(),
});

const RunSummary = z.strictObject({
  ...envelope('run'),
  type: z.literal('summary'),
  ok: z.boolean(),
  scenario: z.string(),
  target: z.enum(['sim', 'linux']),
  passed: z.number().int(),
  failed: z.number().int(),
  skipped: z.number().int(),
});

export const RunLine = z.union([RunStep, RunSummary]).meta({
  title: 'vfio-reset run',
  description: 'one NDJSON line of a scenario run: a step, or the closing summary',
});
