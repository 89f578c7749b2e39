/**
 * Safety checks on fixture hosts: sysfs and procfs trees in a temp dir, with real symlinks laid
 * out as the kernel lays them (device dirs under devices/pci0000:00, bus/pci/devices and
 * /sys/block links into them, `device` links below block and net class devices).
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { after, test } from 'node:test';
import {
  checkDestructive,
  normalizeBdf,
  type Refusal,
  refusalText,
  UnsafeOperationError,
} from '../../src/linux/safety.ts';

const tmp = mkdtempSync(join(tmpdir(), 'vfio-reset-safety-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

interface DevSpec {
  bdf: string;
  /** Upstream bridge (BDF); absent: on the root bus. */
  parent?: string;
  driver?: string;
  group?: number;
  id?: string;
  bootVga?: boolean;
}

interface DiskSpec {
  name: string;
  /** The PCI function of the controller. */
  controller: string;
  /** Path between the controller and the `block` dir, e.g. `ata1/host0/target0:0:0/0:0:0:0`. */
  via: string;
  dev: string;
  partitions?: { name: string; dev: string }[];
}

interface NetSpec {
  iface: string;
  controller?: string;
  up: boolean;
  lower?: string[];
}

interface HostSpec {
  iommu: boolean;
  devices: DevSpec[];
  disks?: DiskSpec[];
  /** Device-mapper volumes over partitions or disks. */
  dm?: { name: string; dmName: string; dev: string; slaves: string[] }[];
  net?: NetSpec[];
  mountinfo?: string[];
  mounts?: string[];
  swaps?: string[];
  route?: string[];
  ipv6Route?: string[];
}

let n = 0;

function put(path: string, text: string): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, text);
}

/** A symlink at `at` pointing at `to`, stored relative as sysfs stores them. */
function link(at: string, to: string): void {
  mkdirSync(dirname(at), { recursive: true });
  symlinkSync(relative(dirname(at), to), at);
}

function buildHost(spec: HostSpec): { sys: string; proc: string } {
  const base = join(tmp, `host${n++}`);
  const sys = join(base, 'sys');
  const proc = join(base, 'proc');
  const byBdf = new Map(spec.devices.map((d) => [d.bdf, d]));
  const devDir = (bdf: string): string => {
    const d = byBdf.get(bdf)!;
    return d.parent ? join(devDir(d.parent), bdf) : join(sys, 'devices/pci0000:00', bdf);
  };
  mkdirSync(join(sys, 'kernel/iommu_groups'), { recursive: true });
  mkdirSync(join(sys, 'block'), { recursive: true });
  for (const d of spec.devices) {
    const dir = devDir(d.bdf);
    const [vendor, device] = (d.id ?? '8086:1234').split(':');
    put(join(dir, 'vendor'), `0x${vendor}\n`);
    put(join(dir, 'device'), `0x${device}\n`);
    if (d.bootVga !== undefined) put(join(dir, 'boot_vga'), d.bootVga ? '1\n' : '0\n');
    link(join(sys, 'bus/pci/devices', d.bdf), dir);
    if (d.driver) {
      mkdirSync(join(sys, 'bus/pci/drivers', d.driver), { recursive: true });
      link(join(dir, 'driver'), join(sys, 'bus/pci/drivers', d.driver));
    }
    if (spec.iommu && d.group !== undefined) {
      const g = join(sys, 'kernel/iommu_groups', String(d.group));
      link(join(dir, 'iommu_group'), g);
      link(join(g, 'devices', d.bdf), dir);
    }
  }
  for (const k of spec.disks ?? []) {
    const parent = join(devDir(k.controller), k.via);
    const disk = join(parent, 'block', k.name);
    put(join(disk, 'dev'), `${k.dev}\n`);
    link(join(disk, 'device'), parent);
    for (const p of k.partitions ?? []) {
      put(join(disk, p.name, 'dev'), `${p.dev}\n`);
      put(join(disk, p.name, 'partition'), '1\n');
    }
    link(join(sys, 'block', k.name), disk);
  }
  for (const v of spec.dm ?? []) {
    const dir = join(sys, 'devices/virtual/block', v.name);
    put(join(dir, 'dev'), `${v.dev}\n`);
    put(join(dir, 'dm/name'), `${v.dmName}\n`);
    mkdirSync(join(dir, 'slaves'), { recursive: true });
    link(join(sys, 'block', v.name), dir);
    for (const s of v.slaves) {
      const k = spec.disks!.find((d) => d.name === s || d.partitions?.some((p) => p.name === s))!;
      const diskDir = join(devDir(k.controller), k.via, 'block', k.name);
      link(join(dir, 'slaves', s), s === k.name ? diskDir : join(diskDir, s));
    }
  }
  for (const i of spec.net ?? []) {
    const dir = i.controller
      ? join(devDir(i.controller), 'net', i.iface)
      : join(sys, 'devices/virtual/net', i.iface);
    put(join(dir, 'flags'), i.up ? '0x1003\n' : '0x1002\n');
    put(join(dir, 'operstate'), i.up ? 'up\n' : 'down\n');
    if (i.controller) link(join(dir, 'device'), devDir(i.controller));
    link(join(sys, 'class/net', i.iface), dir);
  }
  for (const i of spec.net ?? []) {
    for (const l of i.lower ?? []) {
      const own = join(sys, 'class/net', i.iface);
      link(join(own, `lower_${l}`), join(sys, 'class/net', l));
    }
  }
  if (spec.mountinfo) put(join(proc, 'self/mountinfo'), `${spec.mountinfo.join('\n')}\n`);
  if (spec.mounts) put(join(proc, 'self/mounts'), `${spec.mounts.join('\n')}\n`);
  if (!spec.mountinfo && !spec.mounts) mkdirSync(join(proc, 'self'), { recursive: true });
  put(join(proc, 'swaps'), ['Filename\tType\tSize\tUsed\tPriority', ...(spec.swaps ?? [])].join('\n'));
  const routeHeader = 'Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT';
  put(join(proc, 'net/route'), [routeHeader, ...(spec.route ?? [])].join('\n'));
  put(join(proc, 'net/ipv6_route'), (spec.ipv6Route ?? []).join('\n'));
  return { sys, proc };
}

