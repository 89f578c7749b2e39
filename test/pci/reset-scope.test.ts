import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import type { Era } from '../../src/pci/era.ts';
import {
  busResetBlocker,
  busScope,
  hotResetScope,
  isBelowSlot,
  pciResetBusTarget,
  probeResetBus,
  probeResetSlot,
  slotResetBlocker,
  slotScope,
} from '../../src/pci/reset-scope.ts';
import { Topology } from '../../src/pci/topology.ts';
import { generateHost } from '../../src/topology/generate.ts';
import { conventional, endpoint, hostBridge, pciBridge, rootPort, slot, topo } from '../helpers/builders.ts';
import { rigPPB, rigRP, rigSW } from '../helpers/rig-twins.ts';

const fn = (t: Topology, bdf: string) => t.get(`0000:${bdf}`)!;
const names = (fs: readonly { name: string }[]) => fs.map((f) => f.name.slice(5));

/**
 * A conventional bus 02 with three pnv_php slots (drivers with reset_slot): a two-function device at
 * 01, a bridge at 02 with an endpoint behind it, and an endpoint at 03.
 */
function multiSlot(quirkAt?: string) {
  const q = (bdf: string) => (bdf === quirkAt ? { quirks: ['NO_BUS_RESET' as const] } : {});
  return topo(
    [
      hostBridge(),
      rootPort('00:1c.0', 1, { bridge: { secondary: 1, subordinate: 3 }, ...q('00:1c.0') }),
      pciBridge('01:00.0', 2, { bridge: { secondary: 2, subordinate: 3 }, ...q('01:00.0') }),
      conventional('02:01.0', { multifunctionBit: true, ...q('02:01.0') }),
      conventional('02:01.1', q('02:01.1')),
      pciBridge('02:02.0', 3, q('02:02.0')),
      conventional('03:00.0', q('03:00.0')),
      conventional('02:03.0', q('02:03.0')),
    ],
    [slot(2, 'p1', 'pnv_php', 1), slot(2, 'p2', 'pnv_php', 2), slot(2, 'p3', 'pnv_php', 3)],
  );
}

test('P1: a null slot, or a slot whose driver has no reset_slot, cannot be reset; pciehp can', () => {
  assert.equal(probeResetSlot(null, '6.1'), 'ENOTTY');
  assert.deepEqual(slotResetBlocker(null, '6.1'), { code: 'no-slot' });
  for (const d of ['acpiphp', 'shpchp', 'pci_slot'] as const) {
    const s = fn(rigRP(d), '01:00.0').slot;
    assert.equal(probeResetSlot(s, '6.1'), 'ENOTTY', d);
    assert.deepEqual(slotResetBlocker(s, '6.1'), { code: 'no-reset-slot', slot: '2', driver: d });
  }
  for (const era of ['2013', '6.1', '6.6+'] as const)
    assert.equal(probeResetSlot(fn(rigRP('pciehp'), '01:00.0').slot, era), 0);
});

test('P1: NO_BUS_RESET on the bridge above slot->bus, on a function in the slot, or below a bridge in it blocks the slot', () => {
  const cases: [string, string, string][] = [
    ['01:00.0', 'p1', '01:00.0'], // bridge above the slot's bus
    ['02:01.1', 'p1', '02:01.1'], // a function of the slot
    ['03:00.0', 'p2', '03:00.0'], // below a bridge in the slot
  ];
  for (const [quirk, slotName, on] of cases) {
    const t = multiSlot(quirk);
    const s = t.slots.find((x) => x.desc.name === slotName)!;
    assert.deepEqual(
      slotResetBlocker(s, '6.1'),
      { code: 'no-bus-reset', on: `0000:${on}`, slot: slotName },
      quirk,
    );
    assert.equal(probeResetSlot(s, '6.6+'), 'ENOTTY');
    assert.equal(probeResetSlot(s, '2013'), 0, 'NO_BUS_RESET did not exist in 2013');
  }
  // A quirk in another slot of the same bus does not matter.
  const t = multiSlot('02:03.0');
  assert.equal(probeResetSlot(t.slots.find((x) => x.desc.name === 'p1')!, '6.1'), 0);
});

test('P2: a root bus cannot be reset; a bridge secondary bus can unless NO_BUS_RESET sits on its bridge or on/below it', () => {
  const t = multiSlot();
  assert.equal(probeResetBus(fn(t, '00:1c.0').bus, '6.1'), 'ENOTTY');
  assert.deepEqual(busResetBlocker(fn(t, '00:1c.0').bus, '6.1'), { code: 'root-bus', bus: '0000:00' });
  assert.equal(probeResetBus(fn(t, '02:01.0').bus, '6.1'), 0);
  for (const [quirk, on] of [
    ['01:00.0', '01:00.0'],
    ['02:03.0', '02:03.0'],
    ['03:00.0', '03:00.0'],
  ]) {
    const bus = fn(multiSlot(quirk), '02:01.0').bus;
    assert.deepEqual(busResetBlocker(bus, '6.1'), { code: 'no-bus-reset', on: `0000:${on}`, bus: '0000:02' });
    assert.equal(probeResetBus(bus, '6.6+'), 'ENOTTY');
    assert.equal(probeResetBus(bus, '2013'), 0, '2013 checks bus->self only');
  }
  // The grandparent's quirk is not part of this bus's check.
  assert.equal(probeResetBus(fn(multiSlot('00:1c.0'), '02:01.0').bus, '6.1'), 0);
});

