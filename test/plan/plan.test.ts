/**
 * The planner on the bundled examples: groups to bind, QEMU's actions, verdicts with reasons,
 * collateral devices and warnings — and the simulated what-if agreeing with the plan.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { inventoryFrom } from '../../src/host/inventory.ts';
import { readSysfsHost } from '../../src/host/read-sysfs.ts';
import type { Era } from '../../src/pci/era.ts';
import type { HostDesc } from '../../src/pci/model.ts';
import { executeBind, executeRestore } from '../../src/plan/bind.ts';
import { assumedHostUse } from '../../src/plan/host-use.ts';
import { deviceMetrics } from '../../src/plan/metrics.ts';
import { buildPlan, type Plan } from '../../src/plan/plan.ts';
import { simulatedTiming } from '../../src/plan/timing.ts';
import { runWhatIf } from '../../src/plan/what-if.ts';
import { SimKernel } from '../../src/sim/kernel.ts';
import { loadTopologyFile } from '../../src/topology/load.ts';
import { resetCapabilitiesOf } from '../../src/vfio/strategy.ts';

function planOn(example: string, requested: string[], era: Era = '6.1', edit?: (d: HostDesc) => void) {
  const desc = loadTopologyFile(`examples/${example}.yaml`);
  edit?.(desc);
  const k = new SimKernel(desc, { era });
  const read = readSysfsHost(k.sysfs, example);
  const inv = inventoryFrom(read, `sim:${example}`, { era });
  const plan = buildPlan({
    inventory: inv,
    requested,
    capabilities: (b) => resetCapabilitiesOf(k.sysfs, b),
    hostUse: assumedHostUse(inv),
    predict: simulatedTiming(read.desc, era),
  });
  return { k, read, inv, plan };
}

const dev = (p: Plan, bdf: string) => p.devices.find((d) => d.bdf === bdf)!;

test('GPU + audio: one group to bind; FLR for the GPU, the audio only together with it at VM reset', () => {
  const { plan } = planOn('workstation', ['0000:01:00.0', '0000:01:00.1']);
  assert.deepEqual(
    plan.bind.groups.map((g) => g.members.map((m) => `${m.bdf} ${m.driver} ${m.action}`)),
    [['0000:01:00.0 nvidia bind', '0000:01:00.1 snd_hda_intel bind']],
  );
  const gpu = dev(plan, '0000:01:00.0');
  assert.deepEqual(gpu.verdict, { kind: 'resettable', by: 'function-reset', method: 'flr' });
  assert.equal(gpu.predicted?.ms, 105, 'FLR: msleep(100) rounded at HZ=250 plus the readiness poll');
  const audio = dev(plan, '0000:01:00.1');
  assert.equal(audio.verdict.kind, 'resettable-together');
  assert.deepEqual(audio.qemu, { needsReset: true, deviceReset: 'pm-reset', vmReset: 'hot-reset-multi' });
  assert.deepEqual(
    audio.passedOver.map((r) => r.code),
    ['function-reset-is-pm', 'scope-in-use'],
  );
  assert.equal(audio.predicted?.kind, 'hot');
  assert.deepEqual(plan.collateral, []);
  assert.ok(plan.warnings.some((w) => w.code === 'stale-bus-method' && w.bdf === '0000:01:00.0'));
});

test('the audio function alone: a single hot reset, and the GPU it hits is named as collateral', () => {
  const { plan } = planOn('workstation', ['0000:01:00.1']);
  assert.deepEqual(dev(plan, '0000:01:00.1').verdict, {
    kind: 'resettable',
    by: 'hot-reset-single',
    method: 'slot',
  });
  assert.deepEqual(plan.collateral, [
    {
      device: { bdf: '0000:01:00.0', driver: 'nvidia', group: 9 },
      hitBy: ['0000:01:00.1'],
      boundByPlan: true,
    },
  ]);
});

test('PH1 from the reset domain: a NIC below an acpiphp hotplug port is warned about, naming the port and slot', () => {
  const { plan } = planOn('qemu-rp', ['0000:01:00.0']);
  const w = plan.warnings.filter((x) => x.code === 'hotplug-port-plain-sbr');
  assert.deepEqual(
    w.map((x) => x.code === 'hotplug-port-plain-sbr' && [x.bdf, x.port.bdf, x.slotDriver]),
    [['0000:01:00.0', '0000:00:02.0', 'acpiphp']],
  );
});

test('a group holding a device the host uses: a warning naming it, and a bind refusal unless it is named', () => {
  const { plan } = planOn('workstation', ['0000:00:1f.3']);
  const w = plan.warnings.find((x) => x.code === 'host-device-in-group');
  assert.ok(w && w.code === 'host-device-in-group');
  assert.equal(w.device.bdf, '0000:00:1f.6');
  assert.equal(w.use.code, 'default-route');
  assert.equal(plan.bind.refusals.length, 1);
  const both = planOn('workstation', ['0000:00:1f.3', '0000:00:1f.6']).plan;
  assert.deepEqual(both.bind.refusals, []);
  assert.ok(both.warnings.some((x) => x.code === 'host-device-requested' && x.bdf === '0000:00:1f.6'));
  // Root-bus devices have no hot reset: the audio falls back to QEMU's PM reset.
  assert.equal(dev(plan, '0000:00:1f.3').qemu.vmReset, 'pm-reset');
  assert.ok(plan.warnings.some((x) => x.code === 'root-bus-device'));
  assert.ok(plan.warnings.some((x) => x.code === 'pm-reset-fallback'));
});

test('m2g: a hot reset that reaches into a group outside the plan is refused, naming the device', () => {
  // Without FLR the NIC port needs the bus reset, which also hits the other port, in another group.
  const noFlr = (d: HostDesc) => {
    for (const f of d.functions) if (f.pcie && f.bdf.bus === 1) f.pcie.flr = false;
  };
  const { plan } = planOn('m2g', ['0000:01:00.0'], '6.1', noFlr);
  const d = dev(plan, '0000:01:00.0');
  assert.equal(d.verdict.kind, 'resettable', 'QEMU falls back to the PM reset');
  const outside = d.passedOver.find((r) => r.code === 'scope-outside-set');
  assert.ok(outside && outside.code === 'scope-outside-set');
  assert.deepEqual(
    outside.devices.map((x) => x.bdf),
    ['0000:01:00.1'],
  );
  assert.deepEqual(
    plan.collateral.map((c) => [c.device.bdf, c.boundByPlan]),
    [['0000:01:00.1', false]],
  );
  // Named together, both groups are owned: the VM reset resets the bus for both.
  const together = planOn('m2g', ['0000:01:00.0', '0000:01:00.1'], '6.1', noFlr).plan;
  assert.equal(dev(together, '0000:01:00.0').verdict.kind, 'resettable-together');
  // With FLR (as the example is), QEMU never needs the bus reset.
  assert.equal(dev(planOn('m2g', ['0000:01:00.0']).plan, '0000:01:00.0').qemu.vmReset, 'function-reset');
});

test('slow resets: a root port whose link never comes back fails in the timing model', () => {
  for (const ex of ['qemu-rp', 'qemu-rpn', 'qemu-sw', 'qemu-ppb', 'qemu-mf', 'qemu-rp25', 'qemu-root']) {
    const { inv } = planOn(ex, []);
    const eps = inv.functions.filter((f) => !f.kind.endsWith('port') && !f.kind.endsWith('bridge'));
    const { plan } = planOn(
      ex,
      eps.map((f) => f.bdf),
    );
    for (const d of plan.devices) {
      if (d.predicted === null) continue;
      const slow = plan.warnings.some(
        (w) => (w.code === 'slow-reset' || w.code === 'reset-fails-in-model') && w.bdf === d.bdf,
      );
      assert.equal(slow, d.predicted.ms > 1000 || d.predicted.errno !== null, `${ex} ${d.bdf}`);
    }
  }
});

test('what-if on the simulated copy does what the plan says, in both modes', () => {
  for (const era of ['6.1', '6.6+'] as const) {
    const { read, plan } = planOn('workstation', ['0000:01:00.0', '0000:01:00.1'], era);
    const lines: string[] = [];
    const w = runWhatIf(read.desc, era, plan, {
      origin: 'test',
      progress: (d, t, what) => lines.push(`${d}/${t} ${what}`),
    });
    assert.equal(w.mode, era === '6.6+' ? 'cdev' : 'group');
    assert.ok(w.bind.every((b) => b.ok && b.to === 'vfio-pci'));
    for (const d of plan.devices) {
      const vm = w.vmReset.find((r) => r.bdf === d.bdf)!;
      assert.equal(vm.performed, d.qemu.vmReset, `${era} ${d.bdf} VM reset`);
      const alone = w.deviceResets.find((r) => r.bdf === d.bdf)!;
      assert.equal(alone.performed, d.qemu.deviceReset, `${era} ${d.bdf} device reset`);
    }
    assert.ok(lines.at(-1)?.endsWith('done'));
  }
});

test('bind then restore on the simulated kernel: the original drivers come back', () => {
  const { k, plan } = planOn('workstation', ['0000:08:00.0']);
  const run = executeBind(k, plan.bind);
  assert.ok(run.ok);
  assert.deepEqual(
    run.restore.map((r) => `${r.bdf} ${r.driver}`),
    ['0000:08:00.0 tg3', '0000:08:00.1 tg3'],
  );
  const steps = executeRestore(k, run.restore);
  assert.deepEqual(
    steps.map((s) => `${s.bdf} ${s.outcome} ${s.to}`),
    ['0000:08:00.0 restored tg3', '0000:08:00.1 restored tg3'],
  );
  assert.deepEqual(
    executeRestore(k, run.restore).map((s) => s.outcome),
    ['unchanged', 'unchanged'],
  );
});

test('a bind that fails stops there and keeps what was done in the record', () => {
  const { k, plan } = planOn('workstation', ['0000:08:00.0']);
  // An open device fd on 08:00.1 is not the case here; make drivers_probe fail instead: a PF with VFs is refused (S0).
  const bad = {
    ...plan.bind,
    groups: plan.bind.groups.map((g) => ({
      ...g,
      members: [{ ...g.members[0]!, bdf: '0000:09:00.0' }, ...g.members],
    })),
  };
  const run = executeBind(k, bad);
  assert.equal(run.ok, false);
  assert.match(run.steps[0]!.error ?? '', /0000:09:00\.0/);
  assert.equal(run.steps[1]!.error, 'not tried: an earlier bind failed');
  assert.equal(run.restore.length, 1);
});

test('fleet metrics: the verdict of each device given to a VM alone', () => {
  const { k, inv } = planOn('workstation', []);
  const m = deviceMetrics(inv, (b) => resetCapabilitiesOf(k.sysfs, b));
  const gpu = m.find((x) => x.bdf === '0000:01:00.0')!;
  assert.deepEqual(
    { ...gpu },
    {
      bdf: '0000:01:00.0',
      driver: 'nvidia',
      group: 9,
      resettable: true,
      resetMethods: 3,
      hotResetScope: 2,
      groupSize: 2,
      boundToVfio: false,
      blockers: 2,
    },
  );
  assert.ok(!m.some((x) => x.bdf === '0000:00:01.0'), 'bridges are not assignable');
  assert.ok(
    m.some((x) => !x.resettable),
    'something on this host has no reset at all',
  );
});
