/**
 * The QEMU topologies the rig boots, as data: the QEMU device arguments, which functions the
 * guest binds to vfio-pci (and which it leaves on a host driver), the modules the guest must
 * load for that, the simulated twin in examples/ (scenario files naming it as `topology:` run
 * here, and the guest's sysfs is compared with it), and rig-specific scenario files.
 *
 * Building blocks and predictions: kernel-rig.md and kernel-semantics.md §9–§10. Every PCIe
 * port sits at 00:02.0 so bus numbers match the examples (01 below the root port); the rig's
 * own virtio-9p devices are pinned at 00:1d.0 and 00:1e.0, out of the way.
 *
 * SR-IOV: QEMU 7.2 has no igb (added in 8.0), but its nvme has SR-IOV since 7.1: it needs an
 * nvme-subsys and flexible queue/interrupt resources (`sriov_max_vfs`, `sriov_vq_flexible` ≥ 2 per
 * VF, `sriov_vi_flexible` ≥ 1 per VF). Its VFs appear at PF devfn + 1, stride 1.
 * @module
 */

export interface HostBinding {
  bdf: string;
  /** A host driver (`e1000`, `nvme`, `pci-stub`): its module must be in `modules`. */
  driver: string;
}

export interface RigTopology {
  /** Short name: results directory, command-line filter. */
  readonly name: string;
  readonly summary: string;
  /** QEMU arguments for the devices under test (machine, vIOMMU, shares and kernel come from qemu.ts). */
  readonly args: readonly string[];
  /** Functions bound to vfio-pci before the scenarios run (after SR-IOV VFs are created). */
  readonly vfio: readonly string[];
  /** Functions bound to (or left on) a host driver inside a reset scope. */
  readonly host: readonly HostBinding[];
  /** Modules /init loads besides the VFIO and 9p chains: host drivers bound here or by scenario steps. */
  readonly modules: readonly string[];
  /** Simulated twin, repo-relative (examples/qemu-*.yaml), or null when there is none yet. */
  readonly example: string | null;
  /** Scenario files (repo-relative) run besides those whose `topology:` is `example`. */
  readonly scenarios: readonly string[];
  /** Create VFs on this PF (driver `host` entry) before binding. */
  readonly sriov: { readonly pf: string; readonly numvfs: number } | null;
}

// ---- QEMU argument helpers ------------------------------------------------------------------------

/** `-device pcie-root-port` at 00:02.0 (bus 01 below it) with extra properties. */
function rootPort(extra = ''): string[] {
  return ['-device', `pcie-root-port,id=rp1,bus=pcie.0,addr=0x2,chassis=1,slot=1${extra}`];
}

/** A NIC with its own isolated user-mode netdev and no option ROM (kernel-rig.md). */
function nic(model: string, id: string, bus: string, addr: string, extra = ''): string[] {
  return [
    '-netdev',
    `user,id=${id},restrict=on`,
    '-device',
    `${model},bus=${bus},addr=${addr},netdev=${id},romfile=${extra}`,
  ];
}

/** An nvme without namespaces: the controller is all a reset test needs, and no disk image is kept. */
function nvme(bus: string, addr: string, serial: string, extra = ''): string[] {
  return ['-device', `nvme,bus=${bus},addr=${addr},serial=${serial}${extra}`];
}

const NATIVE_HOTPLUG = ['-global', 'ICH9-LPC.acpi-pci-hotplug-with-bridge-support=off'];

const BASE = { host: [], modules: [], scenarios: [], sriov: null } as const;

// ---- the topologies -------------------------------------------------------------------------------

