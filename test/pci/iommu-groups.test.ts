import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { acsEnabled, acsPathEnabled } from '../../src/pci/acs.ts';
import { dmaAliasDevfns, dmaAliases, formatAlias, isBridgeXlateRoot } from '../../src/pci/dma-alias.ts';
import { computeIommuGroups, type IommuGroups } from '../../src/pci/iommu-groups.ts';
import type { FunctionDesc, PcieCap } from '../../src/pci/model.ts';
import { Topology } from '../../src/pci/topology.ts';
import { generateHost } from '../../src/topology/generate.ts';
import {
  conventional,
  downstreamPort,
  endpoint,
  FULL_ACS,
  hostBridge,
  pciBridge,
  pcieToPciBridge,
  rootPort,
  topo,
  upstreamPort,
} from '../helpers/builders.ts';

function noAcs(d: FunctionDesc): FunctionDesc {
  const { acs: _drop, ...rest } = d;
  return rest;
}

const pciToPcie: PcieCap = {
  type: 'pci-to-pcie',
  flr: false,
  linkSpeedCode: 1,
  linkSpeedsVector: 1,
  linkWidth: 1,
  dllActiveReporting: false,
  linkActive: true,
};

/** Group members by name, for readable assertions. */
function groupNames(g: IommuGroups, name: string): string[] {
  const id = g.groupOf(name);
  assert.notEqual(id, null, `${name} has no group`);
  return g.members(id!).map((f) => f.name);
}

function aliasList(t: Topology, name: string): string[] {
  return dmaAliases(t.get(name)!).map((a) => `${formatAlias(a)}<${a.device.name}:${a.via}>`);
}

// QEMU facts (kernel-semantics §6, kernel-rig.md): pcie-root-port advertises SV|TB|RR|CR|UF|DT and
// resets ACS Control to 0; Linux with an IOMMU enables SV|RR|CR|UF at enumeration.
const QEMU_RP_ACS = { cap: 0x5f, ctrl: 0x1d };
const qemuRootPort = (bdf: string, sec: number, sub = sec) =>
  rootPort(bdf, sec, {
    bridge: { secondary: sec, subordinate: sub },
    acs: QEMU_RP_ACS,
    multifunctionBit: bdf.endsWith('.0'),
  });

/** A q35 guest like the rig's: every building block of kernel-rig.md in one machine. */
function qemuQ35(): Topology {
  return topo([
    hostBridge('00:00.0'), // q35 MCH, conventional
    qemuRootPort('00:02.0', 1),
    qemuRootPort('00:02.1', 2, 4),
    qemuRootPort('00:02.2', 5),
    qemuRootPort('00:02.3', 6, 7),
    conventional('00:04.0'), // e1000 on pcie.0
    conventional('00:1f.0', { device: 0x2918, classCode: 0x060100, multifunctionBit: true }), // ICH9 LPC
    conventional('00:1f.2', { device: 0x2922, classCode: 0x010601 }), // ICH9 AHCI
    conventional('00:1f.3', { device: 0x2930, classCode: 0x0c0500 }), // ICH9 SMBus
    endpoint('01:00.0', { vendor: 0x8086, device: 0x10d3 }), // e1000e
    noAcs(upstreamPort('02:00.0', 3, 4, { vendor: 0x104c, device: 0x8232 })), // x3130-upstream
    noAcs(downstreamPort('03:00.0', 4, { vendor: 0x104c, device: 0x8233 })), // xio3130-downstream: no ACS
    endpoint('04:00.0', { vendor: 0x1b36, device: 0x0010, classCode: 0x010802 }), // nvme
    endpoint('05:00.0', { vendor: 0x8086, device: 0x10d3, multifunctionBit: true }), // e1000e fn 0
    endpoint('05:00.1', { vendor: 0x8086, device: 0x10d3 }), // e1000e fn 1
    pcieToPciBridge('06:00.0', 7), // pcie-pci-bridge
    conventional('07:01.0', { multifunctionBit: true }), // e1000
    conventional('07:01.1'), // e1000
  ]);
}

