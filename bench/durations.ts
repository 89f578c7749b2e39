/**
 * The simulator's predicted reset durations against those the real kernel took in the QEMU rig.
 * The rig (`npm run test:kernel`) leaves `.rig/results/<topology>/results.json` with every
 * scenario step it ran on Linux and its wall time; here each of those scenarios is run again on
 * the simulator (virtual clock) and the reset steps are put side by side.
 * @module
 */

import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Era } from '../src/pci/era.ts';
import { topologyByName } from '../src/rig/topologies.ts';
import { loadScenarioFile } from '../src/scenario/load.ts';
import { runScenario, type StepResult } from '../src/scenario/run.ts';
import { newSimTarget } from '../src/scenario/targets.ts';
import { loadTopologyFile } from '../src/topology/load.ts';
import { ROOT } from './data.ts';

export const RIG_RESULTS = join(ROOT, '.rig/results');

/** Steps whose time is the kernel's reset work. */
const TIMED_VERBS = new Set(['reset', 'hot-reset']);
/**
 * Refusals are shown only when the kernel waited before refusing (a link that never came up):
 * quicker ones are argument checks, whose time in the TCG guest is noise, not reset work.
 */
const MIN_REFUSAL_MS = 100;

export interface DurationRow {
  topology: string;
  scenario: string;
  step: string;
  /** What the real kernel answered: `ok` or the errno. */
  real: string;
  rigMs: number;
  /** Virtual time on the simulator, or null when the scenario could not be replayed (`note`). */
  simMs: number | null;
  sim: string | null;
  note: string | null;
}

export interface RigRun {
  kernel: string;
  /** When the rig wrote its results (mtime of the newest results.json), ISO. */
  when: string;
  topologies: string[];
}

export type DurationTable = { ok: true; run: RigRun; rows: DurationRow[] } | { ok: false; why: string };

interface RigScenario {
  file: string;
  result: { steps: StepResult[] } | null;
}
interface RigResults {
  topology: string;
  kernel: string;
  scenarios?: RigScenario[];
}

/** The era whose rules the rig's kernel follows. */
function eraOf(kernel: string): Era {
  const [maj = 0, min = 0] = kernel.split(/[.-]/).map(Number);
  return maj > 6 || (maj === 6 && min >= 6) ? '6.6+' : '6.1';
}

/** Replays a rig scenario on the simulator: its own `topology:`, else the rig topology's twin. */
function replay(file: string, rigTopology: string, era: Era): { steps: StepResult[] } | { error: string } {
  const path = join(ROOT, file);
  if (!existsSync(path)) return { error: `${file} is not in this tree` };
  try {
    const { scenario, dir } = loadScenarioFile(path);
    const twin = topologyByName(rigTopology)?.example ?? null;
    const topo =
      scenario.topology !== undefined ? resolve(dir, scenario.topology) : twin ? join(ROOT, twin) : null;
    if (topo === null) return { error: `rig topology ${rigTopology} has no simulated twin yet` };
    const target = newSimTarget(loadTopologyFile(topo), era);
    return { steps: runScenario(target, scenario).steps };
  } catch (e) {
    return { error: `${file}: ${e instanceof Error ? e.message.split('\n')[0] : String(e)}` };
  }
}

export function durationTable(dir = RIG_RESULTS): DurationTable {
  const files = existsSync(dir)
    ? readdirSync(dir)
        .map((t) => join(dir, t, 'results.json'))
        .filter((f) => existsSync(f))
        .sort()
    : [];
  if (files.length === 0)
    return {
      ok: false,
      why: `no rig results under ${dir}; run the QEMU rig (npm run test:kernel) on a machine with qemu to fill this table`,
    };
  const rows: DurationRow[] = [];
  const kernels = new Set<string>();
  let newest = 0;
  const topologies: string[] = [];
  for (const f of files) {
    const r = JSON.parse(readFileSync(f, 'utf8')) as RigResults;
    kernels.add(r.kernel);
    topologies.push(r.topology);
    newest = Math.max(newest, statSync(f).mtimeMs);
    for (const sc of r.scenarios ?? []) {
      const timed = (sc.result?.steps ?? []).filter(
        (s) => TIMED_VERBS.has(s.verb) && (s.errno === null || s.durationMs >= MIN_REFUSAL_MS),
      );
      if (timed.length === 0) continue;
      const sim = replay(sc.file, r.topology, eraOf(r.kernel));
      for (const s of timed) {
        const twin = 'steps' in sim ? sim.steps[s.index] : undefined;
        rows.push({
          topology: r.topology,
          scenario: sc.file
            .split('/')
            .pop()!
            .replace(/\.yaml$/, ''),
          step: `#${s.index} ${s.text}`,
          real: s.errno ?? 'ok',
          rigMs: s.durationMs,
          simMs: twin ? twin.durationMs : null,
          sim: twin ? (twin.errno ?? 'ok') : null,
          note: 'error' in sim ? sim.error : twin ? null : 'the simulator run has no such step',
        });
      }
    }
  }
  return {
    ok: true,
    run: { kernel: [...kernels].join(', '), when: new Date(newest).toISOString(), topologies },
    rows,
  };
}
