import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import type { Era } from '../../src/pci/era.ts';
import {
  addTimeContext,
  formatResetMethods,
  functionResetOutcome,
  initResetMethods,
  knownResetMethods,
  maxResetMethods,
  parseResetMethodWrite,
  probeBusMethod,
  probeMethod,
  probeResetMethods,
  RESET_METHODS,
  type ResetMethod,
  type ResetProbeContext,
  RUNTIME_CONTEXT,
  resetChain2013,
  resetSupported,
  slotPathProbe,
} from '../../src/pci/reset-methods.ts';
import { Topology } from '../../src/pci/topology.ts';
import { generateHost } from '../../src/topology/generate.ts';
import {
  conventional,
  endpoint,
  hostBridge,
  pciBridge,
  rootPort,
  slot,
  topo,
  upstreamPort,
} from '../helpers/builders.ts';
import { NVME, rigMF, rigPPB, rigRP, rigSW } from '../helpers/rig-twins.ts';

const fn = (t: Topology, bdf: string) => t.get(`0000:${bdf}`)!;

test('M1: every method whose probe passes is listed, in priority order; a success does not stop probing', () => {
  const t = topo([
    hostBridge(),
    rootPort('00:02.0', 1),
    endpoint('01:00.0', {
      vendor: 0x8086,
      device: 0x0156, // reset_ivb_igd: device_specific
      acpiReset: true,
      af: { tp: true, flr: true },
      pm: { noSoftReset: false },
      pcieOver: { flr: true },
    }),
  ]);
  assert.deepEqual(initResetMethods(t).get('0000:01:00.0'), [
    'device_specific',
    'acpi',
    'flr',
    'af_flr',
    'pm',
    'bus',
  ]);
});

test('M1: a probe error other than ENOTTY stops probing; later methods are not listed', () => {
  const t = rigRP();
  const f = fn(t, '01:00.0');
  const probe = (g: typeof f, m: ResetMethod, ctx: ResetProbeContext) =>
    m === 'af_flr' ? 'EIO' : probeMethod(g, m, ctx);
  assert.deepEqual(probeResetMethods(f, RUNTIME_CONTEXT, RESET_METHODS, probe), []);
  const probePm = (g: typeof f, m: ResetMethod, ctx: ResetProbeContext) =>
    m === 'bus' ? 'EIO' : probeMethod(g, m, ctx);
  assert.deepEqual(probeResetMethods(f, RUNTIME_CONTEXT, RESET_METHODS, probePm), ['pm']);
});

test('M1/M3: QEMU nvme behind xio3130 lists flr bus; pm is absent because its PMCSR sets No_Soft_Reset', () => {
  const t = rigSW();
  assert.deepEqual(initResetMethods(t).get('0000:03:00.0'), ['flr', 'bus']);
  // With No_Soft_Reset clear the success of flr would not stop probing: pm would be listed too.
  const t2 = topo([
    hostBridge(),
    rootPort('00:05.0', 1),
    endpoint('01:00.0', { ...NVME, pm: { noSoftReset: false } }),
  ]);
  assert.deepEqual(initResetMethods(t2).get('0000:01:00.0'), ['flr', 'pm', 'bus']);
});

test('M2/M3: the rig e1000e alone behind a root port (acpiphp slot) lists pm bus', () => {
  const t = rigRP();
  const f = fn(t, '01:00.0');
  assert.deepEqual(initResetMethods(t).get(f.name), ['pm', 'bus']);
  // acpiphp registers before the scan, so dev->slot is set, but it has no reset_slot: parent-bus path.
  assert.equal(addTimeContext(f).slotOf(f), f.slot);
  assert.deepEqual(probeBusMethod(f, addTimeContext(f)), { result: 0, via: 'parent-bus' });
});

