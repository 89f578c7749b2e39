import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { writeSysfsDump } from '../../src/host/dump.ts';
import { readSysfsHost } from '../../src/host/read-sysfs.ts';
import { DirSysfsReader } from '../../src/linux/sysfs-reader.ts';
import { formatBdf } from '../../src/pci/bdf.ts';
import { compareHostDescs } from '../../src/pci/host-compare.ts';
import { Topology } from '../../src/pci/topology.ts';
import { SimKernel } from '../../src/sim/kernel.ts';
import { generateLargeHost } from '../../src/topology/generate-large.ts';
import { parseTopology } from '../../src/topology/load.ts';
import { hostToTopologyYaml } from '../../src/topology/write.ts';

describe('generateLargeHost', () => {
  it('gives exactly the asked number of functions, and Linux would enumerate them all', () => {
    for (const n of [1, 2, 5, 256, 4096]) {
      const h = generateLargeHost({ functions: n });
      assert.equal(h.functions.length, n);
      assert.equal(Topology.build(h).functions.length, n);
    }
  });

  it('at 100,000 functions spreads over several PCI segments, every bus number within 0..255', () => {
    const h = generateLargeHost({ functions: 100_000 });
    assert.equal(h.functions.length, 100_000);
    const domains = new Set(h.functions.map((f) => f.bdf.domain));
    assert.ok(domains.size > 1, `${domains.size} segment(s)`);
    assert.ok(h.functions.every((f) => f.bdf.bus <= 0xff && (f.bridge?.subordinate ?? 0) <= 0xff));
    assert.equal(new Set(h.functions.map((f) => formatBdf(f.bdf))).size, 100_000);
  });

  it('has deep switch trees, GPUs with audio, NVMe drives and NICs with SR-IOV virtual functions', () => {
    const h = generateLargeHost({ functions: 4096 });
    const count = (p: (f: (typeof h.functions)[number]) => boolean) => h.functions.filter(p).length;
    assert.ok(count((f) => f.classCode === 0x030000) > 0, 'GPUs');
    assert.ok(count((f) => f.classCode === 0x040300 && f.bdf.fn === 1) > 0, 'GPU audio functions');
    assert.ok(count((f) => f.classCode === 0x010802) > 0, 'NVMe');
    assert.ok(count((f) => f.sriov !== undefined) > 0, 'SR-IOV PFs');
    assert.ok(count((f) => f.virtfn) > h.functions.length / 2, 'VFs make up most of the host');
    const topo = Topology.build(h);
    const depth = Math.max(...topo.functions.map((f) => Topology.upstreamBridges(f).length));
    // root port + 3 switches (upstream and downstream port each) above the deepest endpoint
    assert.equal(depth, 7);
    assert.ok(h.slots.length > 0 && h.slots.every((s) => s.driver === 'pciehp'));
  });

  it('is deterministic per seed, and the seed changes the device mix', () => {
    const a = generateLargeHost({ functions: 512, seed: 7 });
    assert.deepEqual(generateLargeHost({ functions: 512, seed: 7 }), a);
    assert.notDeepEqual(generateLargeHost({ functions: 512, seed: 8 }).functions, a.functions);
  });

  it('refuses a count that is not a positive integer', () => {
    assert.throws(() => generateLargeHost({ functions: 0 }), /positive integer/);
    assert.throws(() => generateLargeHost({ functions: 1.5 }), /positive integer/);
  });

  it('round-trips through a topology file', () => {
    const h = generateLargeHost({ functions: 256, seed: 3 });
    const back = parseTopology(hostToTopologyYaml(h), 'large.yaml');
    assert.deepEqual(compareHostDescs(h, back), []);
  });

  it('round-trips through a sysfs dump of the simulated host, VFs included (physfn links)', () => {
    const h = generateLargeHost({ functions: 256, seed: 3 });
    const dir = mkdtempSync(join(tmpdir(), 'vfio-reset-large-'));
    try {
      const summary = writeSysfsDump(new SimKernel(h).sysfs, dir);
      assert.equal(summary.functions, 256);
      const back = readSysfsHost(new DirSysfsReader(dir), h.name).desc;
      assert.deepEqual(compareHostDescs(h, back), []);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