test('P2: SR-IOV VFs on a virtual bus (no bridge) cannot be bus-reset', () => {
  const t = topo([
    hostBridge(),
    rootPort('00:02.0', 1),
    endpoint('01:00.0', { sriov: { totalVfs: 2, numVfs: 2, vfDeviceId: 0x10ed } }),
    endpoint('02:00.0', { virtfn: true }),
    endpoint('02:00.1', { virtfn: true }),
  ]);
  assert.deepEqual(busResetBlocker(fn(t, '02:00.0').bus, '6.1'), { code: 'virtual-bus', bus: '0000:02' });
  const scope = hotResetScope(fn(t, '02:00.1'), '6.1');
  assert.equal(scope.kind, 'none');
  if (scope.kind === 'none') assert.equal(scope.reason.code, 'virtual-bus');
});

test('P3: pci_reset_bus picks the slot when its probe passes, else the bus (even if the bus probe then fails)', () => {
  assert.deepEqual(pciResetBusTarget(fn(rigRP('pciehp'), '01:00.0'), '6.1').kind, 'slot');
  const t = rigRP('acpiphp');
  assert.deepEqual(pciResetBusTarget(fn(t, '01:00.0'), '6.1'), {
    kind: 'bus',
    bus: fn(t, '01:00.0').bus,
    probe: 0,
  });
  const root = topo([hostBridge(), endpoint('00:03.0')]);
  assert.deepEqual(pciResetBusTarget(fn(root, '00:03.0'), '6.1'), {
    kind: 'bus',
    bus: fn(root, '00:03.0').bus,
    probe: 'ENOTTY',
  });
});

test('Q1/Q3/I3: bus scope is everything on the bus and below, depth-first pre-order, without the bridge above', () => {
  const t = multiSlot();
  assert.deepEqual(names(busScope(fn(t, '02:01.0').bus)), [
    '02:01.0',
    '02:01.1',
    '02:02.0',
    '03:00.0',
    '02:03.0',
  ]);
  const sw = rigSW();
  const scope = hotResetScope(fn(sw, '01:00.0'), '6.1');
  assert.equal(scope.kind, 'bus');
  if (scope.kind === 'bus') {
    assert.equal(scope.bridge.name, '0000:00:05.0');
    assert.deepEqual(names(scope.functions), ['01:00.0', '02:00.0', '03:00.0']);
  }
});

test('Q2: slot scope is the functions of the slot plus everything behind bridges in it', () => {
  const t = multiSlot();
  const slotOf = (name: string) => t.slots.find((s) => s.desc.name === name)!;
  assert.deepEqual(names(slotScope(slotOf('p1'))), ['02:01.0', '02:01.1']);
  assert.deepEqual(names(slotScope(slotOf('p2'))), ['02:02.0', '03:00.0']);
  assert.equal(isBelowSlot(fn(t, '03:00.0'), slotOf('p2')), true);
  assert.equal(isBelowSlot(fn(t, '03:00.0'), slotOf('p1')), false);
  const scope = hotResetScope(fn(t, '02:01.1'), '6.1');
  assert.equal(scope.kind, 'slot');
  if (scope.kind === 'slot') {
    assert.equal(scope.slot.desc.name, 'p1');
    assert.equal(scope.bridge.name, '0000:01:00.0');
    assert.deepEqual(names(scope.functions), ['02:01.0', '02:01.1']);
  }
  // For a downstream port with one slot, slot scope equals bus scope.
  const rpn = rigRP('pciehp');
  const e = fn(rpn, '01:00.0');
  assert.deepEqual(slotScope(e.slot!), busScope(e.bus));
});

test('I2: a slot scope is preferred; acpiphp slots fall back to the bus scope', () => {
  const rpn = hotResetScope(fn(rigRP('pciehp'), '01:00.0'), '6.1');
  assert.equal(rpn.kind, 'slot');
  const rp = hotResetScope(fn(rigRP('acpiphp'), '01:00.0'), '6.1');
  assert.equal(rp.kind, 'bus');
  if (rp.kind === 'bus') {
    assert.equal(rp.bridge.name, '0000:00:02.0');
    assert.deepEqual(names(rp.functions), ['01:00.0']);
  }
});