test('A3: a PCIe endpoint below root and switch ports has only its own requester ID', () => {
  const t = qemuQ35();
  assert.deepEqual(aliasList(t, '0000:04:00.0'), ['0000:04:00.0<0000:04:00.0:self>']);
});

test('A3: a PCIe-to-PCI bridge aliases everything behind it as (secondary bus, 00.0) and is the alias device', () => {
  const t = qemuQ35();
  assert.deepEqual(aliasList(t, '0000:07:01.1'), [
    '0000:07:01.1<0000:07:01.1:self>',
    '0000:07:00.0<0000:06:00.0:pcie-to-pci>',
  ]);
});

test('A3: a conventional bridge aliases as its own requester ID; below a PCIe-to-PCI bridge both add one', () => {
  const t = topo([
    hostBridge(),
    rootPort('00:01.0', 1, { bridge: { secondary: 1, subordinate: 3 } }),
    pcieToPciBridge('01:00.0', 2, { bridge: { secondary: 2, subordinate: 3 } }),
    pciBridge('02:03.0', 3),
    conventional('03:05.0'),
  ]);
  assert.deepEqual(aliasList(t, '0000:03:05.0'), [
    '0000:03:05.0<0000:03:05.0:self>',
    '0000:02:03.0<0000:02:03.0:conventional>',
    '0000:02:00.0<0000:01:00.0:pcie-to-pci>',
  ]);
});

test('A3: a conventional bridge with PCIE_BRIDGE_ALIAS aliases as its secondary bus 00.0 (ASMedia ASM1083 table entry)', () => {
  const t = topo([
    hostBridge(),
    rootPort('00:01.0', 1, { bridge: { secondary: 1, subordinate: 2 } }),
    pciBridge('01:00.0', 2, { vendor: 0x1b21, device: 0x1080 }),
    conventional('02:04.0'),
    rootPort('00:02.0', 3, { bridge: { secondary: 3, subordinate: 4 } }),
    pciBridge('03:00.0', 4, { quirks: ['PCIE_BRIDGE_ALIAS'] }),
    conventional('04:04.0'),
  ]);
  assert.deepEqual(aliasList(t, '0000:02:04.0'), [
    '0000:02:04.0<0000:02:04.0:self>',
    '0000:02:00.0<0000:01:00.0:pcie-bridge-alias>',
  ]);
  assert.deepEqual(aliasList(t, '0000:04:04.0')[1], '0000:04:00.0<0000:03:00.0:pcie-bridge-alias>');
});

test('A3: a PCI-to-PCIe bridge aliases as its own requester ID', () => {
  const t = topo([
    hostBridge(),
    pciBridge('00:1e.0', 1, { bridge: { secondary: 1, subordinate: 2 } }),
    pciBridge('01:02.0', 2, { pcie: pciToPcie }),
    endpoint('02:00.0'),
  ]);
  assert.deepEqual(aliasList(t, '0000:02:00.0'), [
    '0000:02:00.0<0000:02:00.0:self>',
    '0000:01:02.0<0000:01:02.0:pci-to-pcie>',
    '0000:00:1e.0<0000:00:1e.0:conventional>',
  ]);
});

test('A3: the walk stops at a BRIDGE_XLATE_ROOT bridge, which adds no alias; grouping still walks up (A4.2)', () => {
  const t = topo([
    hostBridge(),
    rootPort('00:01.0', 1, { bridge: { secondary: 1, subordinate: 2 } }),
    pcieToPciBridge('01:00.0', 2, { quirks: ['BRIDGE_XLATE_ROOT'] }),
    conventional('02:01.0'),
  ]);
  assert.equal(isBridgeXlateRoot(t.get('0000:01:00.0')!), true);
  assert.deepEqual(aliasList(t, '0000:02:01.0'), ['0000:02:01.0<0000:02:01.0:self>']);
  const g = computeIommuGroups(t);
  assert.equal(g.decision('0000:02:01.0')?.step, 'A4.2');
  assert.equal(g.groupOf('0000:02:01.0'), g.groupOf('0000:01:00.0'));
});

