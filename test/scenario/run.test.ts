import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseScenario } from '../../src/scenario/load.ts';
import { runScenario } from '../../src/scenario/run.ts';
import { simTarget } from '../../src/scenario/targets.ts';
import { simOf } from '../helpers/sim.ts';

const run = (yaml: string, example = 'qemu-ppb') =>
  runScenario(simTarget(simOf(example)), parseScenario(yaml, 'inline.yaml', { dir: null }));

const RECIPE = `name: t
steps:
  - { open: /dev/vfio/vfio, as: c }
  - { api-version: c, expect: 0 }
  - { open-group: "0000:02:01.0", as: g }
  - { group-status: { group: g }, expect: { flags: 1 } }
  - { set-container: { group: g, container: c } }
  - { set-iommu: { container: c, type: 3 } }
  - { get-device: { group: g, device: "0000:02:01.0", as: d } }
`;

test('each step records value or errno, the rule, the duration and whether it met its expectation', () => {
  const r = run(`${RECIPE}  - { device-info: { device: d }, expect: { flags: 2, numRegions: 9, numIrqs: 5 } }
  - { hot-reset-info: { device: d, argsz: 12 }, expect: { errno: ENOSPC, count: 2 } }
  - { hot-reset: { device: d, fds: [g] }, expect: ok, duration: { min: 12, max: 18 } }
  - { hot-reset: { device: d, fds: [g], flags: 1 }, expect: EINVAL }
  - { reset: d, expect: EINVAL }
`);
  assert.equal(
    r.failed,
    0,
    JSON.stringify(
      r.steps.filter((s) => s.met === false),
      null,
      1,
    ),
  );
  const flagsStep = r.steps.find((s) => s.verb === 'hot-reset' && s.errno === 'EINVAL')!;
  assert.ok(flagsStep.rule, 'the simulator names the rule behind EINVAL');
  const enospc = r.steps.find((s) => s.errno === 'ENOSPC')!;
  assert.deepEqual((enospc.value as { count: number }).count, 2, 'ENOSPC writes the header back (I4)');
});

test('an unmet expectation is reported with what was expected and what came', () => {
  const r = run(`${RECIPE}  - { reset: d, expect: ok }\n`);
  assert.equal(r.failed, 1);
  const bad = r.steps.find((s) => s.met === false)!;
  assert.match(bad.note ?? '', /^expected success, got EINVAL/);
});

test('a step without expect must succeed', () => {
  const r = run(`name: t\nsteps:\n  - { open: /dev/vfio/99 }\n`);
  assert.equal(r.steps[0]?.errno, 'ENOENT');
  assert.equal(r.steps[0]?.met, false);
});

test('bind / sysfs steps and faults drive the simulator; durations are virtual time', () => {
  const r = run(`${RECIPE}  - { fault: { kind: hold-memory-lock, device: "0000:02:01.1", held: true } }
  - { hot-reset: { device: d, fds: [g] }, expect: EBUSY }
  - { sysfs-read: bus/pci/devices/0000:02:01.0/reset_method, expect: { text: "bus\\n" } }
  - { sysfs-read: bus/pci/devices/0000:02:01.1/reset_method, expect: ENOENT }
  - { sysfs-read: bus/pci/devices/0000:02:01.0/reset_method, expect: { text: "pm\\n" } }
`);
  assert.equal(r.failed, 1, 'only the wrong text misses');
  assert.match(r.steps.at(-1)?.note ?? '', /expected \{"text":"pm\\n"\}, got ok \{"text":"bus\\n"\}/);
  assert.equal(r.steps.find((s) => s.verb === 'hot-reset')?.met, true);
});

test('faults are skipped, not failed, on a target without fault injection', () => {
  const k = simOf('qemu-ppb');
  const target = { kind: 'linux' as const, host: k, now: () => k.clock.now() };
  const r = runScenario(
    target,
    parseScenario(
      `name: t\nsteps:\n  - { fault: { kind: dirty, device: "0000:02:01.0", value: 1 } }\n`,
      'x.yaml',
      { dir: null },
    ),
  );
  assert.equal(r.skipped, 1);
  assert.equal(r.failed, 0);
});

test('error and release steps: simulator-only ones and eventfd waits are skipped where the target cannot do them', () => {
  const k = simOf('qemu-rp');
  const { eventfd: _e, readEventfd: _r, poll: _p, ...plain } = k.sys;
  const target = { kind: 'linux' as const, host: { sysfs: k.sysfs, sys: plain }, now: () => k.clock.now() };
  const r = runScenario(
    target,
    parseScenario(
      `name: t
steps:
  - { eventfd: e }
  - { inject-error: "0000:01:00.0" }
  - { unbind-while-open: "0000:01:00.0" }
`,
      'inline.yaml',
      { dir: null },
    ),
  );
  assert.deepEqual(
    r.steps.map((s) => s.note),
    [
      'this kernel interface has no eventfd/poll',
      'error injection exists only on the simulator',
      'a blocking unbind needs the simulator',
    ],
  );
  assert.equal(r.skipped, 3);
});

test('set-irq / wait-event / inject-error on the simulator: the owner sees the error', () => {
  const r = run(
    `name: t
steps:
  - { open: /dev/vfio/vfio, as: c }
  - { open-group: "0000:01:00.0", as: g }
  - { set-container: { group: g, container: c } }
  - { set-iommu: { container: c, type: 1 } }
  - { get-device: { group: g, device: "0000:01:00.0", as: d } }
  - { eventfd: e }
  - { set-irq: { device: d, index: err, fd: e } }
  - { wait-event: { fd: e, timeout: 50 }, expect: ETIMEDOUT, duration: { min: 50, max: 50 } }
  - { inject-error: "0000:01:00.0" }
  - { wait-event: { fd: e, timeout: 50 }, expect: { count: 1 } }
  - { region-info: { device: d, index: config }, expect: { flags: 3, size: 4096 } }
`,
    'qemu-rp',
  );
  assert.equal(r.failed, 0, JSON.stringify(r.steps.filter((s) => s.met === false)));
  assert.equal(r.passed, 11);
});