test('I2/I3 (§9.3 PPB): both e1000 functions, in devfn order, with the pcie-pci-bridge as bridge', () => {
  const t = rigPPB();
  for (const b of ['02:01.0', '02:01.1']) {
    const s = hotResetScope(fn(t, b), '6.1');
    assert.equal(s.kind, 'bus');
    if (s.kind === 'bus') {
      assert.equal(s.bridge.name, '0000:01:00.0');
      assert.deepEqual(names(s.functions), ['02:01.0', '02:01.1']);
    }
  }
  const sw = hotResetScope(fn(rigSW(), '03:00.0'), '6.1');
  assert.equal(sw.kind === 'bus' && sw.bridge.name, '0000:02:00.0');
});

test('I2: a root-bus device gets ENODEV; so does a bus with NO_BUS_RESET below, naming the culprit', () => {
  const root = hotResetScope(fn(topo([hostBridge(), endpoint('00:03.0')]), '00:03.0'), '6.1');
  assert.deepEqual(root, {
    kind: 'none',
    errno: 'ENODEV',
    reason: { code: 'root-bus', bus: '0000:00' },
    slotReason: { code: 'no-slot' },
  });
  const t = multiSlot('03:00.0');
  const s = hotResetScope(fn(t, '02:02.0'), '6.1');
  assert.deepEqual(s, {
    kind: 'none',
    errno: 'ENODEV',
    reason: { code: 'no-bus-reset', on: '0000:03:00.0', bus: '0000:02' },
    slotReason: { code: 'no-bus-reset', on: '0000:03:00.0', slot: 'p2' },
  });
  // Other slots of the same bus only check their own functions, so they keep their slot scope.
  assert.equal(hotResetScope(fn(t, '02:03.0'), '6.1').kind, 'slot');
  assert.equal(hotResetScope(fn(t, '02:01.0'), '6.1').kind, 'slot');
  // [2013] had no NO_BUS_RESET.
  assert.equal(hotResetScope(fn(t, '02:02.0'), '2013').kind, 'slot');
});

test('P1/P3/I2: a reset-capable slot on a bus without a bridge probes 0, but is not modelled as a slot scope', () => {
  const t = topo([hostBridge(), endpoint('00:03.0')], [slot(0, 'z1', 's390_pci_hpc', 3)]);
  const f = fn(t, '00:03.0');
  assert.equal(probeResetSlot(f.slot, '6.1'), 0);
  assert.equal(pciResetBusTarget(f, '6.1').kind, 'slot');
  const s = hotResetScope(f, '6.1');
  assert.equal(s.kind, 'none');
  if (s.kind === 'none') assert.deepEqual(s.slotReason, { code: 'slot-without-bridge', slot: 'z1' });
});

const RUNS = { numRuns: 250 };
const eraArb = fc.constantFrom<Era>('2013', '6.1', '6.6+');

test('Q1/I2 property: a scope never contains the bridge above the reset bus, and always contains the function', () => {
  fc.assert(
    fc.property(fc.integer(), eraArb, (seed, era) => {
      const t = Topology.build(generateHost(seed));
      for (const f of t.functions) {
        const s = hotResetScope(f, era);
        if (s.kind === 'none') continue;
        assert.ok(!s.functions.includes(s.bridge), f.name);
        assert.ok(s.functions.includes(f), f.name);
      }
    }),
    RUNS,
  );
});

test('Q2 property: slot scope is a subset of the bus scope of the same function, in the same order', () => {
  fc.assert(
    fc.property(fc.integer(), eraArb, (seed, era) => {
      const t = Topology.build(generateHost(seed));
      for (const f of t.functions) {
        const all = busScope(f.bus);
        if (f.slot) {
          const sub = slotScope(f.slot);
          assert.deepEqual(
            sub,
            all.filter((d) => sub.includes(d)),
          );
        }
        const s = hotResetScope(f, era);
        if (s.kind === 'slot')
          assert.ok(
            s.functions.every((d) => all.includes(d)),
            f.name,
          );
      }
    }),
    RUNS,
  );
});

test('Q1/Q2 property: every function in a scope is below the scope bridge', () => {
  fc.assert(
    fc.property(fc.integer(), eraArb, (seed, era) => {
      const t = Topology.build(generateHost(seed));
      for (const f of t.functions) {
        const s = hotResetScope(f, era);
        if (s.kind === 'none') continue;
        for (const d of s.functions)
          assert.ok(Topology.upstreamBridges(d).includes(s.bridge), `${d.name} / ${f.name}`);
      }
    }),
    RUNS,
  );
});

test('P3/I2 property: pci_reset_bus targets the scope hot reset reports', () => {
  fc.assert(
    fc.property(fc.integer(), eraArb, (seed, era) => {
      const t = Topology.build(generateHost(seed));
      for (const f of t.functions) {
        const s = hotResetScope(f, era);
        const target = pciResetBusTarget(f, era);
        if (s.kind === 'slot') assert.deepEqual(target, { kind: 'slot', slot: s.slot });
        if (s.kind === 'bus') assert.deepEqual(target, { kind: 'bus', bus: s.bus, probe: 0 });
        if (s.kind === 'none' && target.kind === 'bus') assert.equal(target.probe, 'ENOTTY');
      }
    }),
    RUNS,
  );
});
