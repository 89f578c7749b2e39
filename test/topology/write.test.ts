import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { formatBdf } from '../../src/pci/bdf.ts';
import { buildConfigSpace } from '../../src/pci/config-space.ts';
import { compareHostDescs, normalizeHost } from '../../src/pci/host-compare.ts';
import {
  type FunctionDesc,
  type HostDesc,
  PCIE_TYPES,
  type PcieType,
  type QuirkFlag,
} from '../../src/pci/model.ts';
import { Topology, TopologyError } from '../../src/pci/topology.ts';
import { generateHost } from '../../src/topology/generate.ts';
import { loadTopologyFile, parseTopology, TopologyFileError } from '../../src/topology/load.ts';
import {
  hostToTopologyYaml,
  type TopologyLoss,
  TopologyWriteError,
  writeTopology,
} from '../../src/topology/write.ts';

const EXAMPLES = join(import.meta.dirname, '../../examples');
const exampleFiles = readdirSync(EXAMPLES)
  .filter((f) => f.endsWith('.yaml'))
  .sort();
const scale = Math.max(1, Number(process.env.VFIO_RESET_FUZZ) || 1);

const fn = (h: HostDesc, bdf: string): FunctionDesc => {
  const f = h.functions.find((x) => formatBdf(x.bdf) === bdf);
  assert.ok(f, `${bdf} not in host`);
  return f;
};

/** Written, read back, and equal up to ordering; the file's text for further checks. */
function roundTrip(h: HostDesc): string {
  const { yaml, losses } = writeTopology(h);
  assert.deepEqual(losses, []);
  const back = parseTopology(yaml, 'written.yaml');
  assert.deepEqual(compareHostDescs(h, back), []);
  assert.deepEqual(normalizeHost(back), normalizeHost(h));
  return yaml;
}

