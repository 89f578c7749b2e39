/**
 * Config space is read only where sysfs attributes do not answer (`config: 'needed'`): reading it
 * wakes a suspended device. What the inventory shows must not change for it.
 */
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { describe, it } from 'node:test';
import { takeInventory } from '../../src/host/inventory.ts';
import { barSizesOf, readSysfsHost } from '../../src/host/read-sysfs.ts';
import { resolveLink, type SysfsReader } from '../../src/kernel/sysfs.ts';
import type { Era } from '../../src/pci/era.ts';
import type { FunctionDesc } from '../../src/pci/model.ts';
import { SimHost } from '../../src/sim/host.ts';
import { projectSysfs } from '../../src/sim/sysfs.ts';
import type { Vfs } from '../../src/sim/vfs.ts';
import { generateLargeHost } from '../../src/topology/generate-large.ts';
import { loadTopologyFile } from '../../src/topology/load.ts';

/** Counts `config` reads by device name, and records the names of the text attributes and links read. */
function counting(
  sys: SysfsReader,
): SysfsReader & { configReads: string[]; textReads: Set<string>; linkReads: string[] } {
  const configReads: string[] = [];
  const textReads = new Set<string>();
  const linkReads: string[] = [];
  return {
    origin: sys.origin,
    configReads,
    textReads,
    linkReads,
    readText: (p) => {
      textReads.add(p.slice(p.lastIndexOf('/') + 1));
      return sys.readText(p);
    },
    readBytes: (p) => {
      if (p.endsWith('/config')) configReads.push(p.split('/').slice(-2)[0]!);
      return sys.readBytes(p);
    },
    list: (p) => sys.list(p),
    readLink: (p) => {
      linkReads.push(p);
      return sys.readLink(p);
    },
    kind: (p) => sys.kind(p),
  };
}

const examples = readdirSync('examples')
  .filter((f) => f.endsWith('.yaml'))
  .map((f) => f.replace(/\.yaml$/, ''));
const project = (name: string, era: Era = '6.1') =>
  projectSysfs(new SimHost(loadTopologyFile(`examples/${name}.yaml`), { era }));

describe("readSysfsHost config: 'needed'", () => {
  it('reads config space of bridges, and of functions listing `bus` in a resettable slot, when reset_method and iommu_group answer the rest', () => {
    const h = new SimHost(loadTopologyFile('examples/workstation.yaml'));
    const sys = counting(projectSysfs(h));
    const read = readSysfsHost(sys, 'w', { config: 'needed' });
    const bridges = h.topology.functions.filter((f) => f.desc.header === 'bridge').map((f) => f.name);
    // The GPU in pciehp slot 1 and the NVMe drives in slots 10 and 11 list `bus`: whether it is a
    // slot reset or a plain bus reset depends on the header's multifunction bit (PH1).
    const inPciehpSlotWithBus = ['0000:01:00.0', '0000:04:00.0', '0000:05:00.0'];
    assert.deepEqual([...sys.configReads].sort(), [...bridges, ...inPciehpSlotWithBus].sort());
    assert.equal(read.configComplete, false);
    assert.equal(read.observed.get('0000:08:00.0')?.configRead, false, 'pci_slot has no reset_slot');
  });

  it('gives the same inventory as reading every config space, on every example and era', () => {
    for (const name of examples)
      for (const era of ['2013', '6.1', '6.6+'] as const) {
        const sys = project(name, era);
        const needed = takeInventory(sys, { era, config: 'needed' });
        const all = takeInventory(sys, { era, config: 'all' });
        assert.deepEqual(needed, all, `${name} [${era}]`);
      }
  });

  it('gives the same inventory on a server with switches, multifunction GPUs and SR-IOV VFs', () => {
    const sys = projectSysfs(new SimHost(generateLargeHost({ functions: 600, seed: 5 })));
    const counted = counting(sys);
    assert.deepEqual(takeInventory(counted), takeInventory(sys, { config: 'all' }));
    assert.ok(counted.configReads.length < 60, `${counted.configReads.length} config reads`);
  });

  it('derives the multifunction bit of function 0 from its enumerated siblings', () => {
    const read = readSysfsHost(project('workstation'), 'w', { config: 'needed' });
    const nic = read.desc.functions.find((f) => f.bdf.bus === 8 && f.bdf.device === 0 && f.bdf.fn === 0)!;
    assert.equal(read.observed.get('0000:08:00.0')?.configRead, false);
    assert.equal(nic.multifunctionBit, true);
  });

  it('reads every config space when the host has no reset_method attributes (the model computes methods)', () => {
    const sys = counting(project('qemu-rp', '2013'));
    const read = readSysfsHost(sys, 'rp', { config: 'needed' });
    assert.equal(sys.configReads.length, read.desc.functions.length);
    assert.equal(read.configComplete, true);
  });

  it('reads every config space when a function has no iommu_group link (the model computes groups)', () => {
    const v: Vfs = project('qemu-sw');
    v.remove('bus/pci/devices/0000:03:00.0/iommu_group');
    const sys = counting(v);
    const read = readSysfsHost(sys, 'sw', { config: 'needed' });
    assert.equal(sys.configReads.length, read.desc.functions.length);
  });

  it("reads every config space with config: 'all' (the default: snapshots and simulation need them)", () => {
    const sys = counting(project('workstation'));
    const read = readSysfsHost(sys);
    assert.equal(sys.configReads.length, read.desc.functions.length);
    assert.equal(read.configComplete, true);
  });
});

