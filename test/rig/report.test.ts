/** docs/conformance.md as rendered from a rig run. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { TopologyComparison } from '../../src/rig/differential.ts';
import type { GuestResults } from '../../src/rig/job.ts';
import { CORRECTIONS, type ReportInput, renderConformanceReport, totals } from '../../src/rig/report.ts';

function input(disagree: boolean): ReportInput {
  const steps = [
    {
      index: 0,
      verb: 'open',
      text: 'open /dev/vfio/vfio',
      errno: null,
      value: 3,
      durationMs: 0.5,
      met: true,
    },
    { index: 1, verb: 'hot-reset', text: 'hot-reset d', errno: null, value: 0, durationMs: 16, met: true },
  ];
  const results = {
    topology: 'ppb',
    kernel: '6.1.0-56-amd64',
    scenarios: [
      {
        file: 'scenarios/conformance/26-ppb-hot-reset.yaml',
        name: 'ppb-hot-reset',
        result: { passed: 2, failed: 0, skipped: 0, steps },
        error: null,
      },
    ],
  } as unknown as GuestResults;
  const comparison: TopologyComparison = {
    topology: 'ppb',
    kernel: '6.1.0-56-amd64',
    scenarios: [
      {
        file: 'scenarios/conformance/26-ppb-hot-reset.yaml',
        name: 'ppb-hot-reset',
        error: null,
        steps: [
          {
            index: 0,
            text: 'open /dev/vfio/vfio',
            verb: 'open',
            realMs: 0.5,
            simMs: 0,
            timed: false,
            disagreements: [],
          },
          {
            index: 1,
            text: 'hot-reset d',
            verb: 'hot-reset',
            realMs: 16,
            simMs: 13.2,
            timed: true,
            disagreements: disagree ? [{ kind: 'errno', real: 'EBUSY', sim: null }] : [],
          },
        ],
      },
    ],
  };
  return {
    kernel: '6.1.0-56-amd64',
    ranAt: '2026-11-21',
    qemu: '7.2.19',
    topologies: [
      {
        name: 'ppb',
        summary: '',
        results,
        problem: null,
        comparison,
        modelDifferences: [],
        notRun: [{ file: 'scenarios/conformance/38-ppb-lock.yaml', why: 'fault injection (simulator only)' }],
      },
      {
        name: 'root',
        summary: '',
        results: null,
        problem: 'timed out after 120 s',
        comparison: null,
        modelDifferences: [],
        notRun: [],
      },
    ],
  };
}

describe('renderConformanceReport', () => {
  it('lists topology × scenario with the verdict, the waiting steps and the corrections', () => {
    const md = renderConformanceReport(input(false));
    assert.match(md, /\| ppb \| 26-ppb-hot-reset \| 2 \| 2\/2 \| agree \|/);
    assert.match(md, /\| ppb \| 38-ppb-lock \| — \| not run: fault injection/);
    assert.match(md, /\| root \| — \| 0 \| — \| \*\*no run\*\*: timed out after 120 s \|/);
    assert.match(md, /## Disagreements\n\nNone\./);
    assert.match(md, /\| ppb \| 26-ppb-hot-reset \| 2 `hot-reset d` \| 16\.0 \| 13\.2 \|/);
    for (const c of CORRECTIONS) assert.ok(md.includes(c.rule), c.rule);
    assert.match(md, /\*\*2 steps compared, 2 agree, 0 disagree\*\*/);
  });

  it('spells out each disagreement', () => {
    const md = renderConformanceReport(input(true));
    assert.match(md, /\*\*disagree\*\* \(1 step\)/);
    assert.match(md, /ppb 26-ppb-hot-reset step 2 `hot-reset d`: errno: kernel EBUSY, simulator ok/);
    assert.deepEqual(totals(input(true)), {
      scenarios: 1,
      steps: 2,
      metOnKernel: 2,
      agreeing: 1,
      disagreeing: 1,
      uncompared: 0,
    });
  });
});