test('A3: quirk DMA aliases follow the own RID with the function itself as alias device (Ricoh fn 0, Marvell fn 1)', () => {
  const t = topo([
    hostBridge(),
    rootPort('00:01.0', 1),
    endpoint('01:00.0', { vendor: 0x1180, device: 0xe832, multifunctionBit: true }),
    endpoint('01:00.1', { vendor: 0x1180, device: 0xe832 }),
    rootPort('00:02.0', 2),
    endpoint('02:00.0', { vendor: 0x1b4b, device: 0x9123 }),
  ]);
  assert.deepEqual(dmaAliasDevfns(t.get('0000:01:00.0')!), []);
  assert.deepEqual(aliasList(t, '0000:01:00.1'), [
    '0000:01:00.1<0000:01:00.1:self>',
    '0000:01:00.0<0000:01:00.1:quirk>',
  ]);
  assert.deepEqual(aliasList(t, '0000:02:00.0'), [
    '0000:02:00.0<0000:02:00.0:self>',
    '0000:02:00.1<0000:02:00.0:quirk>', // a ghost requester: no such function exists
  ]);
});

test('A4 step 1: a device behind a PCIe-to-PCI bridge joins the group of the bridge, its alias device', () => {
  const g = computeIommuGroups(qemuQ35());
  const d = g.decision('0000:07:01.0');
  assert.equal(d?.step, 'A4.1');
  assert.equal(d?.joined?.name, '0000:06:00.0');
});

test('A4 step 2: a device below a downstream port without ACS joins the port; the walk stops at an ACS path', () => {
  const g = computeIommuGroups(qemuQ35());
  const d = g.decision('0000:04:00.0');
  assert.equal(d?.step, 'A4.2');
  assert.equal(d?.joined?.name, '0000:03:00.0');
  // The downstream port sits below an upstream port whose path (itself, the ACS root port) holds.
  assert.equal(g.decision('0000:03:00.0')?.step, 'A4.5');
  assert.equal(g.decision('0000:01:00.0')?.step, 'A4.5'); // e1000e below an ACS root port
});

test('A4 step 2: without ACS anywhere in a switch the whole subtree merges up to the root port', () => {
  const t = topo([
    hostBridge(),
    noAcs(rootPort('00:01.0', 1, { bridge: { secondary: 1, subordinate: 4 } })),
    upstreamPort('01:00.0', 2, 4),
    downstreamPort('02:00.0', 3),
    downstreamPort('02:01.0', 4),
    endpoint('03:00.0'),
    endpoint('04:00.0'),
    rootPort('00:02.0', 5),
    endpoint('05:00.0'),
  ]);
  const g = computeIommuGroups(t);
  assert.deepEqual(groupNames(g, '0000:03:00.0'), [
    '0000:00:01.0',
    '0000:01:00.0',
    '0000:02:00.0',
    '0000:02:01.0',
    '0000:03:00.0',
    '0000:04:00.0',
  ]);
  assert.deepEqual(groupNames(g, '0000:05:00.0'), ['0000:05:00.0']);
});

