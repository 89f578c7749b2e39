/**
 * The QEMU command line of one rig boot, as a pure function of the topology and the paths, so a
 * unit test can check it without QEMU. Machine and acceleration are kernel-rig.md's measured
 * choices: KVM guests hang on this kind of machine, so TCG; q35 with a split irqchip and an
 * emulated VT-d (caching-mode so vfio-pci works behind it); no default devices, so the only PCI
 * functions are the topology's plus the rig's two virtio-9p shares.
 * @module
 */

import type { RigTopology } from './topologies.ts';

export interface BootPaths {
  /** `/boot/vmlinuz-<ver>`. */
  kernel: string;
  /** The initramfs built by rig/build-initramfs.sh. */
  initrd: string;
  /** Host directory the guest writes its results into (the writable 9p export). */
  outDir: string;
  /** The repository, at the same absolute path on the host and in the guest's chroot. */
  repo: string;
  /** What the guest runs in its chroot: a bundled `.mjs` or `src/rig/guest.ts` (then with tsx). */
  entry: string;
  /** node in the host root (the guest chroots into it). */
  node: string;
}

export const MACHINE_ARGS = [
  '-accel',
  'tcg,thread=multi',
  '-cpu',
  'max',
  '-machine',
  'q35,kernel-irqchip=split',
  '-device',
  'intel-iommu,intremap=on,caching-mode=on',
  '-m',
  '1024',
  '-smp',
  '2',
  // -nodefaults drops the default NIC and VGA (they would take 00:01.0/00:02.0); the serial
  // console goes to stdout, which the host driver writes to console.log.
  '-nodefaults',
  '-nographic',
  '-serial',
  'stdio',
  '-no-reboot',
] as const;

/** Slots of the rig's own devices on pcie.0, away from the topologies' 00:02.0. */
export const SHARE_SLOTS = { hostroot: '0x1e', rigout: '0x1d' } as const;

/** Values on the kernel command line are space-separated words: refuse anything that would split. */
function word(what: string, v: string): string {
  if (!/^[A-Za-z0-9_./,:+=-]+$/.test(v))
    throw new Error(`${what} "${v}" cannot go on the kernel command line`);
  return v;
}

export function kernelCmdline(t: RigTopology, p: BootPaths): string {
  const parts = [
    'console=ttyS0',
    'intel_iommu=on',
    'iommu=pt',
    'quiet',
    // A panic reboots at once, and -no-reboot turns that into QEMU exiting: no hang until the timeout.
    'panic=-1',
    `rig.repo=${word('repo', p.repo)}`,
    `rig.entry=${word('entry', p.entry)}`,
    `rig.node=${word('node', p.node)}`,
  ];
  if (t.modules.length > 0) parts.push(`rig.modules=${t.modules.map((m) => word('module', m)).join(',')}`);
  return parts.join(' ');
}

/** The fsdev path option: QEMU splits options at commas (a literal comma is written twice). */
function fsPath(p: string): string {
  return p.replaceAll(',', ',,');
}

export function qemuArgv(t: RigTopology, p: BootPaths): string[] {
  return [
    ...MACHINE_ARGS,
    '-kernel',
    p.kernel,
    '-initrd',
    p.initrd,
    '-append',
    kernelCmdline(t, p),
    // The host root, read-only: the guest runs the host's node on the checked-out repo.
    '-fsdev',
    'local,id=hostroot,path=/,security_model=none,readonly=on,multidevs=remap',
    '-device',
    `virtio-9p-pci,fsdev=hostroot,mount_tag=hostroot,bus=pcie.0,addr=${SHARE_SLOTS.hostroot}`,
    // The only writable export: this boot's results directory.
    '-fsdev',
    `local,id=rigout,path=${fsPath(p.outDir)},security_model=none`,
    '-device',
    `virtio-9p-pci,fsdev=rigout,mount_tag=rigout,bus=pcie.0,addr=${SHARE_SLOTS.rigout}`,
    ...t.args,
  ];
}
