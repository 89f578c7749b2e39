import assert from 'node:assert/strict';
import { mkdtempSync, readlinkSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import fc from 'fast-check';
import { compareObservations, type SnapshotDifference, snapshotHost } from '../../src/capture/snapshot.ts';
import { writeSysfsDump } from '../../src/host/dump.ts';
import { readSysfsHost } from '../../src/host/read-sysfs.ts';
import { DirSysfsReader } from '../../src/linux/sysfs-reader.ts';
import { formatBdf } from '../../src/pci/bdf.ts';
import { compareHostDescs } from '../../src/pci/host-compare.ts';
import type { HostDesc } from '../../src/pci/model.ts';
import { SimHost } from '../../src/sim/host.ts';
import { projectSysfs } from '../../src/sim/sysfs.ts';
import { generateHost } from '../../src/topology/generate.ts';
import { loadTopologyFile, parseTopology } from '../../src/topology/load.ts';

const EXAMPLES = [
  'workstation',
  'qemu-rp',
  'qemu-rpn',
  'qemu-rp25',
  'qemu-sw',
  'qemu-ppb',
  'qemu-root',
  'qemu-mf',
  'm2g',
];
const example = (name: string) => loadTopologyFile(`examples/${name}.yaml`);
const simulated = (h: HostDesc) => projectSysfs(new SimHost(h));
const scale = Math.max(1, Number(process.env.VFIO_RESET_FUZZ) || 1);

const tmp = mkdtempSync(join(tmpdir(), 'vfio-reset-snapshot-'));
after(() => rmSync(tmp, { recursive: true, force: true }));
let dumps = 0;
/** A sysfs dump of a simulated example on disk, to edit like a real host's sysfs. */
function dumpOf(name: string): { dir: string; dev: (bdf: string) => string } {
  const dir = join(tmp, `${name}-${dumps++}`);
  const sys = simulated(example(name));
  writeSysfsDump(sys, dir);
  const reader = new DirSysfsReader(dir);
  return {
    dir,
    dev: (bdf) => join(dir, readSysfsHost(reader).observed.get(bdf)!.path),
  };
}
/** Points a device's iommu_group link at group `id` (the rest of the dump is left as it was). */
function moveToGroup(devDir: string, id: number): void {
  const link = join(devDir, 'iommu_group');
  const target = readlinkSync(link).replace(/\/\d+$/, `/${id}`);
  unlinkSync(link);
  symlinkSync(target, link);
}
const groupOf = (name: string, bdf: string) => new SimHost(example(name)).groups.groupOf(bdf)!;

describe('snapshotHost: a simulated host reproduces itself', () => {
  for (const name of EXAMPLES) {
    it(`${name}: no differences, nothing lost, a header saying where and when`, () => {
      const s = snapshotHost(simulated(example(name)), {
        name,
        from: `sim:examples/${name}.yaml`,
        at: '2025-06-01T12:00:00Z',
      });
      assert.deepEqual(s.differences, []);
      assert.deepEqual(s.losses, []);
      assert.deepEqual(s.warnings, []);
      assert.match(
        s.yaml,
        /^# Captured from sim:examples\/\S+\.yaml at 2025-06-01T12:00:00Z by vfio-reset snapshot\.\n/,
      );
      // The file is a topology file: loading it gives the captured host.
      assert.deepEqual(compareHostDescs(s.desc, parseTopology(s.yaml)), []);
    });
  }

  it('generated hosts without quirk flags: no differences (fast-check)', () => {
    fc.assert(
      fc.property(fc.integer(), (seed) => {
        const s = snapshotHost(simulated(generateHost(seed, { maxFunctions: 16, quirkRate: 0 })));
        assert.deepEqual(s.differences, []);
      }),
      { numRuns: 60 * scale },
    );
  });

  it('a sysfs dump on disk of a simulated host: no differences either', () => {
    const { dir } = dumpOf('workstation');
    assert.deepEqual(snapshotHost(new DirSysfsReader(dir)).differences, []);
  });
});

describe('snapshotHost: a host whose sysfs says something else', () => {
  it('an edited reset_method file is exactly one reset-methods difference', () => {
    const { dir, dev } = dumpOf('qemu-rp');
    writeFileSync(join(dev('0000:01:00.0'), 'reset_method'), 'bus\n');
    const s = snapshotHost(new DirSysfsReader(dir));
    assert.deepEqual(s.differences, [
      { bdf: '0000:01:00.0', what: 'reset-methods', host: ['bus'], simulated: ['pm', 'bus'] },
    ]);
  });

  it('a device moved into another group: the partition differences, and its id apart', () => {
    const { dir, dev } = dumpOf('workstation');
    const [gpu, audio, nvme] = ['0000:01:00.0', '0000:01:00.1', '0000:04:00.0'];
    const nvmeGroup = groupOf('workstation', nvme);
    moveToGroup(dev(audio), nvmeGroup);
    const s = snapshotHost(new DirSysfsReader(dir));
    assert.deepEqual(s.differences, [
      { bdf: gpu, what: 'group', host: [gpu], simulated: [gpu, audio] },
      { bdf: audio, what: 'group', host: [audio, nvme], simulated: [gpu, audio] },
      { bdf: audio, what: 'group-id', host: nvmeGroup, simulated: groupOf('workstation', audio) },
      { bdf: nvme, what: 'group', host: [audio, nvme], simulated: [nvme] },
    ] satisfies SnapshotDifference[]);
  });

  it('renumbered groups alone are only group-id differences', () => {
    const { dir, dev } = dumpOf('qemu-sw');
    const nvme = '0000:03:00.0';
    const dsp = '0000:02:00.0'; // shares the nvme's group (no ACS on the xio3130 port)
    for (const b of [nvme, dsp]) moveToGroup(dev(b), 42);
    const s = snapshotHost(new DirSysfsReader(dir));
    assert.deepEqual(
      s.differences.map((d) => [d.bdf, d.what, d.host, d.simulated]),
      [
        [dsp, 'group-id', 42, groupOf('qemu-sw', dsp)],
        [nvme, 'group-id', 42, groupOf('qemu-sw', nvme)],
      ],
    );
  });

  it('missing reset and reset_method files are reported as such', () => {
    const { dir, dev } = dumpOf('qemu-mf');
    const f1 = '0000:01:00.1';
    unlinkSync(join(dev(f1), 'reset_method'));
    unlinkSync(join(dev(f1), 'reset'));
    const s = snapshotHost(new DirSysfsReader(dir));
    assert.deepEqual(s.differences, [
      { bdf: f1, what: 'reset-method-file', host: false, simulated: true },
      { bdf: f1, what: 'reset-file', host: false, simulated: true },
    ]);
  });

  it('what sysfs cannot show (a quirk flag) comes out as the difference it makes', () => {
    const h = example('qemu-rp');
    const nic = h.functions.find((f) => formatBdf(f.bdf) === '0000:01:00.0')!;
    nic.quirks = ['NO_PM_RESET'];
    const s = snapshotHost(simulated(h));
    assert.deepEqual(s.differences, [
      { bdf: '0000:01:00.0', what: 'reset-methods', host: ['bus'], simulated: ['pm', 'bus'] },
    ]);
  });

  it('acpi in reset_method means firmware _RST: written as acpi_reset, no difference', () => {
    const h = example('qemu-rp');
    h.functions.find((f) => formatBdf(f.bdf) === '0000:01:00.0')!.acpiReset = true;
    const s = snapshotHost(simulated(h));
    assert.deepEqual(s.differences, []);
    assert.match(s.yaml, /acpi_reset: true/);
    assert.ok(s.warnings.some((w) => /0000:01:00\.0: reset_method lists acpi/.test(w)));
  });

  it('a function without an iommu_group link is a group difference (null on the host)', () => {
    const { dir, dev } = dumpOf('qemu-rp');
    unlinkSync(join(dev('0000:01:00.0'), 'iommu_group'));
    const s = snapshotHost(new DirSysfsReader(dir));
    assert.deepEqual(s.differences, [
      { bdf: '0000:01:00.0', what: 'group', host: null, simulated: ['0000:01:00.0'] },
    ]);
  });

  it('a driver the simulator does not bind (vfio-pci without an IOMMU) is a driver difference', () => {
    const s = snapshotHost(projectSysfs(new SimHost(example('qemu-rp'), { iommu: false })));
    assert.deepEqual(s.differences, [
      { bdf: '0000:01:00.0', what: 'driver', host: 'vfio-pci', simulated: null },
    ]);
  });

  it('an unprivileged read (64-byte config) is warned about in the result and the file', () => {
    const { dir, dev } = dumpOf('qemu-rp');
    const config = join(dev('0000:01:00.0'), 'config');
    const head = new Uint8Array(64);
    head.set([0x86, 0x80, 0xd3, 0x10]); // what an unprivileged read of sysfs config returns: the header only
    writeFileSync(config, head);
    const s = snapshotHost(new DirSysfsReader(dir));
    assert.ok(s.warnings.some((w) => /cut to 64 bytes/.test(w)));
    assert.match(s.yaml, /^# Warning: config space of 1 function\(s\) was cut to 64 bytes/m);
  });

  it('the era decides which kernel the host is compared with', () => {
    const s = snapshotHost(simulated(example('qemu-rp')), { era: '2013' });
    assert.ok(s.differences.length > 0);
    assert.ok(s.differences.every((d) => d.what === 'reset-method-file'));
  });
});

describe('compareObservations', () => {
  it('is empty for a host compared with itself', () => {
    const read = readSysfsHost(simulated(example('workstation')));
    assert.deepEqual(compareObservations(read, read), []);
  });
});
