/**
 * Which scenario files a rig boot runs: those whose `topology:` is the topology's simulated twin
 * and those the topology names itself, keeping only files that apply to the guest kernel's era
 * (`eras:` lists it, or is absent; a file pinned to another `era:` is for the simulator only).
 * Files with `fault:` steps are left out with a reason: a real kernel cannot inject faults, so
 * the steps that expect the fault's errno would fail for a reason that says nothing about it.
 * Files that open /dev/kvm are left out too: the rig's guest runs under TCG, without KVM.
 * Pure over the files' metadata; reading the files is `scanScenarios`.
 * @module
 */

import { readdirSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import type { Era } from '../pci/era.ts';
import { loadScenarioFile } from '../scenario/load.ts';
import type { RigTopology } from './topologies.ts';

export interface ScenarioMeta {
  /** Repo-relative path. */
  file: string;
  /** Repo-relative path of its `topology:`, or null. */
  topology: string | null;
  era: Era | null;
  eras: readonly Era[] | null;
  /** Has `fault:`, `inject-error:` or `unbind-while-open:` steps (simulator only). */
  faults: boolean;
  /** Opens /dev/kvm (the TCG guest has none). */
  kvm: boolean;
}

export interface Selection {
  run: string[];
  /** Matched the topology but cannot run on a real kernel: file and why. */
  left: { file: string; why: string }[];
}

export const SCENARIO_DIRS = ['scenarios/conformance', 'scenarios/rig'] as const;

/** The era a kernel release belongs to, for scenario filtering (`6.1.0-56-amd64` → 6.1). */
export function eraOfRelease(release: string): Era {
  const m = /^(\d+)\.(\d+)/.exec(release);
  if (!m) return '6.1';
  const [maj, min] = [Number(m[1]), Number(m[2])];
  return maj > 6 || (maj === 6 && min >= 6) ? '6.6+' : '6.1';
}

export function appliesTo(s: ScenarioMeta, era: Era): boolean {
  if (s.era !== null && s.era !== era) return false;
  return s.eras === null || s.eras.includes(era);
}

/** Scenario files for one topology, in file-name order (the conformance files are numbered by §10 case). */
export function selectScenarios(t: RigTopology, all: readonly ScenarioMeta[], era: Era): Selection {
  const named = new Set(t.scenarios);
  const mine = all
    .filter(
      (s) => ((t.example !== null && s.topology === t.example) || named.has(s.file)) && appliesTo(s, era),
    )
    .sort((a, b) => fileOrder(a.file).localeCompare(fileOrder(b.file)) || a.file.localeCompare(b.file));
  return {
    run: mine.filter((s) => !s.faults && !s.kvm).map((s) => s.file),
    left: mine
      .filter((s) => s.faults || s.kvm)
      .map((s) => ({
        file: s.file,
        why: s.faults ? 'fault injection (simulator only)' : 'needs /dev/kvm (the TCG guest has no KVM)',
      })),
  };
}

/** Sort key: the base name (conformance and rig files interleave by number). */
function fileOrder(f: string): string {
  return f.slice(f.lastIndexOf('/') + 1);
}

export interface ScanResult {
  scenarios: ScenarioMeta[];
  /** Files that did not load: `file: message`. */
  broken: string[];
}

/** Reads every scenario file under `SCENARIO_DIRS` (missing directories are fine). */
export function scanScenarios(repo: string): ScanResult {
  const out: ScanResult = { scenarios: [], broken: [] };
  for (const dir of SCENARIO_DIRS) {
    let names: string[];
    try {
      names = readdirSync(join(repo, dir)).sort();
    } catch {
      continue;
    }
    for (const name of names.filter((n) => /\.(ya?ml|json)$/.test(n))) {
      const file = `${dir}/${name}`;
      try {
        const { scenario, dir: base } = loadScenarioFile(join(repo, file));
        out.scenarios.push({
          file,
          topology: scenario.topology ? relative(repo, resolve(base, scenario.topology)) : null,
          era: scenario.era ?? null,
          eras: scenario.eras ?? null,
          // Simulator-only steps: a real kernel skips them, and the steps after them then wait for an
          // event that never comes (inject-error) or block the guest (a real unbind-while-open).
          faults: scenario.steps.some(
            (st) => 'fault' in st || 'inject-error' in st || 'unbind-while-open' in st,
          ),
          kvm: scenario.steps.some((st) => 'open' in st && st.open === '/dev/kvm'),
        });
      } catch (e) {
        out.broken.push(`${file}: ${e instanceof Error ? e.message : String(e)}`);
      }
    }
  }
  return out;
}