const ROOT = { euid: 0 } as const;
const PROC_MOUNTS = ['proc /proc proc rw 0 0', 'sysfs /sys sysfs rw 0 0'];

const codes = (rs: Refusal[]) => rs.map((r) => r.code);

/** A workstation: GPU + its audio function in group 5 under a root port; NVMe and SATA; a NIC. */
function workstation(extra: Partial<HostSpec> = {}): HostSpec {
  return {
    iommu: true,
    devices: [
      { bdf: '0000:00:01.0', driver: 'pcieport', group: 1 },
      {
        bdf: '0000:01:00.0',
        parent: '0000:00:01.0',
        driver: 'nouveau',
        group: 5,
        id: '10de:1b80',
        bootVga: true,
      },
      { bdf: '0000:01:00.1', parent: '0000:00:01.0', driver: 'snd_hda_intel', group: 5, id: '10de:10f0' },
      { bdf: '0000:00:1c.0', driver: 'pcieport', group: 7 },
      { bdf: '0000:02:00.0', parent: '0000:00:1c.0', driver: 'nvme', group: 8, id: '144d:a808' },
      { bdf: '0000:00:17.0', driver: 'ahci', group: 9, id: '8086:a352' },
      { bdf: '0000:00:1d.0', driver: 'pcieport', group: 10 },
      { bdf: '0000:03:00.0', parent: '0000:00:1d.0', driver: 'vfio-pci', group: 11, id: '8086:10fb' },
      { bdf: '0000:03:00.1', parent: '0000:00:1d.0', driver: 'ixgbe', group: 12, id: '8086:10fb' },
      { bdf: '0000:00:1f.6', driver: 'e1000e', group: 13, id: '8086:15bc' },
    ],
    disks: [
      {
        name: 'nvme0n1',
        controller: '0000:02:00.0',
        via: 'nvme/nvme0',
        dev: '259:0',
        partitions: [
          { name: 'nvme0n1p1', dev: '259:1' },
          { name: 'nvme0n1p2', dev: '259:2' },
        ],
      },
      {
        name: 'sda',
        controller: '0000:00:17.0',
        via: 'ata1/host0/target0:0:0/0:0:0:0',
        dev: '8:0',
        partitions: [
          { name: 'sda1', dev: '8:1' },
          { name: 'sda2', dev: '8:2' },
        ],
      },
    ],
    net: [
      { iface: 'enp3s0f1', controller: '0000:03:00.1', up: true },
      { iface: 'eno1', controller: '0000:00:1f.6', up: true },
    ],
    mounts: PROC_MOUNTS,
    ...extra,
  };
}

test('normalizeBdf accepts short and upper-case forms and rejects the rest', () => {
  assert.equal(normalizeBdf('01:00.0'), '0000:01:00.0');
  assert.equal(normalizeBdf(' 0000:0A:1F.7 '), '0000:0a:1f.7');
  assert.equal(normalizeBdf('10000:00:02.0'), '10000:00:02.0');
  for (const bad of ['', '1:00.0', '0000:01:20.0', '0000:01:00.8', 'eth0'])
    assert.equal(normalizeBdf(bad), null, bad);
});

