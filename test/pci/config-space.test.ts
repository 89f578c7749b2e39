import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { type Bdf, parseBdf } from '../../src/pci/bdf.ts';
import {
  buildConfigSpace,
  CAP_ID,
  type ConfigFields,
  ConfigSpaceError,
  EXT_CAP_ID,
  findCapability,
  findExtCapability,
  listCapabilities,
  listExtCapabilities,
  type ParsedConfig,
  parseConfigSpace,
  pcieCanHaveSlot,
  pcieHasLink,
} from '../../src/pci/config-space.ts';
import {
  ACS_BITS,
  type FunctionDesc,
  functionDefaults,
  type HeaderKind,
  linkSpeedClass,
  PCIE_TYPES,
  type PcieCap,
  type PcieType,
} from '../../src/pci/model.ts';

// ---------------------------------------------------------------------------------------------
// helpers

const u8 = (b: Uint8Array, o: number) => b[o]!;
const u16 = (b: Uint8Array, o: number) => b[o]! | (b[o + 1]! << 8);
const u32 = (b: Uint8Array, o: number) => (u16(b, o) | (u16(b, o + 2) << 16)) >>> 0;

const CONFIG_KEYS = [
  'vendor',
  'device',
  'classCode',
  'revision',
  'subsystemVendor',
  'subsystemDevice',
  'header',
  'multifunctionBit',
  'bridge',
  'pcie',
  'pm',
  'af',
  'acs',
  'sriov',
] as const satisfies readonly (keyof ConfigFields)[];

/** The config-bearing fields, without keys whose value is undefined (so deepEqual compares presence). */
function configOf(x: FunctionDesc | ParsedConfig): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of CONFIG_KEYS) if (x[k] !== undefined) out[k] = x[k];
  return out;
}

const IDENTITY_KEYS = [
  'vendor',
  'device',
  'classCode',
  'revision',
  'header',
  'multifunctionBit',
  'bridge',
] as const;
function identityOf(x: FunctionDesc | ParsedConfig): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of IDENTITY_KEYS) if (x[k] !== undefined) out[k] = x[k];
  return out;
}

const isConfigError = (e: unknown) => e instanceof ConfigSpaceError;

function fn(bdf: string, over: Partial<FunctionDesc>): FunctionDesc {
  return { ...functionDefaults(parseBdf(bdf)), ...over };
}

const link = (over: Partial<PcieCap> & { type: PcieType }): PcieCap => ({
  flr: false,
  linkSpeedCode: 1,
  linkSpeedsVector: 0b1,
  linkWidth: 1,
  dllActiveReporting: false,
  linkActive: false,
  ...over,
});

// ---------------------------------------------------------------------------------------------
// concrete devices (QEMU q35 guests, kernel-semantics.md §9.0)

const e1000e = fn('0000:01:00.0', {
  vendor: 0x8086,
  device: 0x10d3,
  classCode: 0x020000,
  subsystemVendor: 0x8086,
  subsystemDevice: 0x0000,
  pm: { noSoftReset: false },
  pcie: link({ type: 'endpoint', flr: false }),
});

const nvme = fn('0000:02:00.0', {
  vendor: 0x1b36,
  device: 0x0010,
  classCode: 0x010802,
  revision: 0x02,
  subsystemVendor: 0x1af4,
  subsystemDevice: 0x1100,
  pm: { noSoftReset: false },
  pcie: link({ type: 'endpoint', flr: true, linkSpeedCode: 3, linkSpeedsVector: 0b111, linkWidth: 4 }),
});

const rootPort = fn('0000:00:02.0', {
  vendor: 0x1b36,
  device: 0x000c,
  classCode: 0x060400,
  header: 'bridge',
  multifunctionBit: true,
  bridge: { secondary: 1, subordinate: 1 },
  // QEMU pcie-root-port: x-speed=16, x-width=32 (F1)
  pcie: link({
    type: 'root-port',
    linkSpeedCode: 4,
    linkSpeedsVector: 0b1111,
    linkWidth: 32,
    dllActiveReporting: true,
    linkActive: false,
    slot: {
      physicalNumber: 2,
      hotplugCapable: true,
      attentionButton: true,
      powerController: true,
      surprise: false,
      noCommandCompleted: false,
    },
  }),
  acs: { cap: 0x001f, ctrl: ACS_BITS.sv | ACS_BITS.rr | ACS_BITS.cr | ACS_BITS.uf },
});