test('A4 step 3: same-bus DMA aliases share a group in either direction (Ricoh fn 0 alias, Marvell fn 1 alias)', () => {
  const t = topo([
    hostBridge(),
    rootPort('00:01.0', 1),
    // Both functions have ACS, so step 4 does not apply: only the quirk alias joins them.
    endpoint('01:00.0', { vendor: 0x1180, device: 0xe832, multifunctionBit: true, acs: FULL_ACS }),
    endpoint('01:00.1', { vendor: 0x1180, device: 0xe832, acs: FULL_ACS }),
    rootPort('00:02.0', 2),
    endpoint('02:00.0', { vendor: 0x1b4b, device: 0x9123, multifunctionBit: true, acs: FULL_ACS }),
    endpoint('02:00.1', { vendor: 0x1b4b, device: 0x9123, classCode: 0x01018f, acs: FULL_ACS }),
    rootPort('00:03.0', 3),
    endpoint('03:00.0', { multifunctionBit: true, acs: FULL_ACS }),
    endpoint('03:00.1', { acs: FULL_ACS }),
  ]);
  const g = computeIommuGroups(t);
  // 01:00.1 DMA-aliases 01:00.0 (its mask names fn 0).
  assert.equal(g.decision('0000:01:00.1')?.step, 'A4.3');
  assert.equal(g.decision('0000:01:00.1')?.joined?.name, '0000:01:00.0');
  // 02:00.1 is aliased by 02:00.0 (whose mask names fn 1).
  assert.equal(g.decision('0000:02:00.1')?.step, 'A4.3');
  assert.equal(g.groupOf('0000:02:00.1'), g.groupOf('0000:02:00.0'));
  // Without aliases, ACS-capable functions of one device are separate.
  assert.notEqual(g.groupOf('0000:03:00.1'), g.groupOf('0000:03:00.0'));
});

test('A4 step 4: functions of a multifunction device that lack ACS share a group; an ACS function stays apart', () => {
  const t = topo([
    hostBridge(),
    rootPort('00:01.0', 1),
    endpoint('01:00.0', { multifunctionBit: true }),
    endpoint('01:00.1'),
    endpoint('01:00.2', { acs: FULL_ACS }),
    endpoint('01:00.3'),
  ]);
  const g = computeIommuGroups(t);
  assert.deepEqual(groupNames(g, '0000:01:00.0'), ['0000:01:00.0', '0000:01:00.1', '0000:01:00.3']);
  assert.deepEqual(g.decision('0000:01:00.3')?.step, 'A4.4');
  assert.deepEqual(groupNames(g, '0000:01:00.2'), ['0000:01:00.2']);
});

test('A4 step 5: otherwise a new group; a single-function device on the root bus without ACS is alone', () => {
  const t = qemuQ35();
  const g = computeIommuGroups(t);
  assert.equal(acsEnabled(t.get('0000:00:04.0')!), false);
  assert.deepEqual(g.decision('0000:00:04.0'), { step: 'A4.5', joined: null });
  assert.deepEqual(groupNames(g, '0000:00:04.0'), ['0000:00:04.0']);
});

test("A5(a): everything behind a PCIe-to-PCI bridge shares the bridge's group, through nested conventional bridges", () => {
  const t = topo([
    hostBridge(),
    rootPort('00:01.0', 1, { bridge: { secondary: 1, subordinate: 3 } }),
    pcieToPciBridge('01:00.0', 2, { bridge: { secondary: 2, subordinate: 3 } }),
    conventional('02:01.0'),
    pciBridge('02:03.0', 3),
    conventional('03:05.0'),
    conventional('03:06.0'),
  ]);
  const g = computeIommuGroups(t);
  assert.deepEqual(groupNames(g, '0000:03:06.0'), [
    '0000:01:00.0',
    '0000:02:01.0',
    '0000:02:03.0',
    '0000:03:05.0',
    '0000:03:06.0',
  ]);
  assert.deepEqual(groupNames(g, '0000:00:01.0'), ['0000:00:01.0']);
});

test("A5(a): everything behind a conventional bridge on the root bus shares the bridge's group", () => {
  const t = topo([hostBridge(), pciBridge('00:1e.0', 1), conventional('01:00.0'), conventional('01:01.0')]);
  const g = computeIommuGroups(t);
  assert.deepEqual(groupNames(g, '0000:01:01.0'), ['0000:00:1e.0', '0000:01:00.0', '0000:01:01.0']);
});

test('A5(b): two e1000e functions of one multifunction device without ACS share a group (scenario 57)', () => {
  const g = computeIommuGroups(qemuQ35());
  assert.deepEqual(groupNames(g, '0000:05:00.1'), ['0000:05:00.0', '0000:05:00.1']);
  // The q35 ICH9 functions are conventional PCI (never ACS), multifunction: one group.
  assert.deepEqual(groupNames(g, '0000:00:1f.3'), ['0000:00:1f.0', '0000:00:1f.2', '0000:00:1f.3']);
});

