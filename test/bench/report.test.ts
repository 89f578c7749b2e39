import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { median, type Timing } from '../../bench/measure.ts';
import { type BenchResults, GOALS, goalRows, renderPerformanceDoc } from '../../bench/report.ts';

const timing = (medianUs: number): Timing => ({
  medianUs,
  meanUs: medianUs,
  p99Us: medianUs * 2,
  perSecond: 1e6 / medianUs,
  samples: 100,
});

function results(over: Partial<BenchResults> = {}): BenchResults {
  return {
    machine: {
      cpu: 'Test CPU',
      cores: 2,
      memoryGiB: 24,
      node: 'v20.0.0',
      kernel: '6.1.0',
      koffi: '3.3.4',
      lspci: 'lspci version 3.9.0',
      cc: 'gcc 12',
      date: '2026-01-01',
      loadAverage: 0.5,
    },
    lspci: {
      ok: true,
      value: { functions: 4096, scanMs: 300, scanTextMs: 250, lspciMs: 600, startupMs: 100, rounds: 7 },
    },
    scans: [{ functions: 256, source: 'dump', readMs: 4, computeMs: 1, jsonMs: 1, jsonMiB: 0.5 }],
    loads: [
      {
        format: 'yaml',
        functions: 256,
        groups: 250,
        loadMs: 20,
        buildMs: 1,
        groupsMs: 2,
        methodsMs: 1,
        baselineRssMiB: 90,
        maxRssMiB: 120,
        heapUsedMiB: 10,
      },
    ],
    queries: [1000, 100_000].map((functions) => ({
      functions,
      bootMs: 10,
      target: '0000:24:00.0',
      affected: 2,
      info: timing(4),
      protocol: timing(9),
      scope: timing(0.2),
      lastTarget: '0000:29:00.0',
      infoLast: timing(functions === 1000 ? 4 : 5),
      scopeLast: timing(0.2),
    })),
    ioctls: [
      { name: 'A', timing: timing(5) },
      { name: 'B', timing: timing(25) },
    ],
    ioctlC: {
      ok: true,
      value: {
        call: 'FIONREAD',
        path: '/x/.bench/f',
        cNs: 400,
        rawNs: 500,
        ioctlNs: 520,
        syscallsNs: 600,
        medianNs: { c: 420, raw: 540, ioctl: 560, syscalls: 650 },
        rounds: 7,
        calls: 1000,
      },
    },
    durations: { ok: false, why: 'no rig results under .rig/results' },
    ...over,
  };
}

describe('bench report', () => {
  it('judges every goal of the issue from the figures', () => {
    const rows = goalRows(results());
    const met = Object.fromEntries(rows.map((r) => [r.what.split(',')[0]!, r.met]));
    assert.equal(met['scan --json vs lspci -tv'], true); // 0.5×
    assert.equal(met['hot-reset INFO ioctl'], true); // 5 µs worst
    assert.equal(met["flat: largest host's median / smallest host's (INFO"], true); // 1.25×
    assert.equal(met['simulated ioctls per second through Syscalls (slowest request)'], false); // 40,000/s
    assert.equal(met['Linux backend ioctl() vs C'], true); // 1.3×
  });

  it('a goal missed by a hair is missed; a skipped measurement is neither met nor missed', () => {
    const slow = results({
      lspci: {
        ok: true,
        value: { functions: 4096, scanMs: 601, scanTextMs: 250, lspciMs: 600, startupMs: 100, rounds: 7 },
      },
      ioctlC: { ok: false, why: 'koffi is not usable' },
    });
    const rows = goalRows(slow);
    assert.equal(rows.find((r) => r.what.startsWith('scan'))!.met, false);
    assert.equal(rows.find((r) => r.what.startsWith('Linux backend'))!.met, null);
    assert.equal(GOALS.ioctlVsC, 1.6);
  });

  it('renders the page with the machine, the tables, and why a table was skipped', () => {
    const doc = renderPerformanceDoc(results());
    assert.match(doc, /^# Performance/);
    assert.match(doc, /\| CPU \| Test CPU, 2 cores \|/);
    assert.match(doc, /\| vfio-reset scan --json \| 300 \|/);
    assert.match(doc, /\| ratio \| 0\.50× \|/);
    assert.match(doc, /Skipped: no rig results under \.rig\/results\./);
    assert.match(doc, /\| C loop \| 400 \| 1\.00× \|/);
    assert.match(doc, /`\.bench\/f`/);
  });

  it('shows the rig run the durations came from, with the difference in percent', () => {
    const doc = renderPerformanceDoc(
      results({
        durations: {
          ok: true,
          run: { kernel: '6.1.0-56-amd64', when: '2026-11-21T19:36:10.734Z', topologies: ['sw'] },
          rows: [
            {
              topology: 'sw',
              scenario: '34-sw-hot-reset',
              step: '#5 hot-reset {"fds":["g"]}',
              real: 'ok',
              rigMs: 1000,
              simMs: 1100,
              sim: 'ok',
              note: null,
            },
          ],
        },
      }),
    );
    assert.match(doc, /From the rig run of 2026-11-21T19:36:10\.734Z \(kernel 6\.1\.0-56-amd64/);
    assert.match(
      doc,
      /\| sw \| 34-sw-hot-reset \| `#5 hot-reset \{"fds":\["g"\]\}` \| ok \| 1,000 \| 1,100 \| 10 % \|/,
    );
  });

  it('median takes the middle value, or the mean of the two middle ones', () => {
    assert.equal(median([3, 1, 2]), 2);
    assert.equal(median([4, 1, 3, 2]), 2.5);
    assert.ok(Number.isNaN(median([])));
  });
});