const xio3130Down = fn('0000:04:00.0', {
  vendor: 0x104c,
  device: 0x8233,
  classCode: 0x060400,
  revision: 0x01,
  header: 'bridge',
  bridge: { secondary: 5, subordinate: 5 },
  subsystemVendor: 0x1af4,
  subsystemDevice: 0x1100,
  // QEMU xio3130-downstream leaves speed and width 0 (F4)
  pcie: link({
    type: 'downstream',
    linkSpeedCode: 0,
    linkSpeedsVector: 0,
    linkWidth: 0,
    dllActiveReporting: false,
    linkActive: false,
    slot: {
      physicalNumber: 0,
      hotplugCapable: true,
      attentionButton: true,
      powerController: true,
      surprise: false,
      noCommandCompleted: false,
    },
  }),
});

const e1000 = fn('0000:03:01.0', { vendor: 0x8086, device: 0x100e, classCode: 0x020000, revision: 3 });

test('e1000e: PM at 0x40 then PCIe endpoint v2 at 0x48, no FLR; nothing at 0x100', () => {
  const b = buildConfigSpace(e1000e);
  assert.equal(b.length, 4096);
  assert.equal(u16(b, 0x00), 0x8086);
  assert.equal(u16(b, 0x02), 0x10d3);
  assert.equal(u16(b, 0x06) & 0x10, 0x10, 'STATUS Capabilities List');
  assert.equal(u32(b, 0x08), 0x02000000, 'class 020000, revision 0');
  assert.equal(u8(b, 0x0e), 0x00);
  assert.equal(u16(b, 0x2c), 0x8086);
  assert.equal(u8(b, 0x34), 0x40);
  // PM
  assert.equal(u8(b, 0x40), CAP_ID.pm);
  assert.equal(u8(b, 0x41), 0x48);
  assert.equal(u16(b, 0x42) & 7, 3, 'PMC version 3');
  assert.equal(u16(b, 0x44) & 0x08, 0, 'PMCSR No_Soft_Reset clear');
  // PCIe
  assert.equal(u8(b, 0x48), CAP_ID.exp);
  assert.equal(u8(b, 0x49), 0x00, 'end of list');
  assert.equal(u16(b, 0x4a), 0x0002, 'version 2, type endpoint, no slot');
  assert.equal(u8(b, 0x4f) & 0x10, 0, 'DEVCAP bit 28 FLR clear');
  assert.equal(u32(b, 0x48 + 0x0c) & 0xf, 1, 'LNKCAP SLS 2.5 GT/s');
  assert.equal((u32(b, 0x48 + 0x0c) >> 4) & 0x3f, 1, 'LNKCAP x1');
  assert.equal(u32(b, 0x48 + 0x2c), 0b10, 'LNKCAP2 vector bit 1 = 2.5 GT/s');
  assert.equal(u32(b, 0x100), 0, 'no extended capabilities');
  assert.deepEqual(listCapabilities(b), [
    { id: CAP_ID.pm, offset: 0x40 },
    { id: CAP_ID.exp, offset: 0x48 },
  ]);

  const p = parseConfigSpace(b, e1000e.bdf);
  assert.equal(p.complete, true);
  assert.equal(p.extendedKnown, true);
  assert.equal(p.pcie?.flr, false);
  assert.deepEqual(p.pm, { noSoftReset: false });
  assert.deepEqual(p.warnings, []);
  assert.deepEqual(configOf(p), configOf(e1000e));
});

test('nvme with FLR: DEVCAP bit 28 is bit 4 of byte cap+7', () => {
  const b = buildConfigSpace(nvme);
  const exp = findCapability(b, CAP_ID.exp);
  assert.equal(exp, 0x48);
  assert.equal(u8(b, 0x4f) & 0x10, 0x10);
  assert.equal(u32(b, 0x4c), 0x10000000);
  assert.equal(u8(b, 0x09), 0x02, 'prog-if');
  assert.equal(u8(b, 0x0a), 0x08, 'sub-class');
  assert.equal(u8(b, 0x0b), 0x01, 'base class');
  assert.equal(u8(b, 0x08), 0x02, 'revision');
  assert.equal(u32(b, 0x48 + 0x2c), 0b1110, 'LNKCAP2: 2.5, 5, 8 GT/s');
  const p = parseConfigSpace(b, nvme.bdf);
  assert.equal(p.pcie?.flr, true);
  assert.deepEqual(configOf(p), configOf(nvme));
});