test('M2/M3 (§9.3 PPB): fn 0 gets [bus], fn 1 gets [] because fn 0 is already on the bus when fn 1 is probed', () => {
  const lists = initResetMethods(rigPPB());
  assert.deepEqual(lists.get('0000:02:01.0'), ['bus']);
  assert.deepEqual(lists.get('0000:02:01.1'), []);
  // Y1/M7: fn 1 therefore gets neither `reset` nor `reset_method`.
  assert.equal(resetSupported(lists.get('0000:02:01.1')!), false);
});

test('M3: MF e1000e — fn 0 gets pm bus, fn 1 gets pm only', () => {
  const lists = initResetMethods(rigMF());
  assert.deepEqual(lists.get('0000:01:00.0'), ['pm', 'bus']);
  assert.deepEqual(lists.get('0000:01:00.1'), ['pm']);
});

test('M3: second function on a bus does not get bus, even as a separate single-function device', () => {
  const t = topo([hostBridge(), pciBridge('00:1e.0', 1), conventional('01:00.0'), conventional('01:01.0')]);
  const lists = initResetMethods(t);
  assert.deepEqual(lists.get('0000:01:00.0'), ['bus']);
  assert.deepEqual(lists.get('0000:01:01.0'), []);
});

test('M2: the add-time context holds only earlier functions, pre-scan slots and the header multifunction bit', () => {
  const t = rigPPB();
  const f0 = fn(t, '02:01.0');
  const f1 = fn(t, '02:01.1');
  assert.deepEqual(addTimeContext(f0).busDevices(f0.bus), []);
  assert.deepEqual(addTimeContext(f1).busDevices(f1.bus), [f0]);
  // pci_scan_slot forces multifunction for fn > 0 only after pci_device_add returned.
  assert.equal(addTimeContext(f1).multifunction!(f1), false);
  assert.equal(f1.multifunction, true);
  const rpn = rigRP('pciehp');
  const e = fn(rpn, '01:00.0');
  assert.equal(addTimeContext(e).slotOf(e), null);
  assert.equal(RUNTIME_CONTEXT.slotOf(e), e.slot);
});

test('M3: with native pciehp the boot-time bus comes from the parent-bus path; at reset time the slot path runs', () => {
  const t = rigRP('pciehp');
  const f = fn(t, '01:00.0');
  assert.deepEqual(initResetMethods(t).get(f.name), ['pm', 'bus']);
  assert.deepEqual(probeBusMethod(f, addTimeContext(f)), { result: 0, via: 'parent-bus' });
  const out = functionResetOutcome(f, ['bus'], RUNTIME_CONTEXT);
  assert.deepEqual(out, {
    method: 'bus',
    via: 'slot',
    errno: 0,
    tried: [{ method: 'bus', via: 'slot', result: 0 }],
  });
});

test('M3: a reset-capable slot set at probe time gives bus to a later single-function device (slot path)', () => {
  const t = topo(
    [hostBridge(), pciBridge('00:1e.0', 1), conventional('01:00.0'), conventional('01:01.0')],
    [slot(1, 'a', 'pnv_php', 0), slot(1, 'b', 'pnv_php', 1)],
  );
  const f = fn(t, '01:01.0');
  const ctx: ResetProbeContext = { ...addTimeContext(f), slotOf: (g) => g.slot };
  assert.deepEqual(probeBusMethod(f, ctx), { result: 0, via: 'slot' });
  // The slot path ignores pci_slot_resettable: NO_BUS_RESET on the bridge above does not matter here.
  const t2 = topo(
    [hostBridge(), pciBridge('00:1e.0', 1, { quirks: ['NO_BUS_RESET'] }), conventional('01:00.0')],
    [slot(1, 'a', 'pnv_php', 0)],
  );
  assert.equal(slotPathProbe(fn(t2, '01:00.0'), RUNTIME_CONTEXT), 0);
});

