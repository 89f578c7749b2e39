import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { formatBdf } from '../../src/pci/bdf.ts';
import type { FunctionDesc, HostDesc } from '../../src/pci/model.ts';
import { Topology } from '../../src/pci/topology.ts';
import {
  loadTopologyFile,
  parseTopology,
  parseTopologyFile,
  TopologyFileError,
  type TopologyFileIssue,
} from '../../src/topology/load.ts';
import {
  applyMutation,
  TOPOLOGY_TRICKY_VALUES,
  textMutation,
  yamlishText,
} from '../helpers/text-mutation.ts';

const EXAMPLES = join(import.meta.dirname, '../../examples');
const exampleFiles = readdirSync(EXAMPLES)
  .filter((f) => f.endsWith('.yaml'))
  .sort();

/** A small valid file; tests change single lines of it, so line numbers below refer to this. */
const BASE = [
  'name: t', // 1
  'roots:', // 2
  '  - devices:', // 3
  '      - bdf: "00:00.0"', // 4
  '        kind: host-bridge', // 5
  '        id: "8086:29c0"', // 6
  '      - bdf: "00:02.0"', // 7
  '        kind: root-port', // 8
  '        id: "1b36:000c"', // 9
  '        below:', // 10
  '          - bdf: "01:00.0"', // 11
  '            kind: endpoint', // 12
  '            id: "8086:10d3"', // 13
  '            class: "0x020000"', // 14
  '            pm: true', // 15
];
const text = (lines: string[]) => `${lines.join('\n')}\n`;
/** BASE with line `n` (1-based) replaced by `line` (which may hold several lines). */
const withLine = (n: number, line: string) => text(BASE.map((l, i) => (i === n - 1 ? line : l)));
/** BASE with `lines` inserted after line `n`. */
const insertAfter = (n: number, ...lines: string[]) =>
  text([...BASE.slice(0, n), ...lines, ...BASE.slice(n)]);

function fileError(src: string, file = 't.yaml'): TopologyFileError {
  try {
    parseTopology(src, file);
  } catch (e) {
    assert.ok(e instanceof TopologyFileError, `expected TopologyFileError, got ${String(e)}`);
    return e;
  }
  assert.fail('expected the file to be rejected');
}

function oneIssue(src: string, expected: Omit<TopologyFileIssue, 'file' | 'message'> & { message: RegExp }) {
  const e = fileError(src);
  assert.equal(e.code, 'VFIO_RESET_E_TOPOLOGY_FILE');
  assert.equal(e.issues.length, 1, `issues: ${e.message}`);
  const [i] = e.issues;
  assert.deepEqual(
    { file: i!.file, line: i!.line, col: i!.col, path: i!.path },
    { file: 't.yaml', line: expected.line, col: expected.col, path: expected.path },
  );
  assert.match(i!.message, expected.message);
  const prefix =
    expected.path === ''
      ? `t.yaml:${expected.line}:${expected.col}: `
      : `t.yaml:${expected.line}:${expected.col}: ${expected.path}: `;
  assert.ok(e.message.startsWith(prefix), e.message);
  return i!;
}

const fn = (h: HostDesc, bdf: string): FunctionDesc => {
  const f = h.functions.find((x) => formatBdf(x.bdf) === bdf);
  assert.ok(f, `${bdf} not in host`);
  return f;
};