test('root port: type-1 header, 16 GT/s, DLLLARC, slot, ACS at 0x100', () => {
  const b = buildConfigSpace(rootPort);
  assert.equal(u8(b, 0x0e), 0x81, 'bridge header with multi-function bit');
  assert.equal(u8(b, 0x18), 0x00, 'primary = own bus');
  assert.equal(u8(b, 0x19), 0x01);
  assert.equal(u8(b, 0x1a), 0x01);
  assert.equal(u8(b, 0x34), 0x40);
  const exp = 0x40; // no PM, no SSVID (zero subsystem IDs)
  assert.equal(u8(b, exp), CAP_ID.exp);
  assert.equal(u16(b, exp + 2), 0x0142, 'v2 | root port (4) << 4 | Slot Implemented');
  const lnkcap = u32(b, exp + 0x0c);
  assert.equal(lnkcap & 0xf, 4, 'SLS 16 GT/s');
  assert.equal((lnkcap >> 4) & 0x3f, 32, 'x32');
  assert.equal(lnkcap & (1 << 20), 1 << 20, 'DLLLARC');
  assert.equal(lnkcap >>> 24, 2, 'port number = device number');
  assert.equal(u16(b, exp + 0x12) & 0x2000, 0, 'LNKSTA DLLLA clear');
  assert.equal(u32(b, exp + 0x2c), 0b11110, 'LNKCAP2 vector 2.5..16 GT/s in bits 4..1');
  const sltcap = u32(b, exp + 0x14);
  assert.equal(sltcap & 0x1, 1, 'attention button');
  assert.equal(sltcap & 0x2, 2, 'power controller');
  assert.equal(sltcap & 0x20, 0, 'no surprise');
  assert.equal(sltcap & 0x40, 0x40, 'hot-plug capable');
  assert.equal(sltcap & (1 << 18), 0, 'command completed supported');
  assert.equal(sltcap >>> 19, 2, 'physical slot 2');
  // ACS extended capability
  assert.equal(u32(b, 0x100), 0x000d | (1 << 16), 'ACS v1, end of list');
  assert.equal(u16(b, 0x104), 0x001f);
  assert.equal(u16(b, 0x106), 0x001d);
  assert.equal(findExtCapability(b, EXT_CAP_ID.acs), 0x100);
  const p = parseConfigSpace(b, rootPort.bdf);
  assert.equal(p.primaryBus, 0);
  assert.equal(linkSpeedClass(p.pcie!), 'gt5');
  assert.deepEqual(configOf(p), configOf(rootPort));
});

test('xio3130 downstream: speed code 0, empty LNKCAP2, SSVID carries subsystem IDs', () => {
  const b = buildConfigSpace(xio3130Down);
  assert.equal(u16(b, 0x2c), 0, 'type-1 header has no subsystem registers at 0x2c');
  assert.deepEqual(listCapabilities(b), [
    { id: CAP_ID.ssvid, offset: 0x40 },
    { id: CAP_ID.exp, offset: 0x48 },
  ]);
  assert.equal(u16(b, 0x44), 0x1af4);
  assert.equal(u16(b, 0x46), 0x1100);
  const exp = 0x48;
  assert.equal(u16(b, exp + 2), 0x0162, 'v2 | downstream (6) << 4 | Slot Implemented');
  assert.equal(u32(b, exp + 0x0c) & 0xf, 0, 'LNKCAP SLS 0');
  assert.equal(u32(b, exp + 0x0c) & (1 << 20), 0, 'no DLLLARC');
  assert.equal(u32(b, exp + 0x2c), 0, 'LNKCAP2 empty');
  assert.equal(u16(b, exp + 0x12) & 0xf, 0, 'LNKSTA current speed 0');
  const p = parseConfigSpace(b, xio3130Down.bdf);
  assert.equal(p.pcie?.linkSpeedCode, 0);
  assert.equal(p.pcie?.linkSpeedsVector, 0);
  assert.equal(linkSpeedClass(p.pcie!), 'unknown');
  assert.deepEqual(configOf(p), configOf(xio3130Down));
});

test('conventional e1000: no capabilities, 256 bytes are the whole story', () => {
  const b = buildConfigSpace(e1000);
  assert.equal(u16(b, 0x06) & 0x10, 0, 'no Capabilities List');
  assert.equal(u8(b, 0x34), 0);
  assert.ok(b.subarray(0x40).every((x) => x === 0));
  const p = parseConfigSpace(b.slice(0, 256), e1000.bdf);
  assert.equal(p.complete, true);
  assert.equal(p.extendedKnown, true, 'a conventional function has no extended capabilities');
  assert.equal(p.pcie, undefined);
  assert.deepEqual(configOf(p), configOf(e1000));
});