test('a device with nothing of the host in the way, as root, is OK', () => {
  const h = buildHost(workstation());
  assert.deepEqual(checkDestructive(h.sys, h.proc, '0000:03:00.0', { ...ROOT, busScope: false }), []);
});

test('no IOMMU: refused, naming the device with its driver', () => {
  const spec = workstation();
  const h = buildHost({ ...spec, iommu: false });
  const rs = checkDestructive(h.sys, h.proc, '0000:03:00.0', { ...ROOT, busScope: false });
  assert.deepEqual(codes(rs), ['no-iommu']);
  assert.deepEqual(rs[0]!.device, { bdf: '0000:03:00.0', driver: 'vfio-pci', group: null });
  assert.match(refusalText(rs[0]!), /intel_iommu=on.*0000:03:00\.0/);
});

test('the IOMMU is on but the device has no group', () => {
  const spec = workstation();
  spec.devices.push({ bdf: '0000:00:1f.4', driver: 'i801_smbus' });
  const h = buildHost(spec);
  assert.deepEqual(codes(checkDestructive(h.sys, h.proc, '0000:00:1f.4', ROOT)), ['no-iommu-group']);
});

test('missing device, bad address, wrong vendor:device', () => {
  const h = buildHost(workstation());
  const missing = checkDestructive(h.sys, h.proc, '05:00.0', ROOT);
  assert.deepEqual(missing, [
    { code: 'no-device', device: { bdf: '0000:05:00.0', driver: null, group: null } },
  ]);
  assert.deepEqual(codes(checkDestructive(h.sys, h.proc, 'eth0', ROOT)), ['bad-bdf']);
  const wrong = checkDestructive(h.sys, h.proc, '0000:03:00.0', {
    ...ROOT,
    busScope: false,
    expectId: '10de:1b80',
  });
  assert.deepEqual(wrong, [
    {
      code: 'id-mismatch',
      device: { bdf: '0000:03:00.0', driver: 'vfio-pci', group: 11 },
      expected: '10de:1b80',
      found: '8086:10fb',
    },
  ]);
  assert.deepEqual(
    checkDestructive(h.sys, h.proc, '0000:03:00.0', { ...ROOT, busScope: false, expectId: '0x8086:0x10FB' }),
    [],
  );
});

test('not root: refused first, whatever else is found', () => {
  const h = buildHost(workstation());
  const rs = checkDestructive(h.sys, h.proc, '0000:03:00.0', { euid: 1000, busScope: false });
  assert.deepEqual(rs, [
    { code: 'not-root', device: { bdf: '0000:03:00.0', driver: 'vfio-pci', group: 11 }, euid: 1000 },
  ]);
});

test('the boot GPU in the target’s group is named by BDF, driver and group', () => {
  const h = buildHost(workstation());
  const rs = checkDestructive(h.sys, h.proc, '0000:01:00.1', ROOT);
  assert.deepEqual(rs, [
    {
      code: 'boot-vga',
      device: { bdf: '0000:01:00.0', driver: 'nouveau', group: 5 },
      target: '0000:01:00.1',
      reach: 'group',
    },
  ]);
  assert.equal(
    refusalText(rs[0]!),
    '0000:01:00.0 (driver nouveau, IOMMU group 5) is the boot/console GPU, in the IOMMU group of 0000:01:00.1',
  );
  // The GPU itself, too; a secondary GPU (boot_vga 0) is not refused.
  assert.deepEqual(codes(checkDestructive(h.sys, h.proc, '0000:01:00.0', ROOT)), ['boot-vga']);
  const h2 = buildHost(
    workstation({
      devices: workstation().devices.map((d) => (d.bdf === '0000:01:00.0' ? { ...d, bootVga: false } : d)),
    }),
  );
  assert.deepEqual(checkDestructive(h2.sys, h2.proc, '0000:01:00.1', ROOT), []);
});

test('a mounted disk behind the device (mountinfo major:minor, even as /dev/root)', () => {
  const h = buildHost(
    workstation({
      mountinfo: [
        '22 27 0:21 / /proc rw,relatime - proc proc rw',
        '27 1 259:2 / / rw,relatime - ext4 /dev/root rw',
        '28 27 259:1 / /boot\\040efi rw,relatime - vfat /dev/nvme0n1p1 rw',
      ],
    }),
  );
  const rs = checkDestructive(h.sys, h.proc, '0000:02:00.0', ROOT);
  assert.deepEqual(rs, [
    {
      code: 'mounted-storage',
      device: { bdf: '0000:02:00.0', driver: 'nvme', group: 8 },
      target: '0000:02:00.0',
      reach: 'target',
      disk: 'nvme0n1',
      mounts: [
        { source: '/dev/root', target: '/' },
        { source: '/dev/nvme0n1p1', target: '/boot efi' },
      ],
    },
  ]);
  assert.match(
    refusalText(rs[0]!),
    /^0000:02:00\.0 \(driver nvme, IOMMU group 8\) holds disk nvme0n1, in use/,
  );
  // The SATA controller holds nothing mounted.
  assert.deepEqual(checkDestructive(h.sys, h.proc, '0000:00:17.0', ROOT), []);
});