test('M3: the slot path refuses multifunction devices, bridges and NO_BUS_RESET functions', () => {
  const t = topo(
    [
      hostBridge(),
      rootPort('00:02.0', 1),
      endpoint('01:00.0', { multifunctionBit: true }),
      rootPort('00:03.0', 2, { bridge: { secondary: 2, subordinate: 3 } }),
      upstreamPort('02:00.0', 3, 3),
      rootPort('00:04.0', 4),
      endpoint('04:00.0', { quirks: ['NO_BUS_RESET'] }),
    ],
    [slot(1, 'a', 'pciehp'), slot(2, 'b', 'pciehp'), slot(4, 'c', 'pciehp')],
  );
  for (const b of ['01:00.0', '02:00.0', '04:00.0'])
    assert.equal(slotPathProbe(fn(t, b), RUNTIME_CONTEXT), 'ENOTTY', b);
  // The lone multifunction endpoint still resets via the parent-bus path; NO_BUS_RESET blocks both paths.
  assert.deepEqual(probeBusMethod(fn(t, '01:00.0'), RUNTIME_CONTEXT), { result: 0, via: 'parent-bus' });
  assert.deepEqual(probeBusMethod(fn(t, '04:00.0'), RUNTIME_CONTEXT), { result: 'ENOTTY', via: null });
});

test('M4 (§9.3 PPB): fn 0 keeps its cached bus, but at reset time the bus method fails with ENOTTY', () => {
  const t = rigPPB();
  const f0 = fn(t, '02:01.0');
  const cached = initResetMethods(t).get(f0.name)!;
  assert.deepEqual(cached, ['bus']);
  assert.deepEqual(functionResetOutcome(f0, cached, RUNTIME_CONTEXT), {
    method: null,
    errno: 'ENOTTY',
    tried: [{ method: 'bus', via: 'parent-bus', result: 'ENOTTY' }],
  });
});

test('M5: the first method returning 0 wins; later ones are not run', () => {
  const f = fn(rigRP(), '01:00.0');
  const out = functionResetOutcome(f, ['pm', 'bus'], RUNTIME_CONTEXT);
  assert.deepEqual(out, { method: 'pm', errno: 0, tried: [{ method: 'pm', result: 0 }] });
});

test('M5: a result other than ENOTTY ends the walk without fallback', () => {
  const f = fn(rigRP(), '01:00.0');
  const ctx: ResetProbeContext = { ...RUNTIME_CONTEXT, attempt: (_f, m) => (m === 'pm' ? 'EINVAL' : 0) };
  const out = functionResetOutcome(f, ['pm', 'bus'], ctx);
  assert.deepEqual(out, { method: 'pm', errno: 'EINVAL', tried: [{ method: 'pm', result: 'EINVAL' }] });
});

test('M5: ENOTTY from a run (failed post-SBR wait) moves on; a list of only bus then ends in ENOTTY', () => {
  const f = fn(rigRP(), '01:00.0');
  const ctx: ResetProbeContext = { ...RUNTIME_CONTEXT, attempt: (_f, m) => (m === 'bus' ? 'ENOTTY' : 0) };
  assert.equal(functionResetOutcome(f, ['bus'], ctx).errno, 'ENOTTY');
  const out = functionResetOutcome(f, ['bus', 'pm'], ctx);
  assert.equal(out.method, 'pm');
  assert.deepEqual(
    out.tried.map((a) => [a.method, a.result]),
    [
      ['bus', 'ENOTTY'],
      ['pm', 0],
    ],
  );
});

test('M5: when reset_slot returns ENOTTY, pci_reset_bus_function falls back to the parent-bus path', () => {
  const f = fn(rigRP('pciehp'), '01:00.0');
  const ctx: ResetProbeContext = {
    ...RUNTIME_CONTEXT,
    attempt: (_f, _m, via) => (via === 'slot' ? 'ENOTTY' : 0),
  };
  assert.deepEqual(functionResetOutcome(f, ['bus'], ctx), {
    method: 'bus',
    via: 'parent-bus',
    errno: 0,
    tried: [
      { method: 'bus', via: 'slot', result: 'ENOTTY' },
      { method: 'bus', via: 'parent-bus', result: 0 },
    ],
  });
});