test('AF capability on a conventional function: length 6, TP and FLR bits at +3', () => {
  const f = fn('0000:05:01.0', { af: { tp: true, flr: true }, pm: { noSoftReset: true } });
  const b = buildConfigSpace(f);
  assert.deepEqual(listCapabilities(b), [
    { id: CAP_ID.pm, offset: 0x40 },
    { id: CAP_ID.af, offset: 0x48 },
  ]);
  assert.equal(u16(b, 0x44) & 0x08, 0x08, 'PMCSR No_Soft_Reset');
  assert.equal(u8(b, 0x4a), 6);
  assert.equal(u8(b, 0x4b), 0x03);
  assert.deepEqual(configOf(parseConfigSpace(b, f.bdf)), configOf(f));
});

test('SR-IOV after ACS: TotalVFs/InitialVFs/NumVFs/VF Device ID offsets, VF Enable when NumVFs > 0', () => {
  const f = fn('0000:06:00.0', {
    vendor: 0x8086,
    device: 0x10fb,
    pcie: link({ type: 'endpoint', flr: true }),
    acs: { cap: ACS_BITS.ec | (4 << 8), ctrl: 0 },
    sriov: { totalVfs: 63, numVfs: 4, vfDeviceId: 0x10ed },
  });
  const b = buildConfigSpace(f);
  // ACS with Egress Control: 8 bytes + one dword of egress vector (4 bits) → SR-IOV at 0x10c.
  assert.deepEqual(listExtCapabilities(b), [
    { id: EXT_CAP_ID.acs, version: 1, offset: 0x100 },
    { id: EXT_CAP_ID.sriov, version: 1, offset: 0x10c },
  ]);
  assert.equal(u32(b, 0x100) >>> 20, 0x10c);
  const s = 0x10c;
  assert.equal(u16(b, s + 0x08) & 1, 1, 'VF Enable');
  assert.equal(u16(b, s + 0x0c), 63, 'InitialVFs = TotalVFs');
  assert.equal(u16(b, s + 0x0e), 63);
  assert.equal(u16(b, s + 0x10), 4);
  assert.equal(u16(b, s + 0x1a), 0x10ed);
  assert.deepEqual(configOf(parseConfigSpace(b, f.bdf)), configOf(f));
});

test('CardBus: capability pointer at 0x14, list from 0x80, subsystem IDs at 0x40', () => {
  const f = fn('0000:07:00.0', {
    classCode: 0x060700,
    header: 'cardbus',
    bridge: { secondary: 8, subordinate: 9 },
    subsystemVendor: 0x1234,
    subsystemDevice: 0x5678,
    pm: { noSoftReset: false },
  });
  const b = buildConfigSpace(f);
  assert.equal(u8(b, 0x0e), 0x02);
  assert.equal(u8(b, 0x14), 0x80);
  assert.equal(u8(b, 0x34), 0);
  assert.equal(u16(b, 0x40), 0x1234);
  assert.equal(u16(b, 0x42), 0x5678);
  assert.equal(findCapability(b, CAP_ID.pm), 0x80);
  assert.deepEqual(configOf(parseConfigSpace(b, f.bdf)), configOf(f));
  // Unprivileged CardBus reads are 128 bytes: subsystem IDs known, capabilities not.
  const p = parseConfigSpace(b.slice(0, 128), f.bdf);
  assert.equal(p.complete, false);
  assert.equal(p.subsystemVendor, 0x1234);
  assert.equal(p.pm, undefined);
});

test('what config space cannot carry is dropped: slot on an endpoint, link on an RCiEP, ACS without PCIe', () => {
  const slot = {
    physicalNumber: 1,
    hotplugCapable: true,
    attentionButton: false,
    powerController: false,
    surprise: false,
    noCommandCompleted: false,
  };
  const ep = fn('0000:01:00.0', { pcie: link({ type: 'endpoint', slot }) });
  assert.equal(parseConfigSpace(buildConfigSpace(ep), ep.bdf).pcie?.slot, undefined);
  const rciep = fn('0000:00:1f.0', {
    pcie: link({ type: 'rc-endpoint', linkSpeedCode: 3, linkActive: true }),
  });
  const p = parseConfigSpace(buildConfigSpace(rciep), rciep.bdf).pcie!;
  assert.equal(p.linkSpeedCode, 0);
  assert.equal(p.linkActive, false);
  const conv = fn('0000:03:00.0', { acs: { cap: 1, ctrl: 1 } });
  assert.equal(parseConfigSpace(buildConfigSpace(conv), conv.bdf).acs, undefined);
  assert.equal(pcieHasLink('rc-event-collector'), false);
  assert.equal(pcieCanHaveSlot('pci-to-pcie'), true);
  assert.equal(pcieCanHaveSlot('upstream'), false);
});

