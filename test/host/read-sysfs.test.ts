/**
 * Config space is read only where sysfs attributes do not answer (`config: 'needed'`): reading it
 * wakes a suspended device. What the inventory shows must not change for it.
 */
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { describe, it } from 'node:test';
import { takeInventory } from '../../src/host/inventory.ts';
import { readSysfsHost } from '../../src/host/read-sysfs.ts';
import type { SysfsReader } from '../../src/kernel/sysfs.ts';
import type { Era } from '../../src/pci/era.ts';
import { SimHost } from '../../src/sim/host.ts';
import { projectSysfs } from '../../src/sim/sysfs.ts';
import type { Vfs } from '../../src/sim/vfs.ts';
import { generateLargeHost } from '../../src/topology/generate-large.ts';
import { loadTopologyFile } from '../../src/topology/load.ts';

/** Counts `config` reads by device name. */
function counting(sys: SysfsReader): SysfsReader & { configReads: string[] } {
  const configReads: string[] = [];
  return {
    origin: sys.origin,
    configReads,
    readText: (p) => sys.readText(p),
    readBytes: (p) => {
      if (p.endsWith('/config')) configReads.push(p.split('/').slice(-2)[0]!);
      return sys.readBytes(p);
    },
    list: (p) => sys.list(p),
    readLink: (p) => sys.readLink(p),
    kind: (p) => sys.kind(p),
  };
}

const examples = readdirSync('examples')
  .filter((f) => f.endsWith('.yaml'))
  .map((f) => f.replace(/\.yaml$/, ''));
const project = (name: string, era: Era = '6.1') =>
  projectSysfs(new SimHost(loadTopologyFile(`examples/${name}.yaml`), { era }));

describe("readSysfsHost config: 'needed'", () => {
  it('reads config space of bridges only, when reset_method and iommu_group answer the rest', () => {
    const h = new SimHost(loadTopologyFile('examples/workstation.yaml'));
    const sys = counting(projectSysfs(h));
    const read = readSysfsHost(sys, 'w', { config: 'needed' });
    const bridges = h.topology.functions.filter((f) => f.desc.header === 'bridge').map((f) => f.name);
    assert.deepEqual([...sys.configReads].sort(), [...bridges].sort());
    assert.equal(read.configComplete, false);
    assert.equal(read.observed.get('0000:01:00.0')?.configRead, false);
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
    const gpu = read.desc.functions.find((f) => f.bdf.bus === 1 && f.bdf.device === 0 && f.bdf.fn === 0)!;
    assert.equal(read.observed.get('0000:01:00.0')?.configRead, false);
    assert.equal(gpu.multifunctionBit, true);
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