describe('readSysfsHost attributes', () => {
  const unused = ['revision', 'resource', 'driver_override'];

  it("the inventory's read (attributes: 'inventory') leaves out the attributes no inventory question uses", () => {
    const sys = counting(project('workstation'));
    takeInventory(sys);
    assert.deepEqual(
      unused.filter((a) => sys.textReads.has(a)),
      [],
    );
    assert.ok(sys.textReads.has('modalias') && sys.textReads.has('reset_method'));
  });

  it('every other read gets them all, and the rest of the description is the same', () => {
    const desc = loadTopologyFile('examples/workstation.yaml');
    desc.functions[0]!.bars = [0x1000];
    const full = counting(projectSysfs(new SimHost(desc)));
    const all = readSysfsHost(full, 'w', { config: 'needed' });
    assert.deepEqual(
      unused.filter((a) => full.textReads.has(a)),
      unused,
    );
    const needed = readSysfsHost(projectSysfs(new SimHost(desc)), 'w', {
      config: 'needed',
      attributes: 'inventory',
    });
    const without = ({ revision, bars, driverOverride, ...rest }: FunctionDesc) => rest;
    assert.deepEqual(needed.desc.functions.map(without), all.desc.functions.map(without));
    assert.ok(all.desc.functions.some((f) => f.revision !== 0 && f.driverOverride === null));
  });
});

describe('readSysfsHost device directories', () => {
  it("finds a function's directory in its bridge's listing, and reads the bus/pci/devices link of the rest", () => {
    const h = new SimHost(loadTopologyFile('examples/workstation.yaml'));
    const sys = counting(projectSysfs(h));
    const read = readSysfsHost(sys);
    const onRootBus = h.topology.functions.filter((f) => f.bus.self === null).map((f) => f.name);
    const busLinks = sys.linkReads.filter((p) => p.startsWith('bus/pci/devices/'));
    assert.deepEqual(busLinks, onRootBus.map((n) => `bus/pci/devices/${n}`).sort());
    assert.ok(onRootBus.length < read.desc.functions.length);
    // Either way, the path is where the link points.
    for (const [bdf, o] of read.observed)
      assert.equal(o.path, resolveLink(`bus/pci/devices/${bdf}`, sys.readLink(`bus/pci/devices/${bdf}`)));
  });
});

