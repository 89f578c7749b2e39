/**
 * What passes between the host driver and the guest: the job (host → guest, `job.json` in the
 * results export) and the results (guest → host, `results.json`). Both are plain JSON checked
 * with zod on arrival, so a guest built from other code, or a half-written file after a crash,
 * is reported instead of misread. Counting passes and failures lives here too, as pure code.
 * @module
 */

import { z } from 'zod';
import type { ScenarioResult } from '../scenario/run.ts';
import type { RigTopology } from './topologies.ts';

export const JOB_VERSION = 1;

export const JobSchema = z
  .object({
    version: z.literal(JOB_VERSION),
    topology: z.string().min(1),
    vfio: z.array(z.string()),
    host: z.array(z.object({ bdf: z.string(), driver: z.string() }).strict()),
    sriov: z
      .object({ pf: z.string(), numvfs: z.number().int().min(1) })
      .strict()
      .nullable(),
    /** Scenario files, repo-relative (the repo is at the same path in the guest). */
    scenarios: z.array(z.string()),
    /** The results directory as the guest sees it. */
    out: z.string().min(1),
  })
  .strict();
export type Job = z.infer<typeof JobSchema>;

/** Where the guest finds the writable export (rig/init.sh mounts it there). */
export const GUEST_OUT = '/tmp/out';

export function makeJob(t: RigTopology, scenarios: readonly string[]): Job {
  return {
    version: JOB_VERSION,
    topology: t.name,
    vfio: [...t.vfio],
    host: t.host.map((h) => ({ ...h })),
    sriov: t.sriov ? { ...t.sriov } : null,
    scenarios: [...scenarios],
    out: GUEST_OUT,
  };
}

export function parseJob(text: string): Job {
  return JobSchema.parse(JSON.parse(text));
}

// ---- results ----------------------------------------------------------------------------------------

/** One function's state as sysfs shows it. */
export interface FunctionState {
  bdf: string;
  driver: string | null;
  /** `reset_method` text without the newline, or null when the file is absent. */
  resetMethod: string | null;
  group: number | null;
}

/** A bind or SR-IOV step of the setup, with what sysfs showed afterwards. */
export interface SetupAction {
  action: string;
  bdf: string;
  want: string;
  /** The driver afterwards (bind) or the value read back. */
  got: string | null;
  error: string | null;
}

export interface ScenarioRun {
  file: string;
  name: string | null;
  ms: number;
  result: ScenarioResult | null;
  /** The scenario could not be loaded or threw (not a kernel errno: those are step results). */
  error: string | null;
  /** Kernel log lines printed while the scenario ran. */
  kmsg: string[];
  /** What was put back afterwards (drivers), and state that could not be restored. */
  restored: string[];
}

export interface GuestResults {
  version: typeof JOB_VERSION;
  topology: string;
  /** `uname -r` of the guest. */
  kernel: string;
  cmdline: string;
  /** ms: node start (process uptime when guest.ts began), setup, dump, warm-up, scenarios. */
  timings: { nodeStartMs: number; setupMs: number; dumpMs: number; warmupMs?: number; scenariosMs: number };
  setup: SetupAction[];
  dump: { functions: number; files: number; links: number } | { error: string };
  /** Every function after setup, before any scenario. */
  state: FunctionState[];
  scenarios: ScenarioRun[];
  /** Kernel log lines from boot until the scenarios began. */
  bootKmsg: string[];
  errors: string[];
}

/** Loose check: the fields the host reads, with their types; the rest is passed through. */
const ResultsSchema = z.looseObject({
  version: z.literal(JOB_VERSION),
  topology: z.string(),
  kernel: z.string(),
  timings: z.looseObject({ nodeStartMs: z.number(), scenariosMs: z.number() }),
  setup: z.array(z.looseObject({ bdf: z.string(), error: z.string().nullable() })),
  state: z.array(
    z.looseObject({ bdf: z.string(), driver: z.string().nullable(), resetMethod: z.string().nullable() }),
  ),
  scenarios: z.array(
    z.looseObject({
      file: z.string(),
      error: z.string().nullable(),
      result: z
        .looseObject({
          passed: z.number().int(),
          failed: z.number().int(),
          skipped: z.number().int(),
          steps: z.array(z.looseObject({})),
        })
        .nullable(),
    }),
  ),
  errors: z.array(z.string()),
});

