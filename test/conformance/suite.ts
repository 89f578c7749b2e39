/**
 * The kernel-semantics §10 conformance suite: every `scenarios/conformance/*.yaml`, once per era it
 * lists, against a `ScenarioTarget` that a factory builds fresh for each run. The simulator is one
 * such target (`scenarios.test.ts`); a real kernel in the QEMU rig is meant to be another — same
 * files, same assertions, only the factory changes.
 *
 * A run passes when every step met its expectation. Files with `fault` steps need a target that
 * injects faults; on other targets they are skipped rather than failed.
 * @module
 */

import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { test } from 'node:test';
import { ERAS, type Era } from '../../src/pci/era.ts';
import { loadScenarioFile } from '../../src/scenario/load.ts';
import {
  runScenario,
  type ScenarioResult,
  type ScenarioTarget,
  type StepResult,
} from '../../src/scenario/run.ts';
import { type Scenario, SIMULATOR_ONLY_VERBS, type Step } from '../../src/scenario/schema.ts';

/** Where the suite's files live, relative to the repository root (the tests' working directory). */
export const CONFORMANCE_DIR = 'scenarios/conformance';

/** One file of the suite. */
export interface ConformanceFile {
  /** Path as found (directory joined with the file name). */
  path: string;
  scenario: Scenario;
  /** Absolute path of the topology the file names, or null when it names none. */
  topology: string | null;
  /** The §10 scenario numbers the file checks (numbers in `checks`), in file order. */
  numbers: number[];
  /** Eras the file applies to (`eras`, else `era`, else every era). */
  eras: readonly Era[];
  /** True when a step injects a fault: only a target that can inject runs it. */
  needsFaults: boolean;
}

/** What a target factory is told about the run it builds a kernel for. */
export interface ConformanceRun {
  file: ConformanceFile;
  era: Era;
}

/** Builds a fresh target (a freshly booted kernel of the file's topology and era) for one run. */
export type MakeTarget = (run: ConformanceRun) => ScenarioTarget;

export interface ConformanceOptions {
  /** Directory of the suite (default `scenarios/conformance`). */
  dir?: string;
  /** Eras the target can provide; runs of other eras are not registered (default: all). */
  eras?: readonly Era[];
  /** Only files for which this returns true (e.g. a real rig without a topology). */
  filter?: (file: ConformanceFile) => boolean;
  /** Prefix for test titles, e.g. `linux 6.1.0-56: ` (default none). */
  titlePrefix?: string;
}

/** Every `*.yaml` of `dir`, sorted by name, loaded and checked by the scenario loader. */
export function conformanceFiles(dir: string = CONFORMANCE_DIR): ConformanceFile[] {
  return readdirSync(dir)
    .filter((n) => n.endsWith('.yaml'))
    .sort()
    .map((name) => {
      const path = join(dir, name);
      const { scenario, dir: base } = loadScenarioFile(path);
      return {
        path,
        scenario,
        topology: scenario.topology === undefined ? null : resolve(base, scenario.topology),
        numbers: (scenario.checks ?? []).filter((c): c is number => typeof c === 'number'),
        eras: scenario.eras ?? (scenario.era ? [scenario.era] : ERAS),
        needsFaults: scenario.steps.some((s) => SIMULATOR_ONLY_VERBS.some((v) => v in s)),
      };
    });
}

/** `§10 #<n> <name> [<era>]`, the title of one run. */
export function conformanceTitle(file: ConformanceFile, era: Era): string {
  const n = file.numbers[0];
  return `§10 #${n ?? '?'} ${file.scenario.name} [${era}]`;
}

/** What a step asked for, in one line: its expectation (default: success) and duration bounds. */
function expected(step: Step): string {
  const e = step.expect ?? 'ok';
  const d = step.duration;
  const time = d ? ` in ${d.min ?? 0}–${d.max ?? '∞'} ms` : '';
  return `${typeof e === 'string' ? e : JSON.stringify(e)}${time}`;
}

/** What a step got, in one line: the errno (and rule) or the value, and how long it took. */
function got(s: StepResult): string {
  const what =
    s.errno !== null
      ? `${s.errno}${s.rule ? ` [rule ${s.rule}]` : ''}`
      : `ok${s.value === null || s.value === undefined ? '' : ` ${JSON.stringify(s.value)}`}`;
  return `${what} in ${s.durationMs.toFixed(1)} ms`;
}

/** The steps that missed their expectation, with index, text, expected and got; empty when all passed. */
export function failedSteps(scenario: Scenario, result: ScenarioResult): string[] {
  return result.steps
    .filter((s) => s.met === false)
    .map((s) => {
      const label = s.label ? ` (${s.label})` : '';
      const step = scenario.steps[s.index]!;
      return `  step ${s.index}${label}: ${s.text}\n    expected ${expected(step)}\n    got      ${got(s)}`;
    });
}

/** Runs one file on one target and throws an assertion error naming every failed step. */
export function assertConformance(file: ConformanceFile, target: ScenarioTarget): ScenarioResult {
  let result: ScenarioResult;
  try {
    result = runScenario(target, file.scenario);
  } catch (e) {
    // The runner only lets errors that are not kernel refusals through (e.g. a sysfs read of an
    // absent file): the run stops there, so say which file and what.
    const why = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
    assert.fail(`${file.path}: the runner stopped with ${why}`);
  }
  const failed = failedSteps(file.scenario, result);
  assert.ok(
    failed.length === 0,
    `${file.path}: ${failed.length} of ${result.steps.length} steps failed\n${failed.join('\n')}`,
  );
  return result;
}

/**
 * Registers one `node:test` test per (file, era): `§10 #<n> <name> [<era>]`. Each builds a fresh
 * target with `makeTarget` and asserts that every step met its expectation.
 */
export function runConformance(makeTarget: MakeTarget, options: ConformanceOptions = {}): void {
  const eras = options.eras ?? ERAS;
  for (const file of conformanceFiles(options.dir)) {
    if (options.filter && !options.filter(file)) continue;
    for (const era of file.eras) {
      if (!eras.includes(era)) continue;
      test(`${options.titlePrefix ?? ''}${conformanceTitle(file, era)}`, (t) => {
        const target = makeTarget({ file, era });
        if (file.needsFaults && !target.inject) {
          t.skip('injects faults: simulator-only');
          return;
        }
        assertConformance(file, target);
      });
    }
  }
}