test('M5/M6/M7: an empty list gives ENOTTY and reset is not supported', () => {
  const f = fn(rigRP(), '01:00.0');
  assert.deepEqual(functionResetOutcome(f, [], RUNTIME_CONTEXT), {
    method: null,
    errno: 'ENOTTY',
    tried: [],
  });
  assert.equal(resetSupported([]), false);
  assert.equal(resetSupported(['pm']), true);
});

test('M8: [2013] probes at call time in device-specific, FLR, AF FLR, PM, slot, parent-bus order', () => {
  assert.deepEqual(resetChain2013(fn(rigRP(), '01:00.0'), RUNTIME_CONTEXT), {
    method: 'pm',
    errno: 0,
    tried: [{ method: 'pm', result: 0 }],
  });
  assert.equal(resetChain2013(fn(rigSW(), '03:00.0'), RUNTIME_CONTEXT).method, 'flr');
  // No cache, so no stale bus: both PPB functions see their sibling and fail.
  const t = rigPPB();
  for (const b of ['02:01.0', '02:01.1']) {
    assert.deepEqual(resetChain2013(fn(t, b), RUNTIME_CONTEXT), { method: null, errno: 'ENOTTY', tried: [] });
  }
  // Run results other than ENOTTY stop the chain, as in 6.x.
  const ctx: ResetProbeContext = { ...RUNTIME_CONTEXT, attempt: (_f, m) => (m === 'pm' ? 'ENOTTY' : 0) };
  assert.deepEqual(resetChain2013(fn(rigRP(), '01:00.0'), ctx), {
    method: 'bus',
    via: 'parent-bus',
    errno: 0,
    tried: [
      { method: 'pm', result: 'ENOTTY' },
      { method: 'bus', via: 'parent-bus', result: 0 },
    ],
  });
});

test('M8: [2013] the slot path wants no other function in the slot instead of !multifunction', () => {
  const t = topo(
    [hostBridge(), rootPort('00:02.0', 1), endpoint('01:00.0', { multifunctionBit: true })],
    [slot(1, '2', 'pciehp')],
  );
  const f = fn(t, '01:00.0');
  assert.deepEqual(probeBusMethod(f, RUNTIME_CONTEXT), { result: 0, via: 'parent-bus' });
  assert.equal(resetChain2013(f, RUNTIME_CONTEXT).via, 'slot');
  const t2 = topo(
    [
      hostBridge(),
      rootPort('00:02.0', 1),
      endpoint('01:00.0', { multifunctionBit: true }),
      endpoint('01:00.1'),
    ],
    [slot(1, '2', 'pciehp')],
  );
  assert.equal(resetChain2013(fn(t2, '01:00.0'), RUNTIME_CONTEXT).errno, 'ENOTTY');
});

test('M8: [2013] no acpi method and no NO_BUS_RESET / NO_FLR_RESET / NO_PM_RESET flags', () => {
  const t = topo([
    hostBridge(),
    rootPort('00:02.0', 1),
    endpoint('01:00.0', { quirks: ['NO_BUS_RESET'] }),
    rootPort('00:03.0', 2),
    endpoint('02:00.0', { quirks: ['NO_FLR_RESET'], pcieOver: { flr: true } }),
    endpoint('00:1f.0', { acpiReset: true }),
  ]);
  const lists = initResetMethods(t);
  assert.deepEqual(lists.get('0000:01:00.0'), []);
  assert.equal(resetChain2013(fn(t, '01:00.0'), RUNTIME_CONTEXT).via, 'parent-bus');
  assert.deepEqual(lists.get('0000:02:00.0'), ['bus']);
  assert.equal(resetChain2013(fn(t, '02:00.0'), RUNTIME_CONTEXT).method, 'flr');
  assert.deepEqual(lists.get('0000:00:1f.0'), ['acpi']);
  assert.equal(resetChain2013(fn(t, '00:1f.0'), RUNTIME_CONTEXT).errno, 'ENOTTY');
});

test('Y2: reading reset_method prints names joined by spaces plus a newline; an empty list reads as nothing', () => {
  assert.equal(formatResetMethods(['pm', 'bus']), 'pm bus\n');
  assert.equal(formatResetMethods(['bus']), 'bus\n');
  assert.equal(formatResetMethods([]), '');
});

