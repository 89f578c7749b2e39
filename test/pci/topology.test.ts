import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { Topology, TopologyError } from '../../src/pci/topology.ts';
import { generateHost } from '../../src/topology/generate.ts';
import {
  conventional,
  endpoint,
  host,
  hostBridge,
  pcieToPciBridge,
  rootPort,
  slot,
  topo,
} from '../helpers/builders.ts';

test('links bridges to their secondary buses and functions to their buses', () => {
  const t = topo([hostBridge(), rootPort('00:01.0', 1), endpoint('01:00.0')]);
  const ep = t.get('0000:01:00.0')!;
  assert.equal(ep.bus.self?.name, '0000:00:01.0');
  assert.equal(t.get('0000:00:01.0')!.subordinate?.name, '0000:01');
  assert.deepEqual(
    t.rootBuses.map((b) => b.name),
    ['0000:00'],
  );
  assert.deepEqual(
    Topology.upstreamBridges(ep).map((f) => f.name),
    ['0000:00:01.0'],
  );
});

test('M2/A6: functions are added bus by bus in devfn order, then the buses below bridges depth first', () => {
  const t = topo([
    hostBridge(),
    rootPort('00:01.0', 1),
    rootPort('00:02.0', 3),
    pcieToPciBridge('01:00.0', 2),
    conventional('02:01.0'),
    endpoint('03:00.0'),
    endpoint('00:1f.0'),
  ]);
  assert.deepEqual(
    t.functions.map((f) => f.name),
    [
      '0000:00:00.0',
      '0000:00:01.0',
      '0000:00:02.0',
      '0000:00:1f.0',
      '0000:01:00.0',
      '0000:02:01.0',
      '0000:03:00.0',
    ],
  );
  assert.deepEqual(
    t.functions.map((f) => f.addIndex),
    [0, 1, 2, 3, 4, 5, 6],
  );
});

test('multifunction is the header bit, forced for every function at fn > 0', () => {
  const t = topo([hostBridge(), endpoint('00:03.0', { multifunctionBit: true }), endpoint('00:03.1')]);
  assert.equal(t.get('0000:00:03.0')!.multifunction, true);
  assert.equal(t.get('0000:00:03.1')!.multifunction, true);
});

test('slots attach to the functions at their device number', () => {
  const t = topo([hostBridge(), rootPort('00:01.0', 1), endpoint('01:00.0')], [slot(1, '7', 'pciehp')]);
  assert.equal(t.get('0000:01:00.0')!.slot?.desc.name, '7');
});

test('table quirks are applied by vendor/device', () => {
  const t = topo([
    hostBridge(),
    rootPort('00:01.0', 1),
    endpoint('01:00.0', { vendor: 0x168c, device: 0x0030 }),
  ]);
  assert.ok(t.get('0000:01:00.0')!.quirks.has('NO_BUS_RESET'));
});

function issuesOf(f: () => unknown): string[] {
  try {
    f();
  } catch (e) {
    if (e instanceof TopologyError) return e.issues.map((i) => `${i.where}: ${i.message}`);
    throw e;
  }
  return [];
}

test('a description Linux could not enumerate is refused with every problem named', () => {
  const issues = issuesOf(() =>
    Topology.build(
      host(
        [
          hostBridge(),
          endpoint('00:02.0'),
          endpoint('00:02.0'),
          endpoint('00:03.1'),
          endpoint('00:04.0'),
          endpoint('00:04.2'),
          rootPort('00:05.0', 1),
          endpoint('01:01.0'),
        ],
        [slot(9, 'x', 'pciehp')],
      ),
    ),
  );
  assert.ok(issues.some((i) => i.startsWith('0000:00:02.0: appears twice')));
  assert.ok(issues.some((i) => i.startsWith('0000:00:03.1: has no function 0')));
  assert.ok(
    issues.some((i) =>
      i.startsWith('0000:00:04.2: function 0 (0000:00:04.0) does not set the multi-function header bit'),
    ),
  );
  assert.ok(issues.some((i) => i.includes('0000:01:01.0: sits at device 1 below PCIe port 0000:00:05.0')));
  assert.ok(issues.some((i) => i.startsWith('slot x: is on bus 0000:09')));
});

test('bridges claiming one bus, or a bus not above their own, are refused', () => {
  const issues = issuesOf(() =>
    topo([hostBridge(), rootPort('00:01.0', 1), rootPort('00:02.0', 1), rootPort('00:03.0', 0)]),
  );
  assert.ok(issues.some((i) => i.includes('claims secondary bus 0000:01, which 0000:00:01.0 already owns')));
  assert.ok(issues.some((i) => i.includes('must be above its own bus')));
});

test('property: every generated host builds, and functions are in add order exactly once', () => {
  fc.assert(
    fc.property(fc.integer(), (seed) => {
      const t = Topology.build(generateHost(seed));
      const names = t.functions.map((f) => f.name);
      assert.equal(new Set(names).size, names.length);
      for (const [i, f] of t.functions.entries()) assert.equal(f.addIndex, i);
      // A bridge is always added before everything below it.
      for (const f of t.functions)
        for (const up of Topology.upstreamBridges(f)) assert.ok(up.addIndex < f.addIndex);
    }),
    { numRuns: 300 },
  );
});