export function parseResults(text: string): GuestResults {
  return ResultsSchema.parse(JSON.parse(text)) as unknown as GuestResults;
}

/** JSON for results: BigInt values (64-bit struct fields) as decimal strings. */
export function toJson(v: unknown): string {
  return `${JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? x.toString() : x), 2)}\n`;
}

/** The first line of an error's message (a zod or loader error can run to many): for problem lines. */
export function firstLine(e: unknown): string {
  return e instanceof Error ? (e.message.split('\n')[0] ?? '') : String(e);
}

// ---- counting -------------------------------------------------------------------------------------

export interface Tally {
  passed: number;
  failed: number;
  skipped: number;
  /** One line per failure: scenario file, step and why. */
  failures: string[];
  /** Timing misses counted as passed in advisory mode (see `TallyOptions`), one line each. */
  advisories: string[];
}

export interface TallyOptions {
  /**
   * Count a step whose only miss is its duration as passed, and list it under `advisories`. CI
   * machines are shared: a TCG guest's timing there says more about the neighbours than about the
   * kernel, while errno, values and INFO lists do not move.
   */
  timingAdvisory?: boolean;
}

export function emptyTally(): Tally {
  return { passed: 0, failed: 0, skipped: 0, failures: [], advisories: [] };
}

/** The runner's note for a step that met everything but its duration bounds (run.ts `check`). */
export function isTimingMiss(note: string | null): boolean {
  return note !== null && /^took [\d.]+ ms, expected /.test(note);
}

/**
 * Steps of one boot. A scenario that could not run, or that the guest never reached (crash,
 * timeout), counts as one failure — it would otherwise vanish from the count.
 */
export function tallyBoot(
  topology: string,
  expected: readonly string[],
  results: GuestResults | null,
  problem: string | null,
  o: TallyOptions = {},
): Tally {
  const t = emptyTally();
  const seen = new Set<string>();
  for (const s of results?.scenarios ?? []) {
    seen.add(s.file);
    if (s.result === null) {
      t.failed++;
      t.failures.push(`${topology} ${s.file}: ${s.error ?? 'no result'}`);
      continue;
    }
    t.passed += s.result.passed;
    t.failed += s.result.failed;
    t.skipped += s.result.skipped;
    for (const st of s.result.steps) {
      if (st.met !== false) continue;
      const line = `${topology} ${s.file} step ${st.index + 1} (${st.text}): ${st.note ?? 'failed'}`;
      if (o.timingAdvisory && isTimingMiss(st.note)) {
        t.failed--;
        t.passed++;
        t.advisories.push(line);
      } else t.failures.push(line);
    }
  }
  for (const f of expected) {
    if (seen.has(f)) continue;
    t.failed++;
    t.failures.push(`${topology} ${f}: not run (${problem ?? 'missing from the results'})`);
  }
  if (expected.length === 0 && problem !== null) {
    t.failed++;
    t.failures.push(`${topology}: ${problem}`);
  }
  for (const s of results?.setup ?? [])
    if (s.error !== null) t.failures.push(`${topology} setup ${s.action} ${s.bdf}: ${s.error} (not counted)`);
  return t;
}

export function addTally(a: Tally, b: Tally): Tally {
  return {
    passed: a.passed + b.passed,
    failed: a.failed + b.failed,
    skipped: a.skipped + b.skipped,
    failures: [...a.failures, ...b.failures],
    advisories: [...a.advisories, ...b.advisories],
  };
}

/** The plain closing line CI reads. */
export function closingLine(t: Tally): string {
  return `${t.passed} passed, ${t.failed} failed${t.skipped > 0 ? `, ${t.skipped} skipped` : ''}`;
}