test("A5(c): nvme behind xio3130-downstream (no ACS) shares the port's group; the upstream port is apart (scenario 55)", () => {
  const g = computeIommuGroups(qemuQ35());
  assert.deepEqual(groupNames(g, '0000:04:00.0'), ['0000:03:00.0', '0000:04:00.0']);
  assert.deepEqual(groupNames(g, '0000:02:00.0'), ['0000:02:00.0']);
  assert.deepEqual(groupNames(g, '0000:00:02.1'), ['0000:00:02.1']);
});

test('A5(c): root ports of one multifunction slot without ACS share a group, and so do the devices below them', () => {
  const t = topo([
    hostBridge(),
    noAcs(rootPort('00:1c.0', 1, { multifunctionBit: true })),
    noAcs(rootPort('00:1c.1', 2)),
    endpoint('01:00.0'),
    endpoint('02:00.0'),
  ]);
  const g = computeIommuGroups(t);
  assert.deepEqual(groupNames(g, '0000:02:00.0'), [
    '0000:00:1c.0',
    '0000:00:1c.1',
    '0000:01:00.0',
    '0000:02:00.0',
  ]);
  assert.equal(g.decision('0000:00:1c.1')?.step, 'A4.4');
});

test('A5(d): e1000e alone behind an ACS root port is alone in its group; the root port has another (scenario 56)', () => {
  const g = computeIommuGroups(qemuQ35());
  assert.deepEqual(groupNames(g, '0000:01:00.0'), ['0000:01:00.0']);
  assert.deepEqual(groupNames(g, '0000:00:02.0'), ['0000:00:02.0']);
});

test('A5(a): pcie-pci-bridge with two e1000 functions is one group of three (scenario 54)', () => {
  const g = computeIommuGroups(qemuQ35());
  assert.deepEqual(groupNames(g, '0000:07:01.0'), ['0000:06:00.0', '0000:07:01.0', '0000:07:01.1']);
});