test('Y3: the empty string, a lone newline or only spaces disable every method', () => {
  const f = fn(rigRP(), '01:00.0');
  for (const text of ['', '\n', '   ', '  \n']) {
    const r = parseResetMethodWrite(text, f, RUNTIME_CONTEXT, '6.1');
    assert.ok(r.ok, JSON.stringify(text));
    assert.deepEqual(r.list, []);
  }
});

test('Y3 (§9.3 PPB): default re-probes now and drops bus from fn 0; writing bus is then Unsupported', () => {
  const f0 = fn(rigPPB(), '02:01.0');
  assert.deepEqual(parseResetMethodWrite('default\n', f0, RUNTIME_CONTEXT, '6.1'), {
    ok: true,
    list: [],
    log: [],
  });
  assert.deepEqual(parseResetMethodWrite('bus', f0, RUNTIME_CONTEXT, '6.1'), {
    ok: false,
    errno: 'EINVAL',
    message: "Unsupported reset method 'bus'",
  });
  // M2: default with the add-time view would have listed bus again.
  assert.deepEqual(parseResetMethodWrite('default', f0, addTimeContext(f0), '6.1'), {
    ok: true,
    list: ['bus'],
    log: [],
  });
});

test('Y3: names must be known; cxl_bus is unknown on 6.1 and known but unsupported where it exists', () => {
  const f = fn(rigRP(), '01:00.0');
  const bad = (text: string, era: Era) => {
    const r = parseResetMethodWrite(text, f, RUNTIME_CONTEXT, era);
    assert.equal(r.ok, false);
    return r.ok ? '' : r.message;
  };
  assert.equal(bad('nosuch', '6.1'), "Invalid reset method 'nosuch'");
  assert.equal(bad(' default', '6.1'), "Invalid reset method 'default'");
  assert.equal(bad('pm\tbus', '6.1'), "Invalid reset method 'pm\tbus'");
  assert.equal(bad('cxl_bus', '6.1'), "Invalid reset method 'cxl_bus'");
  assert.equal(bad('cxl_bus', '6.6+'), "Unsupported reset method 'cxl_bus'");
  assert.equal(bad('flr', '6.1'), "Unsupported reset method 'flr'");
  // The first bad token decides.
  assert.equal(bad('nosuch flr', '6.1'), "Invalid reset method 'nosuch'");
  assert.equal(bad('flr nosuch', '6.1'), "Unsupported reset method 'flr'");
  assert.deepEqual(parseResetMethodWrite('pm', f, RUNTIME_CONTEXT, '2013'), {
    ok: false,
    errno: 'ENOENT',
    message: 'no reset_method attribute before Linux 5.15',
  });
});

test('Y3: the written order is kept, duplicates are accepted, extra spaces and a trailing newline are ignored', () => {
  const f = fn(rigRP(), '01:00.0');
  const ok = (text: string) => {
    const r = parseResetMethodWrite(text, f, RUNTIME_CONTEXT, '6.1');
    assert.ok(r.ok, text);
    return r.list;
  };
  assert.deepEqual(ok('bus pm'), ['bus', 'pm']);
  assert.deepEqual(ok('pm  pm\n'), ['pm', 'pm']);
  assert.deepEqual(ok(' bus\n'), ['bus']);
});