test('a mounted LVM volume and swap reach their disk through dm slaves (mounts, no mountinfo)', () => {
  const h = buildHost(
    workstation({
      dm: [{ name: 'dm-0', dmName: 'vg-root', dev: '254:0', slaves: ['sda2'] }],
      mounts: [...PROC_MOUNTS, '/dev/mapper/vg-root / ext4 rw 0 0'],
      swaps: ['/dev/sda1\tpartition\t1048572\t0\t-2'],
    }),
  );
  const rs = checkDestructive(h.sys, h.proc, '0000:00:17.0', ROOT);
  assert.deepEqual(codes(rs), ['mounted-storage']);
  assert.deepEqual(rs[0]!.code === 'mounted-storage' && rs[0]!.mounts, [
    { source: '/dev/mapper/vg-root', target: '/' },
    { source: '/dev/sda1', target: '[swap]' },
  ]);
});

test('a bus reset reaches functions of other groups below the same bridge', () => {
  const h = buildHost(
    workstation({
      route: ['enp3s0f1\t00000000\t0101A8C0\t0003\t0\t0\t100\t00000000\t0\t0\t0'],
    }),
  );
  const rs = checkDestructive(h.sys, h.proc, '0000:03:00.0', ROOT);
  assert.deepEqual(rs, [
    {
      code: 'default-route',
      device: { bdf: '0000:03:00.1', driver: 'ixgbe', group: 12 },
      target: '0000:03:00.0',
      reach: 'bus',
      iface: 'enp3s0f1',
      via: 'enp3s0f1',
      family: 'ipv4',
    },
  ]);
  assert.match(refusalText(rs[0]!), /below the same bridge as 0000:03:00\.0 \(a bus reset resets it too\)/);
  assert.deepEqual(checkDestructive(h.sys, h.proc, '0000:03:00.0', { ...ROOT, busScope: false }), []);
});

test('the default route through a bond (IPv6) names the NIC under it; a down interface does not count', () => {
  const base = workstation();
  const h = buildHost({
    ...base,
    net: [...base.net!, { iface: 'bond0', up: true, lower: ['eno1'] }],
    ipv6Route: [
      '00000000000000000000000000000000 00 00000000000000000000000000000000 00 fe800000000000000000000000000001 00000400 00000002 00000000 00000003 bond0',
      '00000000000000000000000000000000 00 00000000000000000000000000000000 00 00000000000000000000000000000000 ffffffff 00000001 00000000 00200200       lo',
    ],
  });
  const rs = checkDestructive(h.sys, h.proc, '0000:00:1f.6', ROOT);
  assert.deepEqual(codes(rs), ['default-route']);
  assert.ok(
    rs[0]!.code === 'default-route' &&
      rs[0]!.iface === 'eno1' &&
      rs[0]!.via === 'bond0' &&
      rs[0]!.family === 'ipv6',
  );

  const down = buildHost({
    ...base,
    net: [{ iface: 'eno1', controller: '0000:00:1f.6', up: false }],
    route: ['eno1\t00000000\t0101A8C0\t0003\t0\t0\t100\t00000000\t0\t0\t0'],
  });
  assert.deepEqual(checkDestructive(down.sys, down.proc, '0000:00:1f.6', ROOT), []);
});

test('no readable mount table fails closed', () => {
  const spec = workstation();
  delete spec.mounts;
  const h = buildHost(spec);
  assert.deepEqual(codes(checkDestructive(h.sys, h.proc, '0000:03:00.0', { ...ROOT, busScope: false })), [
    'cannot-check',
  ]);
});

test('UnsafeOperationError carries the refusals and says them in one message', () => {
  const h = buildHost(workstation());
  const rs = checkDestructive(h.sys, h.proc, '0000:01:00.1', { euid: 1000 });
  const e = new UnsafeOperationError(rs);
  assert.equal(e.code, 'VFIO_RESET_E_UNSAFE');
  assert.deepEqual(codes(e.refusals), ['not-root', 'boot-vga']);
  assert.match(
    e.message,
    /not running as root.*; 0000:01:00\.0 \(driver nouveau, IOMMU group 5\) is the boot\/console GPU/,
  );
});