describe('readSysfsHost modalias', () => {
  it('reads the ids and class from modalias, and the same from the five attributes of a dump without it', () => {
    const sys = counting(project('workstation'));
    const withIt = readSysfsHost(sys, sys.origin, { config: 'needed', attributes: 'inventory' });
    for (const a of ['vendor', 'device', 'class', 'subsystem_vendor', 'subsystem_device'])
      assert.equal(sys.textReads.has(a), false, a);
    assert.deepEqual(
      readSysfsHost(project('workstation'), sys.origin, { config: 'needed' }).desc.functions.map((f) => [
        f.vendor,
        f.device,
        f.classCode,
      ]),
      withIt.desc.functions.map((f) => [f.vendor, f.device, f.classCode]),
    );
    const v = project('workstation');
    for (const x of withIt.observed.values()) v.remove(`${x.path}/modalias`);
    assert.deepEqual(readSysfsHost(v, sys.origin, { config: 'needed', attributes: 'inventory' }), withIt);
  });

  it('a full read holds modalias to the five: an edited vendor is an error naming both files', () => {
    const v = project('workstation');
    v.file('devices/pci0000:00/0000:00:1f.0/vendor', '0x10de\n');
    assert.throws(
      () => readSysfsHost(v),
      (e: Error) =>
        e.name === 'SysfsReadError' &&
        e.message.startsWith('sim:workstation/devices/pci0000:00/0000:00:1f.0/vendor: 0x10de, but ') &&
        e.message.includes(
          '0000:00:1f.0/modalias says 0x8086 (an edited dump? edit modalias too, or delete it)',
        ),
    );
  });

  it('a modalias that is not one is an error naming the file', () => {
    const v = project('workstation');
    v.file('devices/pci0000:00/0000:00:1f.0/modalias', 'pci:v00008086\n');
    assert.throws(
      () => readSysfsHost(v),
      (e: Error) =>
        e.name === 'SysfsReadError' &&
        e.message.startsWith('sim:workstation/devices/pci0000:00/0000:00:1f.0/modalias: expected pci:v'),
    );
  });
});

describe('BAR sizes (sysfs resource)', () => {
  it('reads them as the kernel prints them: start end flags, an unassigned resource all zeros', () => {
    // The rig's e1000e under a QEMU root port: BAR0 128 KiB, BAR1 128 KiB, BAR2 32 bytes of I/O, BAR3 16 KiB.
    const text = [
      '0x00000000fe840000 0x00000000fe85ffff 0x0000000000040200',
      '0x00000000fe860000 0x00000000fe87ffff 0x0000000000040200',
      '0x000000000000c000 0x000000000000c01f 0x0000000000040101',
      '0x00000000fe880000 0x00000000fe883fff 0x0000000000040200',
      '0x0000000000000000 0x0000000000000000 0x0000000000000000',
      '0x0000000000000000 0x0000000000000000 0x0000000000000000',
      '0x00000000fe800000 0x00000000fe83ffff 0x0000000000046200',
    ].join('\n');
    assert.deepEqual(barSizesOf(`${text}\n`, 'resource'), [131072, 131072, 32, 16384, 0, 0]);
    assert.throws(() => barSizesOf('garbage\n', '/sys/x/resource'), /\/sys\/x\/resource.*line 1/);
  });

  it('a simulated host shows its BAR sizes in resource, and reading it back gives the same sizes', () => {
    const desc = loadTopologyFile(new URL('../../examples/qemu-rp.yaml', import.meta.url).pathname);
    const e1000e = desc.functions.find((f) => f.bdf.bus === 1)!;
    e1000e.bars = [131072, 131072, 32, 16384];
    const back = readSysfsHost(projectSysfs(new SimHost(desc))).desc.functions.find((f) => f.bdf.bus === 1)!;
    assert.deepEqual(back.bars, [131072, 131072, 32, 16384, 0, 0]);
  });
});
