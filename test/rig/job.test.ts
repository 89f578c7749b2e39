/** Job and results JSON, and how the closing line is counted. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  addTally,
  closingLine,
  emptyTally,
  type GuestResults,
  makeJob,
  parseJob,
  parseResults,
  tallyBoot,
  toJson,
} from '../../src/rig/job.ts';
import { topologyByName } from '../../src/rig/topologies.ts';
import type { ScenarioResult, StepResult } from '../../src/scenario/run.ts';

function step(index: number, met: boolean | null, note: string | null = null): StepResult {
  return {
    index,
    verb: 'open',
    label: null,
    text: `open /dev/vfio/${index}`,
    errno: null,
    rule: null,
    value: 1,
    durationMs: 1,
    met,
    note,
  };
}

function scenario(steps: StepResult[]): ScenarioResult {
  return {
    name: 's',
    target: 'linux',
    steps,
    passed: steps.filter((s) => s.met === true).length,
    failed: steps.filter((s) => s.met === false).length,
    skipped: steps.filter((s) => s.met === null).length,
  };
}

function results(scenarios: GuestResults['scenarios']): GuestResults {
  return {
    version: 1,
    topology: 'ppb',
    kernel: '6.1.0-56-amd64',
    cmdline: 'console=ttyS0 rig.repo=/r',
    timings: { nodeStartMs: 2000, setupMs: 10, dumpMs: 1000, scenariosMs: 500 },
    setup: [{ action: 'bind', bdf: '0000:02:01.0', want: 'vfio-pci', got: 'vfio-pci', error: null }],
    dump: { functions: 10, files: 150, links: 60 },
    state: [{ bdf: '0000:02:01.0', driver: 'vfio-pci', resetMethod: 'bus', group: 5 }],
    scenarios,
    bootKmsg: [],
    errors: [],
  };
}

describe('job JSON', () => {
  it('round-trips what the host writes', () => {
    const t = topologyByName('sriov')!;
    const job = makeJob(t, ['scenarios/rig/sriov-vf.yaml']);
    assert.deepEqual(parseJob(toJson(job)), job);
    assert.deepEqual(job.sriov, { pf: '0000:01:00.0', numvfs: 2 });
    assert.deepEqual(job.host, [{ bdf: '0000:01:00.0', driver: 'nvme' }]);
    assert.equal(job.out, '/tmp/out');
  });

  it('rejects a job from another version or with unknown fields', () => {
    const job = makeJob(topologyByName('rp')!, []);
    assert.throws(() => parseJob(JSON.stringify({ ...job, version: 2 })));
    assert.throws(() => parseJob(JSON.stringify({ ...job, extra: 1 })));
    assert.throws(() => parseJob('{"version":1'));
  });
});

describe('results JSON', () => {
  it('parses what the guest writes, BigInt fields as strings', () => {
    const r = results([
      {
        file: 'a.yaml',
        name: 'a',
        ms: 5,
        result: scenario([step(0, true)]),
        error: null,
        kmsg: [],
        restored: [],
      },
    ]);
    const text = toJson({ ...r, extra: 2n ** 64n });
    assert.match(text, /"extra": "18446744073709551616"/);
    assert.equal(parseResults(text).scenarios[0]?.result?.passed, 1);
  });

  it('rejects a half-written file and a wrong shape', () => {
    const text = toJson(results([]));
    assert.throws(() => parseResults(text.slice(0, text.length / 2)));
    assert.throws(() => parseResults(JSON.stringify({ ...results([]), scenarios: [{ file: 1 }] })));
  });
});

describe('tallyBoot', () => {
  it('counts steps; a failed step is listed with its note', () => {
    const r = results([
      {
        file: 'a.yaml',
        name: 'a',
        ms: 5,
        result: scenario([step(0, true), step(1, false, 'expected EBUSY, got ok'), step(2, null)]),
        error: null,
        kmsg: [],
        restored: [],
      },
    ]);
    const t = tallyBoot('ppb', ['a.yaml'], r, null);
    assert.deepEqual([t.passed, t.failed, t.skipped], [1, 1, 1]);
    assert.deepEqual(t.failures, ['ppb a.yaml step 2 (open /dev/vfio/1): expected EBUSY, got ok']);
  });

  it('counts a scenario that errored, and each one the guest never reached, as one failure', () => {
    const r = results([
      { file: 'a.yaml', name: null, ms: 1, result: null, error: 'bad file', kmsg: [], restored: [] },
    ]);
    const t = tallyBoot('ppb', ['a.yaml', 'b.yaml'], r, 'timed out after 240 s');
    assert.equal(t.failed, 2);
    assert.deepEqual(t.failures, ['ppb a.yaml: bad file', 'ppb b.yaml: not run (timed out after 240 s)']);
  });

  it('in advisory timing mode, a step that missed only its duration passes and is listed apart', () => {
    const r = results([
      {
        file: 'a.yaml',
        name: 'a',
        ms: 5,
        result: scenario([
          step(0, false, 'took 15.2 ms, expected 18–22 ms'),
          step(1, false, 'expected EBUSY, got ok'),
        ]),
        error: null,
        kmsg: [],
        restored: [],
      },
    ]);
    const strict = tallyBoot('ppb', ['a.yaml'], r, null);
    assert.deepEqual([strict.passed, strict.failed, strict.advisories.length], [0, 2, 0]);
    const advisory = tallyBoot('ppb', ['a.yaml'], r, null, { timingAdvisory: true });
    assert.deepEqual([advisory.passed, advisory.failed], [1, 1]);
    assert.deepEqual(advisory.advisories, [
      'ppb a.yaml step 1 (open /dev/vfio/0): took 15.2 ms, expected 18–22 ms',
    ]);
    assert.deepEqual(advisory.failures, ['ppb a.yaml step 2 (open /dev/vfio/1): expected EBUSY, got ok']);
  });

  it('counts a broken boot with no scenarios as one failure', () => {
    const t = tallyBoot('rp', [], null, 'QEMU exited 1');
    assert.equal(t.failed, 1);
  });
});

describe('closingLine', () => {
  it('is the plain "N passed, N failed" line, skips only when there are some', () => {
    const a = { ...emptyTally(), passed: 3, failed: 1 };
    assert.equal(closingLine(a), '3 passed, 1 failed');
    assert.equal(
      closingLine(addTally(a, { ...emptyTally(), passed: 1, skipped: 2 })),
      '4 passed, 1 failed, 2 skipped',
    );
  });
});