test('Y3: more than 6 entries fail on 6.1; 7 are accepted where cxl_bus exists (6.12+), 8 are not', () => {
  const f = fn(rigRP(), '01:00.0');
  const times = (n: number) => Array(n).fill('pm').join(' ');
  assert.equal(maxResetMethods('6.1'), 6);
  assert.equal(maxResetMethods('6.6+'), 7);
  assert.equal(maxResetMethods('6.6+', { cxlBus: false }), 6);
  assert.equal(maxResetMethods('2013'), 0);
  assert.ok(parseResetMethodWrite(times(6), f, RUNTIME_CONTEXT, '6.1').ok);
  assert.deepEqual(parseResetMethodWrite(times(7), f, RUNTIME_CONTEXT, '6.1'), {
    ok: false,
    errno: 'EINVAL',
    message: 'Too many reset methods',
  });
  assert.equal(parseResetMethodWrite(times(7), f, RUNTIME_CONTEXT, '6.6+', { cxlBus: false }).ok, false);
  assert.ok(parseResetMethodWrite(times(7), f, RUNTIME_CONTEXT, '6.6+').ok);
  assert.equal(parseResetMethodWrite(times(8), f, RUNTIME_CONTEXT, '6.6+').ok, false);
  assert.deepEqual(knownResetMethods('6.1'), RESET_METHODS.slice(0, 6));
});

test('Y3: a warning is logged when device_specific is supported but not written first', () => {
  const t = topo([
    hostBridge(),
    rootPort('00:02.0', 1),
    endpoint('01:00.0', { vendor: 0x8086, device: 0x0156 }),
  ]);
  const f = fn(t, '01:00.0');
  assert.deepEqual(parseResetMethodWrite('bus', f, RUNTIME_CONTEXT, '6.1'), {
    ok: true,
    list: ['bus'],
    log: ['Device-specific reset disabled/de-prioritized by user'],
  });
  assert.deepEqual(parseResetMethodWrite('device_specific bus', f, RUNTIME_CONTEXT, '6.1'), {
    ok: true,
    list: ['device_specific', 'bus'],
    log: [],
  });
});

const RUNS = { numRuns: 250 };

test('M1/M3 property: add-time lists follow RESET_METHODS priority order without repeats', () => {
  fc.assert(
    fc.property(fc.integer(), (seed) => {
      const t = Topology.build(generateHost(seed));
      for (const list of initResetMethods(t).values()) {
        const idx = list.map((m) => RESET_METHODS.indexOf(m));
        assert.deepEqual(
          idx,
          [...idx].sort((a, b) => a - b),
        );
        assert.equal(new Set(list).size, list.length);
      }
    }),
    RUNS,
  );
});

test('M3 property: an add-time list never has bus for a function with an earlier sibling on its bus, unless via the slot path', () => {
  fc.assert(
    fc.property(fc.integer(), (seed) => {
      const t = Topology.build(generateHost(seed));
      const lists = initResetMethods(t);
      for (const f of t.functions) {
        if (!lists.get(f.name)!.includes('bus')) continue;
        const earlier = f.bus.devices.some((d) => d.addIndex < f.addIndex);
        if (earlier) assert.equal(slotPathProbe(f, addTimeContext(f)), 0, f.name);
      }
    }),
    RUNS,
  );
});

test('M4 property: a cached bus on a function that now shares its bus fails at reset time unless the slot path applies', () => {
  fc.assert(
    fc.property(fc.integer(), (seed) => {
      const t = Topology.build(generateHost(seed));
      const lists = initResetMethods(t);
      for (const f of t.functions) {
        if (!lists.get(f.name)!.includes('bus') || f.bus.devices.length < 2) continue;
        const out = functionResetOutcome(f, ['bus'], RUNTIME_CONTEXT);
        assert.equal(out.errno, slotPathProbe(f, RUNTIME_CONTEXT) === 0 ? 0 : 'ENOTTY', f.name);
      }
    }),
    RUNS,
  );
});

test('Y2/Y3 property: a list read back and written is accepted unchanged', () => {
  fc.assert(
    fc.property(fc.integer(), fc.constantFrom<Era>('6.1', '6.6+'), (seed, era) => {
      const t = Topology.build(generateHost(seed));
      for (const f of t.functions) {
        const now = parseResetMethodWrite('default', f, RUNTIME_CONTEXT, era);
        assert.ok(now.ok);
        const again = parseResetMethodWrite(formatResetMethods(now.list), f, RUNTIME_CONTEXT, era);
        assert.ok(again.ok, f.name);
        assert.deepEqual(again.list, now.list);
      }
    }),
    RUNS,
  );
});