export const TOPOLOGIES: readonly RigTopology[] = [
  {
    ...BASE,
    name: 'rp',
    summary: 'e1000e alone behind a pcie-root-port (16 GT/s, ACPI hotplug)',
    args: [...rootPort(), ...nic('e1000e', 'n1', 'rp1', '0x0')],
    vfio: ['0000:01:00.0'],
    example: 'examples/qemu-rp.yaml',
  },
  {
    ...BASE,
    name: 'rpn',
    summary: 'RP with native PCIe hotplug (pciehp owns the root port slot)',
    args: [...NATIVE_HOTPLUG, ...rootPort(), ...nic('e1000e', 'n1', 'rp1', '0x0')],
    vfio: ['0000:01:00.0'],
    example: 'examples/qemu-rpn.yaml',
  },
  {
    ...BASE,
    name: 'rp25',
    summary: 'RP with the root port at 2.5 GT/s x1 (no link-active reporting)',
    args: [...rootPort(',x-speed=2_5,x-width=1'), ...nic('e1000e', 'n1', 'rp1', '0x0')],
    vfio: ['0000:01:00.0'],
    example: 'examples/qemu-rp25.yaml',
  },
  {
    ...BASE,
    name: 'mf',
    summary: 'two-function e1000e behind a 2.5 GT/s root port',
    args: [
      ...rootPort(',x-speed=2_5,x-width=1'),
      ...nic('e1000e', 'n1', 'rp1', '0x0.0x0', ',multifunction=on'),
      ...nic('e1000e', 'n2', 'rp1', '0x0.0x1'),
    ],
    vfio: ['0000:01:00.0', '0000:01:00.1'],
    example: 'examples/qemu-mf.yaml',
  },
  {
    ...BASE,
    name: 'sw',
    summary: 'x3130-upstream + xio3130-downstream switch -> nvme',
    args: [
      ...rootPort(),
      '-device',
      'x3130-upstream,id=up1,bus=rp1,addr=0x0',
      '-device',
      'xio3130-downstream,id=dn1,bus=up1,addr=0x0,chassis=2,slot=2',
      ...nvme('dn1', '0x0', 'vfio-reset'),
    ],
    vfio: ['0000:03:00.0'],
    example: 'examples/qemu-sw.yaml',
  },
  {
    ...BASE,
    name: 'ppb',
    summary: 'pcie-pci-bridge -> two conventional e1000 functions',
    args: [
      ...rootPort(),
      '-device',
      'pcie-pci-bridge,id=br1,bus=rp1,addr=0x0',
      ...nic('e1000', 'n1', 'br1', '0x1.0x0', ',multifunction=on'),
      ...nic('e1000', 'n2', 'br1', '0x1.0x1'),
    ],
    vfio: ['0000:02:01.0', '0000:02:01.1'],
    // Scenario steps bind 02:01.1 to the host e1000 driver (3) and to pci-stub (22, 30).
    modules: ['e1000', 'pci-stub'],
    example: 'examples/qemu-ppb.yaml',
  },
  {
    ...BASE,
    name: 'ppb-host',
    summary: 'PPB with 02:01.1 left on the host e1000 driver (inside the reset scope and the group)',
    args: [
      ...rootPort(),
      '-device',
      'pcie-pci-bridge,id=br1,bus=rp1,addr=0x0',
      ...nic('e1000', 'n1', 'br1', '0x1.0x0', ',multifunction=on'),
      ...nic('e1000', 'n2', 'br1', '0x1.0x1'),
    ],
    vfio: ['0000:02:01.0'],
    host: [{ bdf: '0000:02:01.1', driver: 'e1000' }],
    modules: ['e1000'],
    example: null,
    scenarios: ['scenarios/rig/ppb-host-group-not-viable.yaml'],
  },
  {
    ...BASE,
    name: 'root',
    summary: 'e1000e directly on the root bus pcie.0',
    args: [...nic('e1000e', 'n1', 'pcie.0', '0x2')],
    vfio: ['0000:00:02.0'],
    example: 'examples/qemu-root.yaml',
    scenarios: ['scenarios/rig/root-function-reset.yaml'],
  },
  {
    ...BASE,
    name: 'sw3',
    summary: 'switch with three downstream ports -> nvme, e1000e, e1000e',
    args: [
      ...rootPort(),
      '-device',
      'x3130-upstream,id=up1,bus=rp1,addr=0x0',
      '-device',
      'xio3130-downstream,id=dn1,bus=up1,addr=0x0,chassis=2,slot=2',
      '-device',
      'xio3130-downstream,id=dn2,bus=up1,addr=0x1,chassis=2,slot=3',
      '-device',
      'xio3130-downstream,id=dn3,bus=up1,addr=0x2,chassis=2,slot=4',
      ...nvme('dn1', '0x0', 'vfio-reset-1'),
      ...nic('e1000e', 'n1', 'dn2', '0x0'),
      ...nic('e1000e', 'n2', 'dn3', '0x0'),
    ],
    vfio: ['0000:03:00.0', '0000:04:00.0', '0000:05:00.0'],
    example: null,
    scenarios: ['scenarios/rig/sw3-hot-reset-per-port.yaml'],
  },
  {
    ...BASE,
    name: 'sriov',
    summary: 'SR-IOV nvme PF (host nvme driver) with two VFs on vfio-pci, behind a 2.5 GT/s root port',
    args: [
      ...rootPort(',x-speed=2_5,x-width=1'),
      '-device',
      'nvme-subsys,id=sub1',
      ...nvme(
        'rp1',
        '0x0',
        'vfio-reset-pf',
        ',subsys=sub1,sriov_max_vfs=2,sriov_vq_flexible=4,sriov_vi_flexible=2',
      ),
    ],
    vfio: ['0000:01:00.1', '0000:01:00.2'],
    host: [{ bdf: '0000:01:00.0', driver: 'nvme' }],
    modules: ['nvme'],
    example: null,
    scenarios: ['scenarios/rig/sriov-vf.yaml'],
    sriov: { pf: '0000:01:00.0', numvfs: 2 },
  },
];

export function topologyByName(name: string): RigTopology | undefined {
  return TOPOLOGIES.find((t) => t.name === name);
}