test('A6: group ids are allocated first-free in probe order', () => {
  const t = qemuQ35();
  const g = computeIommuGroups(t);
  assert.deepEqual(
    t.functions.map((f) => `${f.name}=${g.groupOf(f)}`),
    [
      '0000:00:00.0=0',
      '0000:00:02.0=1',
      '0000:00:02.1=2',
      '0000:00:02.2=3',
      '0000:00:02.3=4',
      '0000:00:04.0=5',
      '0000:00:1f.0=6',
      '0000:00:1f.2=6',
      '0000:00:1f.3=6',
      '0000:01:00.0=7',
      '0000:02:00.0=8',
      '0000:03:00.0=9',
      '0000:04:00.0=9',
      '0000:05:00.0=10',
      '0000:05:00.1=10',
      '0000:06:00.0=11',
      '0000:07:01.0=11',
      '0000:07:01.1=11',
    ],
  );
  assert.deepEqual(g.ids(), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
});

test('A6: groupOf accepts objects, full and short addresses; unknown addresses have no group', () => {
  const t = qemuQ35();
  const g = computeIommuGroups(t);
  assert.equal(g.groupOf(t.get('0000:04:00.0')!), 9);
  assert.equal(g.groupOf('0000:04:00.0'), 9);
  assert.equal(g.groupOf('04:00.0'), 9);
  assert.equal(g.groupOf('0000:09:00.0'), null);
  assert.equal(g.groupOf('not-an-address'), null);
  assert.deepEqual(g.members(99), []);
});

test('A6: without an IOMMU nothing has a group', () => {
  const g = computeIommuGroups(qemuQ35(), { iommu: false });
  assert.equal(g.enabled, false);
  assert.equal(g.groupOf('0000:04:00.0'), null);
  assert.equal(g.decision('0000:04:00.0'), null);
  assert.deepEqual(g.ids(), []);
});

test('A7: the [2013] per-driver policy (lowest non-ACS function, ACS path walk) gives the same groups on these shapes', () => {
  // [2013] intel-iommu grouped a multifunction device at its lowest non-ACS function and walked up
  // to the first ACS path, like pci_device_group; one model serves both eras here.
  const g = computeIommuGroups(qemuQ35());
  assert.equal(g.groupOf('0000:05:00.1'), g.groupOf('0000:05:00.0'));
  assert.equal(g.groupOf('0000:04:00.0'), g.groupOf('0000:03:00.0'));
});

// ---- properties over generated hosts -------------------------------------------------------

const seeds = fc.integer({ min: 0, max: 0x7fffffff });
const RUNS = { numRuns: 300 };

function built(seed: number) {
  const t = Topology.build(generateHost(seed));
  return { t, g: computeIommuGroups(t) };
}

test('A6 (property): groups partition the functions; ids are 0..n-1; members are in registration order', () => {
  fc.assert(
    fc.property(seeds, (seed) => {
      const { t, g } = built(seed);
      let total = 0;
      const ids = g.ids();
      assert.deepEqual(
        ids,
        ids.map((_, i) => i),
      );
      for (const id of ids) {
        const m = g.members(id);
        assert.ok(m.length > 0);
        for (let i = 1; i < m.length; i++) assert.ok(m[i - 1]!.addIndex < m[i]!.addIndex);
        total += m.length;
      }
      assert.equal(total, t.functions.length);
      for (const f of t.functions) {
        const id = g.groupOf(f);
        assert.notEqual(id, null);
        assert.ok(g.members(id!).includes(f));
      }
    }),
    RUNS,
  );
});

test('A5(a) (property): every function on a conventional bus shares a group with the bridge of that bus', () => {
  fc.assert(
    fc.property(seeds, (seed) => {
      const { t, g } = built(seed);
      for (const f of t.functions) {
        const b = f.bus.self;
        if (!b || isBridgeXlateRoot(b)) continue;
        const conventionalBus = !b.desc.pcie || b.desc.pcie.type === 'pcie-to-pci';
        if (conventionalBus) assert.equal(g.groupOf(f), g.groupOf(b), `${f.name} vs ${b.name}`);
      }
    }),
    RUNS,
  );
});

test("A5(c) (property): a function whose bridge has no ACS path to the root shares that bridge's group", () => {
  fc.assert(
    fc.property(seeds, (seed) => {
      const { t, g } = built(seed);
      for (const f of t.functions) {
        const b = f.bus.self;
        if (b && !acsPathEnabled(b)) assert.equal(g.groupOf(f), g.groupOf(b), `${f.name} vs ${b.name}`);
      }
    }),
    RUNS,
  );
});

test('A5(b) (property): non-ACS functions of one multifunction slot share a group (buses without DMA-alias quirks)', () => {
  fc.assert(
    fc.property(seeds, (seed) => {
      const { t, g } = built(seed);
      for (const f of t.functions) {
        if (!f.multifunction || acsEnabled(f) || f.bus.devices.some((o) => dmaAliasDevfns(o).length > 0))
          continue;
        for (const o of f.bus.devices) {
          if (o !== f && o.bdf.device === f.bdf.device && !acsEnabled(o))
            assert.equal(g.groupOf(o), g.groupOf(f));
        }
      }
    }),
    RUNS,
  );
});

test('A6 (property): without an IOMMU nothing has a group', () => {
  fc.assert(
    fc.property(seeds, (seed) => {
      const t = Topology.build(generateHost(seed));
      const g = computeIommuGroups(t, { iommu: false });
      assert.deepEqual(g.ids(), []);
      for (const f of t.functions) assert.equal(g.groupOf(f), null);
    }),
    RUNS,
  );
});

test('A6 (property): group computation is deterministic', () => {
  fc.assert(
    fc.property(seeds, (seed) => {
      const a = built(seed);
      const b = built(seed);
      const snap = (x: ReturnType<typeof built>) => x.t.functions.map((f) => [f.name, x.g.groupOf(f)]);
      assert.deepEqual(snap(a), snap(b));
    }),
    RUNS,
  );
});
