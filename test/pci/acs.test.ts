import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  acsEnabled,
  acsPathBreak,
  acsPathEnabled,
  acsQuirkName,
  acsVerdict,
  REQ_ACS_FLAGS,
} from '../../src/pci/acs.ts';
import { ACS_BITS, type FunctionDesc, type PcieCap, type PcieType } from '../../src/pci/model.ts';
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

const { sv, rr, cr, uf, ec } = ACS_BITS;

/** The same description without an ACS capability. */
function noAcs(d: FunctionDesc): FunctionDesc {
  const { acs: _drop, ...rest } = d;
  return rest;
}

function pcie(type: PcieType): PcieCap {
  return {
    type,
    flr: false,
    linkSpeedCode: 1,
    linkSpeedsVector: 1,
    linkWidth: 1,
    dllActiveReporting: false,
    linkActive: true,
  };
}

test('A1: REQ_ACS_FLAGS is SV | RR | CR | UF', () => {
  assert.equal(REQ_ACS_FLAGS, sv | rr | cr | uf);
});

test('A1: conventional PCI functions never have ACS, even with an ACS capability', () => {
  const t = topo([hostBridge(), conventional('00:03.0', { acs: FULL_ACS })]);
  const f = t.get('0000:00:03.0')!;
  assert.equal(acsEnabled(f), false);
  assert.equal(acsVerdict(f).rule, 'not-pcie');
});

test('A1: PCIe-to-PCI bridges, PCI-to-PCIe bridges and RC event collectors never have ACS', () => {
  const t = topo([
    hostBridge(),
    pcieToPciBridge('00:03.0', 1, { acs: FULL_ACS }),
    pciBridge('00:04.0', 2, { pcie: pcie('pci-to-pcie'), acs: FULL_ACS }),
    endpoint('00:05.0', { pcieOver: { type: 'rc-event-collector' }, acs: FULL_ACS }),
  ]);
  for (const name of ['0000:00:03.0', '0000:00:04.0', '0000:00:05.0']) {
    const v = acsVerdict(t.get(name)!);
    assert.deepEqual([name, v.enabled, v.rule], [name, false, 'port-type']);
  }
});

test('A1: root and downstream ports need an ACS capability with every advertised requested control enabled', () => {
  const t = topo([
    hostBridge(),
    rootPort('00:01.0', 1), // full ACS
    noAcs(rootPort('00:02.0', 2)),
    rootPort('00:03.0', 3, { acs: { cap: sv | rr | cr | uf, ctrl: sv | cr | uf } }), // RR off
    // UF not advertised: counts as hard-wired on.
    rootPort('00:04.0', 4, { acs: { cap: sv | rr | cr, ctrl: sv | rr | cr } }),
    rootPort('00:05.0', 5, { bridge: { secondary: 5, subordinate: 7 } }),
    upstreamPort('05:00.0', 6, 7),
    downstreamPort('06:00.0', 7, { acs: FULL_ACS }),
    downstreamPort('06:01.0', 8),
  ]);
  const on = (n: string) => acsEnabled(t.get(n)!);
  assert.equal(on('0000:00:01.0'), true);
  assert.equal(on('0000:00:02.0'), false);
  assert.equal(on('0000:00:03.0'), false);
  assert.equal(on('0000:00:04.0'), true);
  assert.equal(on('0000:06:00.0'), true);
  assert.equal(on('0000:06:01.0'), false);
  assert.equal(acsVerdict(t.get('0000:00:02.0')!).rule, 'capability');
});

test('A1: ports are judged by their capability whether or not they are multifunction', () => {
  const t = topo([
    hostBridge(),
    rootPort('00:1c.0', 1, { multifunctionBit: true }),
    noAcs(rootPort('00:1c.1', 2)),
  ]);
  assert.equal(acsEnabled(t.get('0000:00:1c.0')!), true);
  assert.equal(acsEnabled(t.get('0000:00:1c.1')!), false);
});

test('A1: single-function endpoints, upstream ports, legacy endpoints and RCiEPs are isolated without ACS', () => {
  const t = topo([
    hostBridge(),
    endpoint('00:03.0', { vendor: 0x1b36 }),
    endpoint('00:04.0', { pcieOver: { type: 'legacy-endpoint' } }),
    endpoint('00:05.0', { vendor: 0x1b36, pcieOver: { type: 'rc-endpoint' } }),
    rootPort('00:06.0', 1, { bridge: { secondary: 1, subordinate: 2 } }),
    upstreamPort('01:00.0', 2, 2),
  ]);
  for (const name of ['0000:00:03.0', '0000:00:04.0', '0000:00:05.0', '0000:01:00.0']) {
    const v = acsVerdict(t.get(name)!);
    assert.deepEqual([name, v.enabled, v.rule], [name, true, 'single-function']);
  }
});

