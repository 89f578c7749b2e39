/**
 * Differential conformance: the guest's own sysfs dump is loaded into the simulator (the same path
 * `--host sim:<dump-dir>` takes), every scenario the real kernel ran is run again there, and the
 * two runs are compared step by step — errno, value (INFO lists with their group ids, fds as
 * "an fd", sysfs text such as `reset_method`, flags), and duration.
 *
 * Durations: the simulator's QEMU_GUEST clock model is calibrated on this rig (sleep overshoot,
 * config save/restore cost), and each real step also pays a fixed userspace + syscall cost under
 * TCG (`TCG_STEP_OVERHEAD_MS`). A waiting step agrees when the real duration is within ±10 % of
 * simulated + overhead, or within two jiffies for short steps. Binding a host driver is not
 * timed: its probe is the driver's business (the e1000's reads its EEPROM: 90–330 ms under TCG). Steps the simulator predicts as immediate (no wait: < `WAIT_FLOOR_MS`) carry only
 * syscall cost, which under TCG is a few ms of noise; they must stay below `SYSCALL_CEILING_MS`
 * on the real kernel, which proves no wait happened there either.
 * @module
 */

import { join } from 'node:path';
import { readSysfsHost } from '../host/read-sysfs.ts';
import { DirSysfsReader } from '../linux/sysfs-reader.ts';
import type { Era } from '../pci/era.ts';
import type { HostDesc } from '../pci/model.ts';
import { loadScenarioFile } from '../scenario/load.ts';
import { runScenario, type StepResult } from '../scenario/run.ts';
import { simTarget } from '../scenario/targets.ts';
import type { ClockModel } from '../sim/clock.ts';
import { SimKernel } from '../sim/kernel.ts';
import { firstLine, type GuestResults } from './job.ts';

/**
 * What a step costs in the guest beyond the kernel's own time: node, koffi and the syscall entry
 * under TCG. Calibrated once (median over the waiting steps of the 10 topologies, 2026-11-21):
 * real − simulated ≈ 3.1 ms, the same for a 15 ms bus reset as for a 2 s failing hot reset.
 */
export const TCG_STEP_OVERHEAD_MS = 3.1;
/** The agreement band around the calibrated prediction … */
export const DURATION_TOLERANCE = 0.1;
/**
 * … but never narrower than two jiffies of the guest's 250 Hz clock (8 ms): a step timed from
 * userspace starts anywhere within a tick and, in a guest, its wake-up may come one tick late
 * (T0/T1). The rig shows it: the same e1000e open (PM reset, save, restore) takes 42–52 ms.
 */
export const JITTER_FLOOR_MS = 8;
/** Below this the simulator predicts no wait at all: only the syscall's own cost. */
export const WAIT_FLOOR_MS = 10;
/** A syscall with no wait stays below this in the TCG guest (measured maximum ~25 ms, with margin). */
export const SYSCALL_CEILING_MS = 60;

/** Steps whose duration is a host driver's probe, not the kernel's reset machinery. */
const DRIVER_VERBS = new Set(['bind', 'unbind']);

/** Steps whose value is a new fd or object id: any non-negative number agrees. */
const FD_VERBS = new Set([
  'open',
  'open-group',
  'get-device',
  'open-cdev',
  'kvm-create-vm',
  'kvm-create-device',
  'eventfd',
]);

export type Disagreement =
  | { kind: 'errno'; real: string | null; sim: string | null }
  | { kind: 'value'; real: unknown; sim: unknown }
  | { kind: 'duration'; realMs: number; simMs: number; expectedMs: number }
  | { kind: 'missing'; side: 'real' | 'sim' };

export interface StepComparison {
  index: number;
  text: string;
  verb: string;
  realMs: number | null;
  simMs: number | null;
  /** True when the duration was compared (a waiting step), false when only the ceiling applied. */
  timed: boolean;
  disagreements: Disagreement[];
}

export interface ScenarioComparison {
  file: string;
  name: string | null;
  steps: StepComparison[];
  /** The scenario could not be run on one side: why. */
  error: string | null;
}

export interface TopologyComparison {
  topology: string;
  kernel: string;
  scenarios: ScenarioComparison[];
}

export interface CompareOptions {
  era?: Era;
  overheadMs?: number;
  /** The simulator's clock model (default QEMU_GUEST); calibration runs it with variants. */
  clock?: ClockModel;
}

/** The simulated twin of a guest, built from the guest's sysfs dump. */
export function guestTwin(outDir: string): HostDesc {
  const dump = join(outDir, 'sysfs');
  return readSysfsHost(new DirSysfsReader(dump), dump).desc;
}

/**
 * Runs every scenario of `results` on a fresh simulated kernel loaded from `desc` (the guest puts
 * drivers back after each scenario, so each one starts from the state the dump shows).
 */