// ---------------------------------------------------------------------------------------------
// partial reads

test('64-byte unprivileged read: identity and bus numbers known, capabilities unknown', () => {
  for (const f of [e1000e, nvme, rootPort, xio3130Down, e1000]) {
    const p = parseConfigSpace(buildConfigSpace(f).slice(0, 64), f.bdf);
    assert.equal(p.length, 64);
    assert.equal(p.complete, false);
    assert.equal(p.extendedKnown, false);
    assert.deepEqual(identityOf(p), identityOf(f));
    for (const k of ['pcie', 'pm', 'af', 'acs', 'sriov'] as const) assert.equal(p[k], undefined, k);
  }
  // a type-0 header carries its subsystem IDs in the first 64 bytes; a type-1 header does not
  assert.equal(parseConfigSpace(buildConfigSpace(nvme).slice(0, 64), nvme.bdf).subsystemVendor, 0x1af4);
  assert.equal(
    parseConfigSpace(buildConfigSpace(xio3130Down).slice(0, 64), xio3130Down.bdf).subsystemVendor,
    undefined,
  );
});

test('256 bytes of a PCIe function: standard caps known, extended unknown', () => {
  const p = parseConfigSpace(buildConfigSpace(rootPort).slice(0, 256), rootPort.bdf);
  assert.equal(p.complete, true);
  assert.equal(p.extendedKnown, false);
  assert.deepEqual(p.pcie, rootPort.pcie);
  assert.equal(p.acs, undefined);
});

// ---------------------------------------------------------------------------------------------
// errors and malformed input

function expectError(bytes: Uint8Array, reason: ConfigSpaceError['reason']) {
  const bdf = parseBdf('0000:0a:00.0');
  assert.throws(
    () => parseConfigSpace(bytes, bdf),
    (e: unknown) =>
      e instanceof ConfigSpaceError &&
      e.code === 'VFIO_RESET_E_CONFIG_SPACE' &&
      e.reason === reason &&
      e.bdf === bdf &&
      e.message.startsWith('0000:0a:00.0: config space'),
  );
}

test('absent device, short buffer and unknown header type are ConfigSpaceErrors', () => {
  expectError(new Uint8Array(4096).fill(0xff), 'device-absent');
  expectError(new Uint8Array(64).fill(0xff), 'device-absent');
  expectError(new Uint8Array(4096), 'device-absent');
  const half = buildConfigSpace(e1000);
  half.set([0xff, 0xff, 0x00, 0x00], 0); // vendor ffff, device 0000
  expectError(half, 'device-absent');
  expectError(new Uint8Array(0), 'truncated');
  expectError(buildConfigSpace(e1000).slice(0, 63), 'truncated');
  const bad = buildConfigSpace(e1000);
  bad[0x0e] = 0x85;
  expectError(bad, 'unknown-header-type');
});

test('a VF (IDs read FFFFh, header answers) parses with a warning', () => {
  const b = buildConfigSpace(e1000e);
  b.set([0xff, 0xff, 0xff, 0xff], 0);
  const p = parseConfigSpace(b, e1000e.bdf);
  assert.equal(p.vendor, 0xffff);
  assert.equal(p.device, 0xffff);
  assert.match(p.warnings.join('\n'), /SR-IOV VF/);
  assert.deepEqual(p.pcie, e1000e.pcie);
});