describe('examples', () => {
  it('has the files the project documents', () => {
    for (const name of [
      'workstation.yaml',
      'qemu-rp.yaml',
      'qemu-rpn.yaml',
      'qemu-rp25.yaml',
      'qemu-sw.yaml',
      'qemu-ppb.yaml',
      'qemu-root.yaml',
      'qemu-mf.yaml',
      'm2g.yaml',
    ])
      assert.ok(exampleFiles.includes(name), name);
  });

  for (const name of exampleFiles) {
    it(`${name} loads, starts with a comment, and Topology.build accepts it`, () => {
      const path = join(EXAMPLES, name);
      assert.match(readFileSync(path, 'utf8'), /^# \S/);
      const host = loadTopologyFile(path);
      assert.equal(host.name, name.replace(/\.yaml$/, ''));
      const topo = Topology.build(host);
      assert.equal(topo.functions.length, host.functions.length);
      if (name.startsWith('qemu-')) {
        const hb = fn(host, '0000:00:00.0');
        assert.deepEqual([hb.vendor, hb.device, hb.classCode], [0x8086, 0x29c0, 0x060000]);
      }
    });
  }

  it('workstation: bus numbers, kinds and defaults', () => {
    const h = loadTopologyFile(join(EXAMPLES, 'workstation.yaml'));
    assert.equal(h.functions.length, 26);
    assert.deepEqual(fn(h, '0000:00:1b.0').bridge, { secondary: 2, subordinate: 7 });
    assert.deepEqual(fn(h, '0000:02:00.0').bridge, { secondary: 3, subordinate: 7 });
    assert.deepEqual(fn(h, '0000:03:02.0').bridge, { secondary: 6, subordinate: 6 }); // bus: 0x06
    assert.deepEqual(fn(h, '0000:03:03.0').bridge, { secondary: 7, subordinate: 7 }); // allocated
    assert.deepEqual(fn(h, '0000:00:1c.4').bridge, { secondary: 9, subordinate: 10 });
    const gpu = fn(h, '0000:01:00.0');
    assert.equal(gpu.multifunctionBit, true);
    assert.equal(gpu.pcie?.flr, true);
    assert.equal(gpu.driver, 'nvidia');
    const dsp = fn(h, '0000:03:00.0');
    assert.equal(dsp.pcie?.type, 'downstream');
    assert.deepEqual(dsp.acs, { cap: 0x1d, ctrl: 0x1d }); // default for downstream ports
    assert.equal(dsp.driver, 'pcieport');
    assert.equal(fn(h, '0000:09:00.0').acs, undefined);
    assert.equal(fn(h, '0000:09:00.0').pcie?.type, 'pcie-to-pci');
    assert.equal(fn(h, '0000:0a:01.0').pcie, undefined);
    assert.deepEqual(fn(h, '0000:00:1f.6').af, { tp: true, flr: true });
    assert.equal(fn(h, '0000:08:00.0').acs, undefined);
    assert.deepEqual(
      h.slots.map((s) => `${s.name}@${s.bus}:${s.device}/${s.driver}`).sort(),
      [
        '1@1:0/pciehp',
        '10@4:0/pciehp',
        '11@5:0/pciehp',
        '12@6:0/pciehp',
        '13@7:0/pciehp',
        '5@10:0/pci_slot',
        '6@10:1/pci_slot',
        '8@8:0/pci_slot',
      ].sort(),
    );
    assert.equal(fn(h, '0000:00:1c.0').pcie?.slot?.hotplugCapable, false); // pci_slot
    assert.equal(fn(h, '0000:00:01.0').pcie?.slot?.hotplugCapable, true);
  });

  it('qemu-sw: xio3130 downstream port has an unknown link speed and no ACS', () => {
    const h = loadTopologyFile(join(EXAMPLES, 'qemu-sw.yaml'));
    const dsp = fn(h, '0000:02:00.0');
    assert.deepEqual(
      { ...dsp.pcie, slot: undefined },
      {
        type: 'downstream',
        flr: true, // Linux 6.1 in the rig lists "flr bus" for the switch ports
        linkSpeedCode: 0,
        linkSpeedsVector: 0,
        linkWidth: 0,
        dllActiveReporting: false,
        linkActive: false,
        slot: undefined,
      },
    );
    assert.equal(dsp.acs, undefined);
    const nvme = fn(h, '0000:03:00.0');
    assert.equal(nvme.pcie?.flr, true);
    assert.deepEqual(nvme.pm, { noSoftReset: true });
    assert.equal(nvme.driver, 'vfio-pci');
  });

  it('qemu-rp / rp25: the root port link as QEMU sets it', () => {
    const rp = fn(loadTopologyFile(join(EXAMPLES, 'qemu-rp.yaml')), '0000:00:02.0');
    assert.equal(rp.pcie?.linkSpeedCode, 4);
    assert.equal(rp.pcie?.linkSpeedsVector, 0b1111);
    assert.equal(rp.pcie?.linkWidth, 32);
    assert.equal(rp.pcie?.dllActiveReporting, true);
    assert.equal(rp.pcie?.linkActive, false);
    assert.deepEqual(rp.acs, { cap: 0x5f, ctrl: 0x1d });
    const rp25 = fn(loadTopologyFile(join(EXAMPLES, 'qemu-rp25.yaml')), '0000:00:02.0');
    assert.deepEqual(
      [rp25.pcie?.linkSpeedCode, rp25.pcie?.linkSpeedsVector, rp25.pcie?.dllActiveReporting],
      [1, 0, false],
    );
    const e1000e = fn(loadTopologyFile(join(EXAMPLES, 'qemu-rp.yaml')), '0000:01:00.0');
    assert.deepEqual(e1000e.pm, { noSoftReset: false });
    assert.equal(e1000e.pcie?.flr, false);
    assert.equal(e1000e.acs, undefined);
  });

  it('qemu-ppb: e1000 functions have no capabilities at all', () => {
    const h = loadTopologyFile(join(EXAMPLES, 'qemu-ppb.yaml'));
    for (const b of ['0000:02:01.0', '0000:02:01.1']) {
      const f = fn(h, b);
      assert.deepEqual(
        [f.pcie, f.pm, f.af, f.acs, f.sriov],
        [undefined, undefined, undefined, undefined, undefined],
      );
    }
    assert.equal(fn(h, '0000:02:01.0').multifunctionBit, true);
    assert.equal(fn(h, '0000:01:00.0').driver, null);
  });

  it('qemu-root: the e1000e is a root-complex integrated endpoint on bus 0', () => {
    const f = fn(loadTopologyFile(join(EXAMPLES, 'qemu-root.yaml')), '0000:00:02.0');
    assert.equal(f.pcie?.type, 'rc-endpoint');
  });

  it('m2g: both NIC functions carry enabled ACS', () => {
    const h = loadTopologyFile(join(EXAMPLES, 'm2g.yaml'));
    for (const b of ['0000:01:00.0', '0000:01:00.1'])
      assert.deepEqual(fn(h, b).acs, { cap: 0x1d, ctrl: 0x1d });
  });
});

describe('parseTopology: values', () => {
  it('parses hex ids, class, revision and subsystem', () => {
    const h = parseTopology(
      insertAfter(
        15,
        '            subsystem: "1AF4:1100"',
        '            revision: "0x1f"',
        '            sriov: { total_vfs: 7, num_vfs: 2, vf_device: "10ca" }',
      ),
    );
    const f = fn(h, '0000:01:00.0');
    assert.deepEqual(
      [f.vendor, f.device, f.classCode, f.subsystemVendor, f.subsystemDevice, f.revision],
      [0x8086, 0x10d3, 0x020000, 0x1af4, 0x1100, 0x1f],
    );
    assert.deepEqual(f.sriov, { totalVfs: 7, numVfs: 2, vfDeviceId: 0x10ca });
  });

  it('YAML 1.2 keeps an unquoted 0000:00:01.0 a string', () => {
    const h = parseTopology(withLine(7, '      - bdf: 0000:00:02.0'));
    assert.equal(fn(h, '0000:00:02.0').pcie?.type, 'root-port');
  });

  it('accepts JSON', () => {
    const json = JSON.stringify({
      $schema: './topology.schema.json',
      name: 'j',
      roots: [{ devices: [{ bdf: '0000:00:00.0', kind: 'host-bridge', id: '8086:29c0' }] }],
    });
    assert.equal(parseTopology(json, 'j.json').functions.length, 1);
    assert.equal(parseTopology(JSON.stringify(JSON.parse(json), null, '\t'), 'j.json').name, 'j');
  });

  it('gives root ports ACS, pcieport, a 2.5 GT/s x1 link and a bridge header by default', () => {
    const rp = fn(parseTopology(text(BASE)), '0000:00:02.0');
    assert.equal(rp.header, 'bridge');
    assert.equal(rp.classCode, 0x060400);
    assert.equal(rp.driver, 'pcieport');
    assert.deepEqual(rp.acs, { cap: 0x1d, ctrl: 0x1d });
    assert.deepEqual(rp.bridge, { secondary: 1, subordinate: 1 });
    assert.deepEqual(
      [
        rp.pcie?.linkSpeedCode,
        rp.pcie?.linkSpeedsVector,
        rp.pcie?.linkWidth,
        rp.pcie?.dllActiveReporting,
        rp.pcie?.linkActive,
      ],
      [1, 1, 1, false, true],
    );
    const none = fn(
      parseTopology(insertAfter(9, '        acs: none', '        driver: null')),
      '0000:00:02.0',
    );
    assert.equal(none.acs, undefined);
    assert.equal(none.driver, null);
    const hb = fn(parseTopology(text(BASE)), '0000:00:00.0');
    assert.deepEqual([hb.header, hb.classCode, hb.pcie, hb.driver], ['normal', 0x060000, undefined, null]);
  });

  it('acs {cap, ctrl} and link speeds map to register bits', () => {
    const h = parseTopology(
      insertAfter(
        9,
        '        acs: { cap: [sv, rr, cr, uf, ec], ctrl: [sv, rr] }',
        '        link: { speed: 8, width: 16, active_reporting: true }',
      ),
    );
    const rp = fn(h, '0000:00:02.0');
    assert.deepEqual(rp.acs, { cap: 0x3d, ctrl: 0x05 });
    assert.deepEqual([rp.pcie?.linkSpeedCode, rp.pcie?.linkSpeedsVector, rp.pcie?.linkWidth], [3, 0b111, 16]);
  });

  it('sets the multifunction bit on function 0 when its slot has other functions', () => {
    const src = text([
      ...BASE,
      '          - { bdf: "01:00.3", kind: endpoint, id: "8086:10d3", class: "0x020000" }',
    ]);
    const h = parseTopology(src);
    assert.equal(fn(h, '0000:01:00.0').multifunctionBit, true);
    assert.equal(fn(h, '0000:01:00.3').multifunctionBit, false);
  });

  it('allocates free bus numbers depth first for bridges with nothing below', () => {
    const h = parseTopology(
      text([
        ...BASE,
        '      - { bdf: "00:03.0", kind: root-port, id: "1b36:000c" }',
        '      - { bdf: "00:04.0", kind: root-port, id: "1b36:000c", bus: 5 }',
        '      - { bdf: "00:05.0", kind: root-port, id: "1b36:000c" }',
      ]),
    );
    assert.deepEqual(fn(h, '0000:00:03.0').bridge, { secondary: 2, subordinate: 2 });
    assert.deepEqual(fn(h, '0000:00:04.0').bridge, { secondary: 5, subordinate: 5 });
    assert.deepEqual(fn(h, '0000:00:05.0').bridge, { secondary: 6, subordinate: 6 });
  });

  it('makes slots from port slot: and bridge slots:', () => {
    const h = parseTopology(
      text([
        ...BASE.slice(0, 9),
        '        slot: { number: 7, hotplug: pciehp, attention_button: true, no_command_completed: true }',
        ...BASE.slice(9),
        '      - bdf: "00:1e.0"',
        '        kind: pci-bridge',
        '        id: "8086:244e"',
        '        slots: [{ device: "1f", number: 3, hotplug: shpchp }]',
        '        below: [{ bdf: "02:1f.0", kind: conventional, id: "8086:100e", class: "0x020000" }]',
      ]),
    );
    assert.deepEqual(h.slots, [
      { domain: 0, bus: 1, device: 0, name: '7', driver: 'pciehp' },
      { domain: 0, bus: 2, device: 0x1f, name: '3', driver: 'shpchp' },
    ]);
    assert.deepEqual(fn(h, '0000:00:02.0').pcie?.slot, {
      physicalNumber: 7,
      hotplugCapable: true,
      attentionButton: true,
      powerController: false,
      surprise: false,
      noCommandCompleted: true,
    });
    assert.equal(fn(h, '0000:00:1e.0').pcie, undefined);
  });

  it('returns the validated file as written', () => {
    const { file, host } = parseTopologyFile(text(BASE));
    assert.equal(file.roots[0]!.devices[1]!.below![0]!.bdf, '01:00.0');
    assert.equal(host.functions.length, 3);
  });
});

describe('parseTopology: errors', () => {
  it('YAML syntax: a missing quote', () => {
    oneIssue(withLine(13, '            id: "8086:10d3'), {
      line: 13,
      col: 27,
      path: 'roots.0.devices.1.below.0.id',
      message: /^YAML: Missing closing "quote \(a closing quote is missing\)$/,
    });
  });

  it('YAML syntax: a repeated key', () => {
    oneIssue(insertAfter(5, '        kind: endpoint'), {
      line: 6,
      col: 9,
      path: 'roots.0.devices.0.kind',
      message: /Map keys must be unique \(each field may appear once in a mapping\)/,
    });
  });

  it('unknown key, at the key', () => {
    oneIssue(insertAfter(13, '            colour: red'), {
      line: 14,
      col: 13,
      path: 'roots.0.devices.1.below.0.colour',
      message: /^unknown field "colour" \(known fields: bdf, kind, id, class, /,
    });
  });

  it('unknown key close to a known one suggests it', () => {
    oneIssue(withLine(15, '            pm: { no_soft_rst: true }'), {
      line: 15,
      col: 19,
      path: 'roots.0.devices.1.below.0.pm.no_soft_rst',
      message: /^unknown field "no_soft_rst" \(did you mean no_soft_reset\?\)$/,
    });
  });

  it('wrong type', () => {
    oneIssue(withLine(15, '            pm: yes'), {
      line: 15,
      col: 17,
      path: 'roots.0.devices.1.below.0.pm',
      message: /^expected true, false or \{no_soft_reset: true\|false\}, got the string "yes"$/,
    });
  });

  it('an unquoted class is a number, with a hint to quote it', () => {
    oneIssue(withLine(14, '            class: 0x020000'), {
      line: 14,
      col: 20,
      path: 'roots.0.devices.1.below.0.class',
      message: /^expected a string, got the number 131072 \(quote it: class: "0x020000"/,
    });
  });

  it('a misspelled kind', () => {
    oneIssue(withLine(12, '            kind: endpont'), {
      line: 12,
      col: 19,
      path: 'roots.0.devices.1.below.0.kind',
      message: /is not one of: endpoint, .*\(did you mean endpoint\?\)$/,
    });
  });

  it('a missing required field points at its device', () => {
    oneIssue(withLine(14, '            label: x'), {
      line: 11,
      col: 13,
      path: 'roots.0.devices.1.below.0.class',
      message: /^kind endpoint needs a class code/,
    });
    oneIssue(withLine(6, '        label: x'), {
      line: 4,
      col: 9,
      path: 'roots.0.devices.0.id',
      message: /^is required, e\.g\. id: "8086:10d3"$/,
    });
  });

  it('bad BDF', () => {
    oneIssue(withLine(11, '          - bdf: "01:20.0"'), {
      line: 11,
      col: 18,
      path: 'roots.0.devices.1.below.0.bdf',
      message: /^"01:20\.0" is not a PCI address \(device number above 1f\)/,
    });
  });

  it('child on the wrong bus: against the bridge bus:', () => {
    oneIssue(insertAfter(9, '        bus: 0x02'), {
      line: 12,
      col: 18,
      path: 'roots.0.devices.1.below.0.bdf',
      message: /^01:00\.0 is on bus 01, but its bridge 0000:00:02\.0 has bus: 0x02/,
    });
  });

  it('child on the wrong bus: against its siblings', () => {
    oneIssue(
      text([...BASE, '          - { bdf: "02:00.1", kind: endpoint, id: "8086:10d3", class: "0x020000" }']),
      {
        line: 16,
        col: 20,
        path: 'roots.0.devices.1.below.1.bdf',
        message: /^02:00\.1 is on bus 02, but the devices before it below 0000:00:02\.0 are on bus 01/,
      },
    );
  });

  it('child on the wrong bus: on a root bus', () => {
    oneIssue(withLine(4, '      - bdf: "01:00.0"'), {
      line: 4,
      col: 14,
      path: 'roots.0.devices.0.bdf',
      message: /^01:00\.0 is on bus 01, but it is listed on root bus 0000:00/,
    });
  });

  it('duplicate BDF points at the second entry', () => {
    oneIssue(insertAfter(6, '      - { bdf: "00:00.0", kind: host-bridge, id: "8086:29c0" }'), {
      line: 7,
      col: 16,
      path: 'roots.0.devices.1.bdf',
      message: /^0000:00:00\.0 appears twice/,
    });
  });

  it("the kernel's enumeration rules map back to the device entry", () => {
    oneIssue(
      text([...BASE, '          - { bdf: "01:01.0", kind: endpoint, id: "8086:10d3", class: "0x020000" }']),
      {
        line: 16,
        col: 13,
        path: 'roots.0.devices.1.below.1',
        message: /only_one_child/,
      },
    );
    oneIssue(
      text([
        ...BASE,
        '            multifunction: false',
        '          - { bdf: "01:00.1", kind: endpoint, id: "8086:10d3", class: "0x020000" }',
      ]),
      {
        line: 17,
        col: 13,
        path: 'roots.0.devices.1.below.1',
        message: /does not set the multi-function header bit/,
      },
    );
  });

  it('duplicate slot names map back to the slot', () => {
    oneIssue(
      text([
        ...BASE.slice(0, 9),
        '        slot: { number: 1, hotplug: pciehp }',
        ...BASE.slice(9),
        '      - bdf: "00:03.0"',
        '        kind: root-port',
        '        id: "1b36:000c"',
        '        slot: { number: 1, hotplug: acpiphp }',
      ]),
      { line: 20, col: 15, path: 'roots.0.devices.2.slot', message: /^slot 1 name is used twice/ },
    );
  });

  it('per-kind rules', () => {
    oneIssue(insertAfter(6, '        link: { speed: "2.5" }'), {
      line: 7,
      col: 15,
      path: 'roots.0.devices.0.link',
      message: /conventional PCI, which has no PCIe capability/,
    });
    oneIssue(insertAfter(15, '            slot: { number: 1, hotplug: pciehp }'), {
      line: 16,
      col: 19,
      path: 'roots.0.devices.1.below.0.slot',
      message: /^only root ports, downstream ports and PCI-to-PCIe bridges have a PCIe slot/,
    });
    oneIssue(insertAfter(9, '        acs: { cap: [sv], ctrl: [sv, rr] }'), {
      line: 10,
      col: 33,
      path: 'roots.0.devices.1.acs.ctrl',
      message: /^enables rr, which cap does not list/,
    });
    oneIssue(withLine(14, '            class: "0x0200"'), {
      line: 14,
      col: 20,
      path: 'roots.0.devices.1.below.0.class',
      message: /has 4 hex digits.*"0x020000"/,
    });
  });

  it('a root bus listed twice, or reused below a bridge', () => {
    oneIssue(
      text([
        ...BASE,
        '  - { bus: 0, devices: [{ bdf: "00:1f.0", kind: conventional, id: "8086:2918", class: "0x060100" }] }',
      ]),
      {
        line: 16,
        col: 5,
        path: 'roots.1',
        message: /^root bus 0000:00 is listed twice/,
      },
    );
    oneIssue(
      text([
        ...BASE,
        '  - { bus: 1, devices: [{ bdf: "01:1f.0", kind: conventional, id: "8086:2918", class: "0x060100" }] }',
      ]),
      {
        line: 7,
        col: 9,
        path: 'roots.0.devices.1',
        message: /^the bus below 0000:00:02\.0 is 0000:01, which is also a root bus/,
      },
    );
  });

  it('slot device numbers stop at 1f', () => {
    oneIssue(
      text([
        ...BASE,
        '      - bdf: "00:1e.0"',
        '        kind: pci-bridge',
        '        id: "8086:244e"',
        '        slots: [{ device: "2f", number: 3, hotplug: shpchp }]',
      ]),
      {
        line: 19,
        col: 27,
        path: 'roots.0.devices.2.slots.0.device',
        message: /^must be at most 1f \(hex\)$/,
      },
    );
  });

  it('bus ranges that do not nest', () => {
    oneIssue(
      text([
        ...BASE,
        '      - bdf: "00:03.0"',
        '        kind: root-port',
        '        id: "1b36:000c"',
        '        below:',
        '          - { bdf: "02:00.0", kind: upstream-port, id: "104c:8232", bus: 4 }',
        '      - { bdf: "00:04.0", kind: root-port, id: "1b36:000c", bus: 3 }',
      ]),
      {
        line: 16,
        col: 9,
        path: 'roots.0.devices.2',
        message:
          /^the buses below 0000:00:03\.0 span 02-04, which includes bus 03 from elsewhere in the tree/,
      },
    );
  });

  it('an empty file and a non-mapping', () => {
    oneIssue('', { line: 1, col: 1, path: '', message: /^the file is empty/ });
    oneIssue('- 1\n', { line: 1, col: 1, path: '', message: /^expected a mapping/ });
  });

  it('refuses absurd nesting before the YAML parser, and keeps working afterwards', () => {
    oneIssue('['.repeat(100_000), { line: 1, col: 65, path: '', message: /more than 64 deep/ });
    oneIssue(`${'{a: '.repeat(70)}1`, { line: 1, col: 257, path: '', message: /more than 64 deep/ });
    const deepBlock = Array.from({ length: 300 }, (_, i) => `${' '.repeat(i)}a:`).join('\n');
    oneIssue(deepBlock, { line: 242, col: 1, path: '', message: /indented more than 240 columns/ });
    oneIssue(`${'- '.repeat(200)}x`, {
      line: 1,
      col: 1,
      path: '',
      message: /indented more than 240 columns/,
    });
    // A stack overflow inside the YAML parser could leave V8 unable to compile regular
    // expressions, and the next parse would abort the process.
    assert.equal(parseTopology(text(BASE)).functions.length, 3);
    const brackets = `label: "${'['.repeat(100)}"`; // inside quotes: not nesting
    assert.equal(parseTopology(insertAfter(6, `        ${brackets}`)).functions.length, 3);
  });

  it('lists every issue as data and at most 10 in the message', () => {
    const lines = [...BASE];
    for (let i = 0; i < 12; i++) lines.push(`            extra${i}: 1`);
    const e = fileError(text(lines));
    assert.equal(e.issues.length, 12);
    const msg = e.message.split('\n');
    assert.equal(msg.length, 11);
    assert.equal(msg[10], '… and 2 more');
    assert.deepEqual(
      e.issues.map((i) => i.line),
      Array.from({ length: 12 }, (_, i) => 16 + i),
    );
  });

  it('an unreadable file', () => {
    try {
      loadTopologyFile('/nonexistent/vfio-reset/topology.yaml');
      assert.fail('expected an error');
    } catch (e) {
      assert.ok(e instanceof TopologyFileError);
      assert.equal(e.issues[0]!.line, 0);
      assert.match(
        e.message,
        /^\/nonexistent\/vfio-reset\/topology\.yaml: cannot read the topology file: no such file/,
      );
    }
  });
});

describe('parseTopology: fuzz', () => {
  /** `VFIO_RESET_FUZZ=20` runs twenty times as many cases (for a long local run). */
  const scale = Math.max(1, Number(process.env.VFIO_RESET_FUZZ) || 1);
  /** Either a host that Topology.build accepts, or a TopologyFileError with located issues. */
  function check(src: string): void {
    let host: HostDesc;
    try {
      host = parseTopology(src, 'fuzz.yaml');
    } catch (e) {
      if (!(e instanceof TopologyFileError)) throw e;
      assert.ok(e.issues.length > 0);
      const lineCount = src.split(/\r\n|\r|\n/).length;
      for (const i of e.issues) {
        assert.equal(i.file, 'fuzz.yaml');
        assert.ok(i.line >= 1 && i.line <= lineCount + 1, `line ${i.line} of ${lineCount}`);
        assert.ok(i.col >= 1);
        assert.ok(i.message.length > 0);
      }
      assert.ok(e.message.startsWith('fuzz.yaml:'));
      return;
    }
    Topology.build(host);
  }

  const yamlish = yamlishText(['bdf', 'kind', 'roots', 'devices', 'below']);

  it('random strings never throw anything but TopologyFileError', () => {
    fc.assert(fc.property(fc.string({ unit: 'binary', maxLength: 200 }), check), { numRuns: 300 * scale });
    fc.assert(fc.property(yamlish, check), { numRuns: 500 * scale });
  });

  const sources = exampleFiles.map((f) => readFileSync(join(EXAMPLES, f), 'utf8'));
  const mutation = textMutation(yamlish, TOPOLOGY_TRICKY_VALUES);

  it('mutated examples never throw anything but TopologyFileError', () => {
    fc.assert(
      fc.property(
        fc.nat(sources.length - 1),
        fc.array(mutation, { minLength: 1, maxLength: 4 }),
        (which, ms) => {
          check(ms.reduce(applyMutation, sources[which]!));
        },
      ),
      { numRuns: 400 * scale },
    );
  });
});
