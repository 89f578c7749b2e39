/** Differential conformance: how a kernel step and a simulator step are judged the same. */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import {
  canonical,
  compareGuestRun,
  compareStep,
  compareSteps,
  JITTER_FLOOR_MS,
  SYSCALL_CEILING_MS,
  TCG_STEP_OVERHEAD_MS,
} from '../../src/rig/differential.ts';
import type { GuestResults } from '../../src/rig/job.ts';
import { loadScenarioFile } from '../../src/scenario/load.ts';
import { runScenario, type StepResult } from '../../src/scenario/run.ts';
import { newSimTarget } from '../../src/scenario/targets.ts';
import { loadTopologyFile } from '../../src/topology/load.ts';

const REPO = join(import.meta.dirname, '../..');

function st(over: Partial<StepResult> = {}): StepResult {
  return {
    index: 0,
    verb: 'hot-reset',
    label: null,
    text: 'hot-reset d',
    errno: null,
    rule: null,
    value: 0,
    durationMs: 0,
    met: true,
    note: null,
    ...over,
  };
}

describe('compareStep', () => {
  it('agrees on equal errno and value; new fds agree whatever their number', () => {
    assert.deepEqual(compareStep(st(), st()).disagreements, []);
    const open = { verb: 'open-group', text: 'open-group 0000:01:00.0' };
    assert.deepEqual(compareStep(st({ ...open, value: 18 }), st({ ...open, value: 4 })).disagreements, []);
  });

  it('names a different errno and a different value (group ids in INFO lists count)', () => {
    const d = compareStep(st({ errno: 'EBUSY', value: null }), st({ errno: null, value: 0 })).disagreements;
    assert.deepEqual(
      d.map((x) => x.kind),
      ['errno', 'value'],
    );
    const info = (id: number) => ({ flags: 0, count: 1, devices: [{ bdf: '0000:01:00.0', id }] });
    const v = compareStep(
      st({ verb: 'hot-reset-info', value: info(5) }),
      st({ verb: 'hot-reset-info', value: info(6) }),
    ).disagreements;
    assert.equal(v[0]?.kind, 'value');
  });

  it('times waiting steps against simulated + overhead, ±10 % or two jiffies', () => {
    const sim = st({ durationMs: 2044 });
    const ok = 2044 + TCG_STEP_OVERHEAD_MS + 150;
    assert.deepEqual(compareStep(st({ durationMs: ok }), sim).disagreements, []);
    const off = compareStep(st({ durationMs: 2044 * 1.25 }), sim);
    assert.equal(off.timed, true);
    assert.equal(off.disagreements[0]?.kind, 'duration');
    // short steps: the two-jiffy floor
    const short = st({ durationMs: 13.2 });
    assert.deepEqual(
      compareStep(st({ durationMs: 13.2 + TCG_STEP_OVERHEAD_MS + JITTER_FLOOR_MS - 0.5 }), short)
        .disagreements,
      [],
    );
    assert.equal(
      compareStep(st({ durationMs: 13.2 + TCG_STEP_OVERHEAD_MS + JITTER_FLOOR_MS + 0.5 }), short)
        .disagreements[0]?.kind,
      'duration',
    );
  });

  it('holds an immediate step only to the syscall ceiling, and never times a driver bind', () => {
    assert.deepEqual(compareStep(st({ durationMs: 9 }), st({ durationMs: 0 })).disagreements, []);
    assert.equal(
      compareStep(st({ durationMs: SYSCALL_CEILING_MS + 1 }), st({ durationMs: 0 })).disagreements[0]?.kind,
      'duration',
    );
    const bind = { verb: 'bind', value: 'e1000' };
    assert.deepEqual(
      compareStep(st({ ...bind, durationMs: 330 }), st({ ...bind, durationMs: 0 })).disagreements,
      [],
    );
  });

  it('ignores a step the kernel skipped (a fault), but not its absence', () => {
    assert.deepEqual(compareStep(st({ met: null, errno: null }), st({ errno: 'EIO' })).disagreements, []);
    const missing = compareSteps([st()], [st(), st({ index: 1 })]);
    assert.deepEqual(missing[1]?.disagreements, [{ kind: 'missing', side: 'real' }]);
  });
});

describe('canonical', () => {
  it('ignores key order and writes BigInt as results.json does', () => {
    assert.equal(canonical({ b: 1, a: [2n] }), canonical({ a: ['2'], b: 1 }));
  });
});

describe('compareGuestRun', () => {
  it('reruns each scenario the guest ran on the simulator and finds the same outcome', () => {
    // A guest run as the simulator itself would produce it: every step must agree with itself.
    const file = 'scenarios/conformance/26-ppb-hot-reset.yaml';
    const desc = loadTopologyFile(join(REPO, 'examples/qemu-ppb.yaml'));
    const { scenario } = loadScenarioFile(join(REPO, file));
    const result = runScenario(newSimTarget(desc, '6.1'), scenario);
    const real = {
      ...result,
      steps: result.steps.map((s) => ({ ...s, durationMs: s.durationMs + TCG_STEP_OVERHEAD_MS })),
    };
    const guest = {
      topology: 'ppb',
      kernel: '6.1.0-56-amd64',
      scenarios: [{ file, name: scenario.name, ms: 1, result: real, error: null, kmsg: [], restored: [] }],
    } as unknown as GuestResults;
    const cmp = compareGuestRun(REPO, desc, guest);
    assert.equal(cmp.scenarios[0]?.error, null);
    assert.deepEqual(
      cmp.scenarios[0]?.steps.flatMap((s) => s.disagreements),
      [],
    );
    assert.ok(
      cmp.scenarios[0]?.steps.some((s) => s.timed),
      'the bus resets are timed',
    );
  });
});