test('capability loops, stray pointers and id 0xff end the walk with a warning', () => {
  const loop = buildConfigSpace(e1000e);
  loop[0x49] = 0x40; // PCIe → PM → PCIe …
  const p = parseConfigSpace(loop, e1000e.bdf);
  assert.match(p.warnings.join('\n'), /loops back to 0x40/);
  assert.deepEqual(p.pcie, e1000e.pcie);

  const self = buildConfigSpace(e1000e);
  self[0x41] = 0x40;
  assert.deepEqual(listCapabilities(self), [{ id: CAP_ID.pm, offset: 0x40 }]);

  const stray = buildConfigSpace(e1000e);
  stray[0x41] = 0x10;
  const q = parseConfigSpace(stray, e1000e.bdf);
  assert.equal(q.pcie, undefined);
  assert.match(q.warnings.join('\n'), /standard header/);

  const unaligned = buildConfigSpace(e1000e);
  unaligned[0x41] = 0x4b; // low two bits ignored, as the kernel does
  assert.equal(findCapability(unaligned, CAP_ID.exp), 0x48);

  const ff = buildConfigSpace(e1000e);
  ff[0x48] = 0xff;
  assert.equal(parseConfigSpace(ff, e1000e.bdf).pcie, undefined);

  const noList = buildConfigSpace(e1000e);
  noList[0x06] = 0; // STATUS without Capabilities List: the kernel does not look
  assert.equal(parseConfigSpace(noList, e1000e.bdf).pcie, undefined);
});

test('extended list: loop, pointer below 0x100, all-ones space', () => {
  const f = fn('0000:06:00.0', {
    pcie: link({ type: 'endpoint' }),
    acs: { cap: 1, ctrl: 0 },
    sriov: { totalVfs: 2, numVfs: 0, vfDeviceId: 1 },
  });
  const loop = buildConfigSpace(f);
  // SR-IOV header at 0x108: version 1 in bits 19..16, next = 0x100 in bits 31..20.
  loop[0x10a] = 0x01;
  loop[0x10b] = 0x10;
  const p = parseConfigSpace(loop, f.bdf);
  assert.match(p.warnings.join('\n'), /loops back to 0x100/);
  assert.deepEqual(p.sriov, f.sriov);

  const low = buildConfigSpace(f);
  low.set([0x0d, 0x00, 0x81, 0x04], 0x100); // ACS v1, next = 0x048
  const q = parseConfigSpace(low, f.bdf);
  assert.match(q.warnings.join('\n'), /below 0x100/);
  assert.equal(q.sriov, undefined);

  const ones = buildConfigSpace(f);
  ones.fill(0xff, 0x100);
  const r = parseConfigSpace(ones, f.bdf);
  assert.equal(r.extendedKnown, true);
  assert.equal(r.acs, undefined);
  assert.match(r.warnings.join('\n'), /not reachable/);
});

test('PM version above 3 is ignored; PCIe v1 has no LNKCAP2; reserved PCIe type is not described', () => {
  const pm = buildConfigSpace(e1000e);
  pm[0x42] = (pm[0x42]! & ~7) | 4;
  assert.equal(parseConfigSpace(pm, e1000e.bdf).pm, undefined);

  const v1 = buildConfigSpace(nvme);
  v1[0x4a] = (v1[0x4a]! & 0xf0) | 1;
  assert.equal(parseConfigSpace(v1, nvme.bdf).pcie?.linkSpeedsVector, 0);

  const reserved = buildConfigSpace(nvme);
  reserved[0x4a] = (reserved[0x4a]! & 0x0f) | 0x20;
  const p = parseConfigSpace(reserved, nvme.bdf);
  assert.equal(p.pcie, undefined);
  assert.match(p.warnings.join('\n'), /reserved device\/port type 2/);
});

// ---------------------------------------------------------------------------------------------
// properties

const bdfArb: fc.Arbitrary<Bdf> = fc.record({
  domain: fc.integer({ min: 0, max: 0xffff }),
  bus: fc.integer({ min: 0, max: 0xff }),
  device: fc.integer({ min: 0, max: 0x1f }),
  fn: fc.integer({ min: 0, max: 7 }),
});

const u16Arb = fc.integer({ min: 0, max: 0xffff });

const slotArb = fc.record({
  physicalNumber: fc.integer({ min: 0, max: 0x1fff }),
  hotplugCapable: fc.boolean(),
  attentionButton: fc.boolean(),
  powerController: fc.boolean(),
  surprise: fc.boolean(),
  noCommandCompleted: fc.boolean(),
});

/** A PCIe capability in the form config space can hold (no link on RC types, slots only on downstream ports). */
const pcieArb: fc.Arbitrary<PcieCap> = fc
  .record({
    type: fc.constantFrom(...(Object.keys(PCIE_TYPES) as PcieType[])),
    flr: fc.boolean(),
    linkSpeedCode: fc.integer({ min: 0, max: 15 }),
    linkSpeedsVector: fc.integer({ min: 0, max: 0x7f }),
    linkWidth: fc.integer({ min: 0, max: 63 }),
    dllActiveReporting: fc.boolean(),
    linkActive: fc.boolean(),
    slot: fc.option(slotArb, { nil: undefined }),
  })
  .map(({ slot, ...p }) => {
    const out: PcieCap = pcieHasLink(p.type)
      ? p
      : {
          ...p,
          linkSpeedCode: 0,
          linkSpeedsVector: 0,
          linkWidth: 0,
          dllActiveReporting: false,
          linkActive: false,
        };
    if (slot && pcieCanHaveSlot(p.type)) out.slot = { ...slot };
    return out;
  });