test('A1: functions of a multifunction endpoint need an ACS capability', () => {
  const t = topo([
    hostBridge(),
    endpoint('00:03.0', { multifunctionBit: true }),
    endpoint('00:03.1'),
    endpoint('00:04.0', { multifunctionBit: true, acs: FULL_ACS }),
    endpoint('00:04.1', { acs: { cap: rr | cr, ctrl: rr | cr } }), // SV, UF not advertised
    endpoint('00:04.2', { acs: { cap: rr | cr, ctrl: 0 } }),
  ]);
  assert.equal(acsEnabled(t.get('0000:00:03.0')!), false);
  assert.equal(acsEnabled(t.get('0000:00:03.1')!), false);
  assert.equal(acsEnabled(t.get('0000:00:04.0')!), true);
  assert.equal(acsEnabled(t.get('0000:00:04.1')!), true);
  assert.equal(acsEnabled(t.get('0000:00:04.2')!), false);
});

test('A1: only the requested flags are checked; EC is checked even when not advertised', () => {
  const t = topo([hostBridge(), rootPort('00:01.0', 1, { acs: { cap: sv | rr | cr | uf, ctrl: sv | rr } })]);
  const rp = t.get('0000:00:01.0')!;
  assert.equal(acsEnabled(rp, sv | rr), true);
  assert.equal(acsEnabled(rp), false);
  assert.equal(acsEnabled(rp, sv | ec), false);
});

test('A1 quirk: Intel 82576 functions count as isolated without an ACS capability (pci_quirk_mf_endpoint_acs)', () => {
  const t = topo([
    hostBridge(),
    endpoint('00:03.0', { vendor: 0x8086, device: 0x10c9, multifunctionBit: true }),
    endpoint('00:03.1', { vendor: 0x8086, device: 0x10c9 }),
  ]);
  const f = t.get('0000:00:03.1')!;
  assert.deepEqual(acsVerdict(f), { enabled: true, rule: 'quirk', quirk: 'pci_quirk_mf_endpoint_acs' });
  assert.equal(acsEnabled(f, ec), false); // the quirk does not provide Egress Control
});

test('A1 quirk: Intel PCH root ports without an ACS capability are isolated; the id on another type is not matched', () => {
  const t = topo([
    hostBridge(),
    noAcs(rootPort('00:1c.0', 1, { vendor: 0x8086, device: 0x1c10 })),
    endpoint('00:1d.0', { vendor: 0x8086, device: 0x1c10, multifunctionBit: true }),
    endpoint('00:1d.1', { vendor: 0x8086, device: 0x1c10 }),
  ]);
  assert.equal(acsQuirkName(t.get('0000:00:1c.0')!), 'pci_quirk_intel_pch_acs');
  assert.equal(acsEnabled(t.get('0000:00:1c.0')!), true);
  assert.equal(acsQuirkName(t.get('0000:00:1d.0')!), null);
  assert.equal(acsEnabled(t.get('0000:00:1d.0')!), false);
});

test('A1 quirk: AMD southbridge multifunction devices on the root bus provide RR and CR (pci_quirk_amd_sb_acs)', () => {
  const t = topo([
    hostBridge(),
    endpoint('00:14.0', { vendor: 0x1002, device: 0x4385, multifunctionBit: true }),
    endpoint('00:14.1', { vendor: 0x1002, device: 0x439c }),
    rootPort('00:02.0', 1),
    endpoint('01:00.0', { vendor: 0x1002, device: 0x4385, multifunctionBit: true }),
    endpoint('01:00.1', { vendor: 0x1002, device: 0x4385 }),
  ]);
  const sb = t.get('0000:00:14.1')!;
  assert.equal(acsEnabled(sb), true); // SV and UF are filtered out for multifunction devices
  assert.equal(acsEnabled(sb, rr | ec), false);
  // Off the root bus the quirk has no opinion: the standard test sees no capability.
  assert.equal(acsQuirkName(t.get('0000:01:00.1')!), null);
  assert.equal(acsEnabled(t.get('0000:01:00.1')!), false);
});