describe('hostToTopologyYaml: round trip', () => {
  for (const name of exampleFiles) {
    it(`${name} reads back as the same host`, () => {
      const h = loadTopologyFile(join(EXAMPLES, name));
      roundTrip(h);
      // What config space holds survives byte for byte, so a snapshot reproduces the images.
      const back = parseTopology(hostToTopologyYaml(h));
      for (const f of h.functions)
        assert.deepEqual(buildConfigSpace(fn(back, formatBdf(f.bdf))), buildConfigSpace(f), formatBdf(f.bdf));
    });
  }

  it('every generated host reads back as the same host (fast-check)', () => {
    fc.assert(
      fc.property(fc.integer(), fc.integer({ min: 1, max: 40 }), (seed, maxFunctions) => {
        roundTrip(generateHost(seed, { maxFunctions, quirkRate: 0.2 }));
      }),
      { numRuns: 200 * scale },
    );
  });

  it('writes the human format: kinds, defaults left out, flow maps, a header comment', () => {
    const h = loadTopologyFile(join(EXAMPLES, 'qemu-rp.yaml'));
    const yaml = hostToTopologyYaml(h, {
      header: ['Captured from /sys on rig at 2025-01-02T03:04:05Z', 'by a test'],
      description: 'the rig',
    });
    const lines = yaml.split('\n');
    assert.deepEqual(lines.slice(0, 4), [
      '# Captured from /sys on rig at 2025-01-02T03:04:05Z',
      '# by a test',
      '',
      'name: qemu-rp',
    ]);
    assert.ok(lines.includes('description: the rig'));
    assert.ok(lines.includes('      - bdf: "00:02.0"'));
    assert.ok(lines.includes('        kind: root-port'));
    assert.ok(lines.includes('        acs: { cap: [ sv, tb, rr, cr, uf, dt ], ctrl: [ sv, rr, cr, uf ] }'));
    assert.ok(lines.some((l) => /^ {8}slot: \{ number: 1, name: "0", hotplug: acpiphp/.test(l)));
    // Defaults are not repeated: the root port's driver (pcieport) and class (PCI bridge).
    assert.ok(!yaml.includes('pcieport'));
    assert.ok(!yaml.includes('0x060400'));
    assert.ok(!yaml.includes('Not expressible'));
  });

  it('spells out what the defaults would get wrong: driver null, acs none, empty bridges, reserved buses', () => {
    const h = loadTopologyFile(join(EXAMPLES, 'workstation.yaml'));
    const rp = fn(h, '0000:00:1c.4');
    rp.driver = null;
    delete rp.acs;
    rp.bridge!.subordinate = 0x40; // firmware reserved buses for hotplug behind the last port
    const yaml = roundTrip(h);
    assert.match(yaml, /driver: null/);
    assert.match(yaml, /acs: none/);
    assert.match(yaml, /subordinate: 0x40/);
  });

  it('a reserved range that reaches buses elsewhere is cut there, and said so', () => {
    const h = loadTopologyFile(join(EXAMPLES, 'workstation.yaml'));
    fn(h, '0000:00:01.0').bridge!.subordinate = 0x40; // bus 02 is behind 00:1b.0
    const { yaml, losses } = writeTopology(h);
    assert.deepEqual(losses, [
      {
        where: '0000:00:01.0',
        field: 'bridge.subordinate',
        message: '40 reaches bus 02, which is elsewhere in the tree; written as 01',
      },
    ]);
    assert.deepEqual(fn(parseTopology(yaml), '0000:00:01.0').bridge, { secondary: 1, subordinate: 1 });
  });

  it('bus ranges that do not nest cannot be written at all', () => {
    const h = loadTopologyFile(join(EXAMPLES, 'workstation.yaml'));
    // 00:01.0's own bus 01 moved above 00:1b.0's buses: the default range 01..08 would hold them.
    const gpu = h.functions.filter((f) => f.bdf.bus === 1);
    for (const f of gpu) (f as { bdf: FunctionDesc['bdf'] }).bdf = { ...f.bdf, bus: 0x20 };
    fn(h, '0000:00:01.0').bridge = { secondary: 0x20, subordinate: 0x20 };
    for (const s of h.slots) if (s.bus === 1) s.bus = 0x20;
    roundTrip(h); // still nests: 20 is free
    // Now 04:00.0 moves to bus 21: the switch's range 03..21 would hold buses 08..20 of other ports.
    const nvme = fn(h, '0000:04:00.0');
    (nvme as { bdf: FunctionDesc['bdf'] }).bdf = { ...nvme.bdf, bus: 0x21 };
    fn(h, '0000:03:00.0').bridge = { secondary: 0x21, subordinate: 0x21 };
    for (const s of h.slots) if (s.bus === 4) s.bus = 0x21;
    for (const b of ['0000:00:1b.0', '0000:02:00.0']) fn(h, b).bridge!.subordinate = 0x21;
    Topology.build(h); // the kernel's linking accepts it; only the ranges overlap
    assert.throws(
      () => writeTopology(h),
      (e: unknown) =>
        e instanceof TopologyWriteError &&
        /0000:02:00\.0: bridge: the buses behind it \(03-21\) include bus 08 from elsewhere/.test(e.message),
    );
  });

  it('keeps a hotplug-capable port without a slot object (hotplug: none, hotplug_capable: true)', () => {
    const h = loadTopologyFile(join(EXAMPLES, 'qemu-rpn.yaml'));
    h.slots = [];
    const yaml = roundTrip(h);
    assert.match(yaml, /hotplug: none, hotplug_capable: true/);
  });

  it('writes a domain and a root bus other than 0, and bus: for an empty bridge', () => {
    const h = loadTopologyFile(join(EXAMPLES, 'qemu-rp.yaml'));
    const moved: HostDesc = {
      ...h,
      functions: h.functions
        .filter((f) => f.bdf.bus === 0 && !f.bridge)
        .map((f) => ({ ...f, bdf: { ...f.bdf, domain: 1, bus: 0x80 } })),
      slots: [],
    };
    const yaml = roundTrip({ ...h, functions: [...h.functions, ...moved.functions] });
    assert.match(yaml, /domain: 0x0001/);
    assert.match(yaml, /bus: 0x80/);
    assert.match(yaml, /bdf: "0001:80:00\.0"/);
    const empty = loadTopologyFile(join(EXAMPLES, 'workstation.yaml'));
    assert.match(roundTrip(empty), /bdf: "03:03.0"\n(?:.*\n)*?\s+bus: 0x07/);
  });

  it('an invalid host is refused with the TopologyError Topology.build gives', () => {
    const h = generateHost(1, { maxFunctions: 4 });
    h.functions.push({ ...h.functions[0]! });
    assert.throws(() => hostToTopologyYaml(h), TopologyError);
  });
});

describe('hostToTopologyYaml: what the format cannot say', () => {
  const lossy = (): HostDesc => {
    const h = loadTopologyFile(join(EXAMPLES, 'workstation.yaml'));
    const dsp = fn(h, '0000:03:00.0');
    dsp.acs = { cap: 0x1d | 0x0100 | 0x20, ctrl: 0x1d }; // egress control with an 8-bit vector size
    fn(h, '0000:04:00.0').pcie!.linkSpeedsVector = 0b1010;
    fn(h, '0000:09:00.0').header = 'cardbus';
    return h;
  };

  it('lists each loss in the header and in the result, and the file still loads', () => {
    const { yaml, losses } = writeTopology(lossy());
    assert.deepEqual(losses.map((l) => `${l.where} ${l.field}`).sort(), [
      '0000:03:00.0 acs.cap',
      '0000:04:00.0 pcie.linkSpeedsVector',
      '0000:09:00.0 header',
    ]);
    assert.match(yaml, /^# Not expressible in this format/m);
    assert.match(yaml, /^# {3}0000:09:00\.0: header: a CardBus bridge/m);
    const back = parseTopology(yaml);
    const where = new Set(compareHostDescs(lossy(), back).map((d) => d.where));
    assert.deepEqual([...where].sort(), ['0000:03:00.0', '0000:04:00.0', '0000:09:00.0']);
  });

  it('strict: throws TopologyWriteError listing them', () => {
    assert.throws(
      () => writeTopology(lossy(), { strict: true }),
      (e: unknown) =>
        e instanceof TopologyWriteError &&
        e.code === 'VFIO_RESET_E_TOPOLOGY_WRITE' &&
        e.losses.length === 3 &&
        /cannot express 3 details/.test(e.message),
    );
  });

  /** Random edits of a generated host, many of them beyond the format. */
  const edit = fc.record({
    seed: fc.integer(),
    edits: fc.array(
      fc.record({
        at: fc.nat(),
        what: fc.constantFrom(
          'subordinate',
          'hpc',
          'drop-slot',
          'vector',
          'width',
          'speed',
          'acs',
          'cardbus',
          'type',
          'vf',
          'sriov',
          'label',
          'driver',
          'quirks',
          'slot-name',
          'slot-driver',
          'name',
          'ids',
        ),
        n: fc.nat({ max: 0xffff }),
        s: fc.string({ maxLength: 12 }),
      }),
      { maxLength: 6 },
    ),
  });

  function apply(h: HostDesc, e: { at: number; what: string; n: number; s: string }): void {
    const f = h.functions[e.at % h.functions.length]!;
    const slot = h.slots.length > 0 ? h.slots[e.at % h.slots.length] : undefined;
    switch (e.what) {
      case 'subordinate':
        if (f.bridge)
          f.bridge.subordinate = Math.max(
            f.bridge.secondary,
            Math.min(0xff, f.bridge.subordinate + (e.n % 8) - 2),
          );
        break;
      case 'hpc':
        if (f.pcie?.slot) f.pcie.slot.hotplugCapable = !f.pcie.slot.hotplugCapable;
        break;
      case 'drop-slot':
        if (slot) h.slots = h.slots.filter((s) => s !== slot);
        break;
      case 'vector':
        if (f.pcie) f.pcie.linkSpeedsVector = e.n & 0x7f;
        break;
      case 'width':
        if (f.pcie) f.pcie.linkWidth = e.n & 0x3f;
        break;
      case 'speed':
        if (f.pcie) f.pcie.linkSpeedCode = e.n & 0xf;
        break;
      case 'acs':
        if (f.pcie) f.acs = { cap: e.n, ctrl: (e.n * 7) & 0xffff };
        else f.acs = { cap: 0x1d, ctrl: 0x1d };
        break;
      case 'cardbus':
        if (f.header === 'bridge') f.header = 'cardbus';
        break;
      case 'type': {
        const types = Object.keys(PCIE_TYPES) as PcieType[];
        if (f.pcie) f.pcie.type = types[e.n % types.length]!;
        break;
      }
      case 'vf':
        if (f.bdf.fn > 0) {
          f.virtfn = true;
          f.multifunctionBit = e.n % 2 === 0;
        }
        break;
      case 'sriov':
        f.sriov = { totalVfs: e.n & 0xff, numVfs: (e.n >> 4) & 0x1ff, vfDeviceId: e.n };
        break;
      case 'label':
        f.label = e.s;
        break;
      case 'driver':
        f.driver = e.s === '' || e.n % 3 === 0 ? e.s : `d${e.s}`;
        f.driverOverride = e.n % 5 === 0 ? e.s : null;
        break;
      case 'quirks':
        f.quirks = ['NO_BUS_RESET', 'ACS_QUIRK', 'NO_BUS_RESET'].slice(e.n % 3) as QuirkFlag[];
        f.acpiReset = e.n % 2 === 1;
        break;
      case 'slot-name':
        if (slot && !h.slots.some((s) => s.name === e.s)) slot.name = e.s === '' ? '0' : e.s;
        break;
      case 'slot-driver':
        if (slot) slot.driver = (['pciehp', 'acpiphp', 'shpchp', 'pci_slot', 'pnv_php'] as const)[e.n % 5]!;
        break;
      case 'name':
        h.name = e.s;
        break;
      case 'ids':
        f.vendor = e.n;
        f.subsystemDevice = e.n ^ 0x5a5a;
        f.revision = e.n & 0xff;
        f.classCode = (e.n * 257) & 0xffffff;
        break;
    }
  }

  it('any host: the file always loads, and every difference is a listed loss (fast-check)', () => {
    fc.assert(
      fc.property(edit, ({ seed, edits }) => {
        const h = generateHost(seed, { maxFunctions: 16 });
        for (const e of edits) apply(h, e);
        try {
          Topology.build(h);
        } catch (err) {
          if (err instanceof TopologyError) return; // the edits made an invalid host
          throw err;
        }
        let out: { yaml: string; losses: TopologyLoss[] };
        try {
          out = writeTopology(h);
        } catch (err) {
          throw new Error(`write failed: ${String(err)}`);
        }
        let back: HostDesc;
        try {
          back = parseTopology(out.yaml);
        } catch (err) {
          assert.ok(err instanceof TopologyFileError);
          throw new Error(`the written file does not load:\n${err.message}\n${out.yaml}`);
        }
        const lost = new Set(out.losses.map((l) => l.where));
        for (const d of compareHostDescs(h, back))
          assert.ok(
            lost.has(d.where),
            `${d.where} ${d.field}: ${String(d.a)} → ${String(d.b)} is not listed as a loss`,
          );
      }),
      { numRuns: 300 * scale },
    );
  });
});

describe('topology files: subordinate and hotplug_capable', () => {
  const base = (extra: string[]) =>
    [
      'name: t',
      'roots:',
      '  - devices:',
      '      - { bdf: "00:00.0", kind: host-bridge, id: "8086:29c0" }',
      '      - bdf: "00:02.0"',
      '        kind: root-port',
      '        id: "1b36:000c"',
      ...extra,
      '      - bdf: "00:03.0"',
      '        kind: root-port',
      '        id: "1b36:000c"',
      '',
    ].join('\n');

  it('subordinate reserves buses, and the next bridge is numbered after them', () => {
    const h = parseTopology(
      base([
        '        subordinate: 0x10',
        '        slot: { number: 3, hotplug: none, hotplug_capable: true }',
      ]),
    );
    assert.deepEqual(fn(h, '0000:00:02.0').bridge, { secondary: 1, subordinate: 0x10 });
    assert.deepEqual(fn(h, '0000:00:03.0').bridge, { secondary: 0x11, subordinate: 0x11 });
    assert.equal(fn(h, '0000:00:02.0').pcie?.slot?.hotplugCapable, true);
    assert.deepEqual(h.slots, []);
  });

  it('hotplug_capable: false on a pciehp slot keeps the slot and clears the bit', () => {
    const h = parseTopology(base(['        slot: { number: 3, hotplug: pciehp, hotplug_capable: false }']));
    assert.equal(fn(h, '0000:00:02.0').pcie?.slot?.hotplugCapable, false);
    assert.equal(h.slots[0]?.driver, 'pciehp');
  });

  it('a subordinate below the buses behind the bridge is reported at that field', () => {
    const src = base([
      '        subordinate: 0x01',
      '        below:',
      '          - { bdf: "01:00.0", kind: upstream-port, id: "10b5:8747", bus: 0x02 }',
    ]);
    assert.throws(
      () => parseTopology(src, 't.yaml'),
      (e: unknown) =>
        e instanceof TopologyFileError &&
        e.issues.length === 1 &&
        e.issues[0]!.line === 8 &&
        e.issues[0]!.path === 'roots.0.devices.1.subordinate' &&
        /subordinate bus 01 is below bus 02/.test(e.issues[0]!.message),
    );
  });

  it('subordinate on an endpoint is refused', () => {
    const src = [
      'name: t',
      'roots:',
      '  - devices:',
      '      - { bdf: "00:00.0", kind: host-bridge, id: "8086:29c0", subordinate: 3 }',
      '',
    ].join('\n');
    assert.throws(
      () => parseTopology(src, 't.yaml'),
      (e: unknown) =>
        e instanceof TopologyFileError &&
        /is not a bridge and has no subordinate bus/.test(e.issues[0]!.message),
    );
  });
});