const opt = <T>(a: fc.Arbitrary<T>) => fc.option(a, { nil: undefined });

const functionArb: fc.Arbitrary<FunctionDesc> = fc
  .record({
    bdf: bdfArb,
    vendor: u16Arb,
    device: u16Arb,
    classCode: fc.integer({ min: 0, max: 0xffffff }),
    revision: fc.integer({ min: 0, max: 0xff }),
    subsystemVendor: u16Arb,
    subsystemDevice: u16Arb,
    header: fc.constantFrom<HeaderKind>('normal', 'bridge', 'cardbus'),
    multifunctionBit: fc.boolean(),
    bridge: fc.record({
      secondary: fc.integer({ min: 0, max: 0xff }),
      subordinate: fc.integer({ min: 0, max: 0xff }),
    }),
    pcie: opt(pcieArb),
    pm: opt(fc.record({ noSoftReset: fc.boolean() })),
    af: opt(fc.record({ tp: fc.boolean(), flr: fc.boolean() })),
    acs: opt(fc.record({ cap: u16Arb, ctrl: u16Arb })),
    sriov: opt(fc.record({ totalVfs: u16Arb, numVfs: u16Arb, vfDeviceId: u16Arb })),
  })
  // Vendor/Device dwords the kernel reads as "no device".
  .filter(
    (r) =>
      !(r.vendor === 0 && (r.device === 0 || r.device === 0xffff)) &&
      !(r.vendor === 0xffff && r.device === 0),
  )
  .map((r) => {
    const f: FunctionDesc = {
      ...functionDefaults(r.bdf),
      vendor: r.vendor,
      device: r.device,
      classCode: r.classCode,
      revision: r.revision,
      subsystemVendor: r.subsystemVendor,
      subsystemDevice: r.subsystemDevice,
      header: r.header,
      multifunctionBit: r.multifunctionBit,
    };
    // fc.record builds null-prototype objects; deepStrictEqual would tell them from plain ones.
    if (r.header !== 'normal') f.bridge = { ...r.bridge };
    if (r.pm) f.pm = { ...r.pm };
    if (r.af) f.af = { ...r.af };
    if (r.pcie) {
      f.pcie = { ...r.pcie };
      if (r.acs) f.acs = { ...r.acs };
      if (r.sriov) f.sriov = { ...r.sriov };
    }
    return f;
  });

test('property: parseConfigSpace(buildConfigSpace(f)) gives back the config fields of f', () => {
  fc.assert(
    fc.property(functionArb, (f) => {
      const b = buildConfigSpace(f);
      assert.equal(b.length, 4096);
      const p = parseConfigSpace(b, f.bdf);
      assert.equal(p.complete, true);
      assert.equal(p.extendedKnown, true);
      assert.deepEqual(configOf(p), configOf(f));
      if (f.header !== 'normal') assert.equal(p.primaryBus, f.bdf.bus);
      // sysfs shows 256 bytes for a conventional function: nothing is lost
      if (!f.pcie) assert.deepEqual(configOf(parseConfigSpace(b.slice(0, 256), f.bdf)), configOf(f));
    }),
    { numRuns: 500 },
  );
});

test('property: a 64-byte prefix parses incomplete with the identity fields', () => {
  fc.assert(
    fc.property(functionArb, (f) => {
      const p = parseConfigSpace(buildConfigSpace(f).slice(0, 64), f.bdf);
      assert.equal(p.complete, false);
      assert.equal(p.extendedKnown, false);
      assert.deepEqual(identityOf(p), identityOf(f));
      for (const k of ['pcie', 'pm', 'af', 'acs', 'sriov'] as const) assert.equal(p[k], undefined);
    }),
    { numRuns: 200 },
  );
});