test('A1 quirk: a quirk that answers "not enabled" wins over a working ACS capability (Zhaoxin, Wangxun)', () => {
  const t = topo([
    hostBridge(),
    rootPort('00:01.0', 1, { vendor: 0x1d17, device: 0x0700 }), // not in the Zhaoxin list
    rootPort('00:02.0', 2, { vendor: 0x1d17, device: 0x0715 }), // listed
    endpoint('01:00.0', { vendor: 0x8088, device: 0x1234, multifunctionBit: true, acs: FULL_ACS }),
    endpoint('01:00.1', { vendor: 0x8088, device: 0x1234, acs: FULL_ACS }),
  ]);
  assert.deepEqual(acsVerdict(t.get('0000:00:01.0')!), {
    enabled: false,
    rule: 'quirk',
    quirk: 'pci_quirk_zhaoxin_pcie_ports_acs',
  });
  assert.equal(acsEnabled(t.get('0000:00:02.0')!), true);
  assert.equal(acsEnabled(t.get('0000:01:00.1')!), false);
  assert.equal(acsQuirkName(t.get('0000:01:00.1')!), 'pci_quirk_wangxun_nic_acs');
});

test('A1 quirk: Intel RCiEPs are isolated for SV|RR|CR|UF even when multifunction (pci_quirk_rciep_acs)', () => {
  const t = topo([
    hostBridge(),
    endpoint('00:08.0', {
      vendor: 0x8086,
      device: 0x1234,
      multifunctionBit: true,
      pcieOver: { type: 'rc-endpoint' },
    }),
    endpoint('00:08.1', { vendor: 0x8086, device: 0x1234, pcieOver: { type: 'rc-endpoint' } }),
  ]);
  assert.deepEqual(acsVerdict(t.get('0000:00:08.1')!), {
    enabled: true,
    rule: 'quirk',
    quirk: 'pci_quirk_rciep_acs',
  });
});

test("A1 quirk: the description's ACS_QUIRK flag says every requested control is provided", () => {
  const t = topo([hostBridge(), noAcs(rootPort('00:01.0', 1, { quirks: ['ACS_QUIRK'] }))]);
  assert.deepEqual(acsVerdict(t.get('0000:00:01.0')!), { enabled: true, rule: 'quirk-flag' });
});

/** Root port → switch (upstream, two downstream ports) → endpoints. */
function switchHost(opts: { rootAcs: boolean; dsp0Acs: boolean }) {
  const rp = rootPort('00:01.0', 1, { bridge: { secondary: 1, subordinate: 4 } });
  const dsp0 = downstreamPort('02:00.0', 3, { acs: FULL_ACS });
  return topo([
    hostBridge(),
    opts.rootAcs ? rp : noAcs(rp),
    upstreamPort('01:00.0', 2, 4),
    opts.dsp0Acs ? dsp0 : noAcs(dsp0),
    downstreamPort('02:01.0', 4, { acs: FULL_ACS }),
    endpoint('03:00.0'),
    endpoint('04:00.0', { multifunctionBit: true }),
    endpoint('04:00.1'),
  ]);
}

test('A2: the ACS path holds when the start and every bridge up to the root bus have ACS', () => {
  const t = switchHost({ rootAcs: true, dsp0Acs: true });
  assert.equal(acsPathEnabled(t.get('0000:03:00.0')!), true);
  assert.equal(acsPathEnabled(t.get('0000:02:00.0')!), true);
  assert.equal(acsPathBreak(t.get('0000:03:00.0')!), null);
});

test('A2: one bridge without ACS breaks the path for everything below it, not above it', () => {
  const t = switchHost({ rootAcs: true, dsp0Acs: false });
  assert.equal(acsPathEnabled(t.get('0000:03:00.0')!), false);
  assert.equal(acsPathBreak(t.get('0000:03:00.0')!)?.name, '0000:02:00.0');
  assert.equal(acsPathEnabled(t.get('0000:02:00.0')!), false);
  assert.equal(acsPathEnabled(t.get('0000:01:00.0')!), true);
  const noRoot = switchHost({ rootAcs: false, dsp0Acs: true });
  assert.equal(acsPathBreak(noRoot.get('0000:03:00.0')!)?.name, '0000:00:01.0');
});

test('A2: the start itself is checked; on the root bus only the start is', () => {
  const t = switchHost({ rootAcs: true, dsp0Acs: true });
  assert.equal(acsPathEnabled(t.get('0000:04:00.1')!), false); // multifunction, no ACS capability
  assert.equal(acsPathBreak(t.get('0000:04:00.1')!)?.name, '0000:04:00.1');
  const r = topo([hostBridge(), conventional('00:03.0'), rootPort('00:01.0', 1)]);
  assert.equal(acsPathEnabled(r.get('0000:00:03.0')!), false);
  assert.equal(acsPathEnabled(r.get('0000:00:01.0')!), true);
});