export function compareGuestRun(
  repo: string,
  desc: HostDesc,
  results: GuestResults,
  o: CompareOptions = {},
): TopologyComparison {
  const era = o.era ?? '6.1';
  const overhead = o.overheadMs ?? TCG_STEP_OVERHEAD_MS;
  const scenarios: ScenarioComparison[] = [];
  for (const run of results.scenarios) {
    if (run.result === null) {
      scenarios.push({ file: run.file, name: run.name, steps: [], error: `real kernel: ${run.error}` });
      continue;
    }
    let simSteps: StepResult[];
    try {
      const { scenario } = loadScenarioFile(join(repo, run.file));
      const kernel = new SimKernel(desc, { era, ...(o.clock ? { clock: o.clock } : {}) });
      simSteps = runScenario(simTarget(kernel), scenario).steps;
    } catch (e) {
      scenarios.push({
        file: run.file,
        name: run.name,
        steps: [],
        error: `simulator: ${firstLine(e)}`,
      });
      continue;
    }
    scenarios.push({
      file: run.file,
      name: run.name,
      steps: compareSteps(run.result.steps as StepResult[], simSteps, overhead),
      error: null,
    });
  }
  return { topology: results.topology, kernel: results.kernel, scenarios };
}

export function compareSteps(
  real: readonly StepResult[],
  sim: readonly StepResult[],
  overheadMs = TCG_STEP_OVERHEAD_MS,
): StepComparison[] {
  const out: StepComparison[] = [];
  for (let i = 0; i < Math.max(real.length, sim.length); i++) {
    const r = real[i];
    const s = sim[i];
    if (!r || !s) {
      const any = (r ?? s)!;
      out.push({
        index: i,
        text: any.text,
        verb: any.verb,
        realMs: r?.durationMs ?? null,
        simMs: s?.durationMs ?? null,
        timed: false,
        disagreements: [{ kind: 'missing', side: r ? 'sim' : 'real' }],
      });
      continue;
    }
    out.push(compareStep(r, s, overheadMs));
  }
  return out;
}

export function compareStep(r: StepResult, s: StepResult, overheadMs = TCG_STEP_OVERHEAD_MS): StepComparison {
  const d: Disagreement[] = [];
  // A step skipped on the real kernel (a fault) has nothing to compare.
  if (r.met !== null) {
    if (r.errno !== s.errno) d.push({ kind: 'errno', real: r.errno, sim: s.errno });
    const rv = normalize(r.verb, r.value);
    const sv = normalize(s.verb, s.value);
    if (canonical(rv) !== canonical(sv)) d.push({ kind: 'value', real: rv, sim: sv });
  }
  const timed = s.durationMs >= WAIT_FLOOR_MS && !DRIVER_VERBS.has(r.verb);
  if (r.met !== null && !DRIVER_VERBS.has(r.verb)) {
    const expectedMs = s.durationMs + overheadMs;
    const off = timed
      ? Math.abs(r.durationMs - expectedMs) > Math.max(DURATION_TOLERANCE * expectedMs, JITTER_FLOOR_MS)
      : r.durationMs > SYSCALL_CEILING_MS;
    if (off) d.push({ kind: 'duration', realMs: r.durationMs, simMs: s.durationMs, expectedMs });
  }
  return {
    index: r.index,
    text: r.text,
    verb: r.verb,
    realMs: r.durationMs,
    simMs: s.durationMs,
    timed,
    disagreements: d,
  };
}

function normalize(verb: string, value: unknown): unknown {
  if (FD_VERBS.has(verb) && typeof value === 'number' && value >= 0) return 'fd';
  return value;
}

/** JSON with sorted keys and BigInt as decimal (results.json stores them that way). */
export function canonical(v: unknown): string {
  return JSON.stringify(v, (_k, x) => {
    if (typeof x === 'bigint') return x.toString();
    if (x && typeof x === 'object' && !Array.isArray(x))
      return Object.fromEntries(Object.entries(x).sort(([a], [b]) => a.localeCompare(b)));
    return x;
  });
}

export function agrees(t: TopologyComparison): boolean {
  return t.scenarios.every((s) => s.error === null && s.steps.every((st) => st.disagreements.length === 0));
}

/** Real − simulated over the steps that wait: what `TCG_STEP_OVERHEAD_MS` is calibrated from. */
export function overheadSamples(ts: readonly TopologyComparison[]): number[] {
  const out: number[] = [];
  for (const t of ts)
    for (const s of t.scenarios)
      for (const st of s.steps)
        if (st.timed && st.realMs !== null && st.simMs !== null) out.push(st.realMs - st.simMs);
  return out.sort((a, b) => a - b);
}