/** Parses and checks the result is well-formed; returns false if a ConfigSpaceError was thrown. */
function parseChecked(bytes: Uint8Array, bdf: Bdf): boolean {
  let p: ParsedConfig;
  try {
    p = parseConfigSpace(bytes, bdf);
  } catch (e) {
    if (!isConfigError(e)) throw e;
    return false;
  }
  assert.ok(p.vendor >= 0 && p.vendor <= 0xffff && p.device >= 0 && p.device <= 0xffff);
  assert.ok(p.classCode >= 0 && p.classCode <= 0xffffff);
  if (p.pcie) assert.ok(p.pcie.type in PCIE_TYPES);
  if (!p.complete) assert.equal(p.pcie, undefined);
  if (!p.extendedKnown) assert.equal(p.acs, undefined);
  return true;
}

test('property: random bytes only ever throw ConfigSpaceError, and return', { timeout: 60_000 }, () => {
  const lengthArb = fc.oneof(
    fc.constantFrom(0, 3, 63, 64, 128, 255, 256, 4096),
    fc.integer({ min: 0, max: 4200 }),
  );
  fc.assert(
    fc.property(
      lengthArb.chain((n) => fc.uint8Array({ minLength: n, maxLength: n })),
      bdfArb,
      (bytes, bdf) => {
        parseChecked(bytes, bdf);
        listCapabilities(bytes);
        listExtCapabilities(bytes);
      },
    ),
    { numRuns: 500 },
  );
});

test('property: mutated images only ever throw ConfigSpaceError, and return', { timeout: 60_000 }, () => {
  const mutation = fc.record({
    at: fc.integer({ min: 0, max: 4095 }),
    value: fc.integer({ min: 0, max: 255 }),
  });
  fc.assert(
    fc.property(
      functionArb,
      fc.array(mutation, { minLength: 1, maxLength: 24 }),
      fc.constantFrom(64, 100, 256, 1000, 4096),
      (f, muts, keep) => {
        const b = buildConfigSpace(f);
        // Aim most mutations at the parts the walks read: header, capability area, first ext caps.
        for (const { at, value } of muts)
          b[at % 3 === 0 ? at : at % 3 === 1 ? at & 0xff : 0x100 + (at & 0xff)] = value;
        parseChecked(b.slice(0, keep), f.bdf);
      },
    ),
    { numRuns: 1000 },
  );
});

test('long chains stop at the kernel bounds: 48 standard, 480 extended entries', () => {
  // 960 vendor-specific extended capabilities chained in order: only the first 480 are followed.
  const e = buildConfigSpace(nvme);
  const ev = new DataView(e.buffer);
  for (let at = 0x100; at < 0x1000; at += 4) {
    ev.setUint32(at, (0x000b | (1 << 16) | (((at + 4) % 0x1000) << 20)) >>> 0, true);
  }
  const ext = listExtCapabilities(e);
  assert.equal(ext.length, 480);
  assert.equal(ext[479]!.offset, 0x100 + 479 * 4);
  const q = parseConfigSpace(e, nvme.bdf);
  assert.deepEqual(q.pcie, nvme.pcie);
  assert.match(q.warnings.join('\n'), /longer than 480 entries/);

  // 48 vendor-specific capabilities, each pointing to the next dword, the last back to 0x40.
  const b = buildConfigSpace(nvme);
  const v = new DataView(b.buffer);
  for (let at = 0x40; at < 0x100; at += 4)
    v.setUint16(at, 0x09 | ((at + 4 < 0x100 ? at + 4 : 0x40) << 8), true);
  assert.equal(listCapabilities(b).length, 48);
  // The list no longer reaches the PCIe capability: parse says so rather than hanging.
  const p = parseConfigSpace(b, nvme.bdf);
  assert.equal(p.pcie, undefined);
  assert.match(p.warnings.join('\n'), /longer than 48 entries/);
});

test('property: chains with arbitrary pointers stay bounded', { timeout: 60_000 }, () => {
  fc.assert(
    fc.property(
      fc.array(fc.integer({ min: 0, max: 0xff }), { minLength: 48, maxLength: 48 }),
      fc.array(fc.integer({ min: 0, max: 0xfff }), { minLength: 960, maxLength: 960 }),
      (std, ext) => {
        const b = buildConfigSpace(nvme);
        const v = new DataView(b.buffer);
        for (const [i, next] of std.entries()) v.setUint16(0x40 + i * 4, 0x10 | (next << 8), true);
        for (const [i, next] of ext.entries())
          v.setUint32(0x100 + i * 4, (0x000d | (1 << 16) | (next << 20)) >>> 0, true);
        parseChecked(b, nvme.bdf);
        assert.ok(listCapabilities(b).length <= 48);
        assert.ok(listExtCapabilities(b).length <= 480);
      },
    ),
    { numRuns: 100 },
  );
});
