/**
 * The description of a PCI host: what a topology file, a sysfs dump or an `lspci -xxxx` dump
 * says about each function, before anything is computed from it. Everything the kernel would
 * *derive* (reset methods, IOMMU groups, scopes, dev_sets) is computed elsewhere in `pci/`
 * from these descriptions and is never stored here.
 *
 * Capability fields mirror the config-space bits the kernel reads (kernel-semantics.md §1.1),
 * so a description round-trips through a 4096-byte config image (`config-space.ts`).
 * @module
 */

import type { Bdf } from './bdf.ts';

/** PCIe Device/Port Type (PCIe capability, Flags bits 7..4), named as the kernel's `PCI_EXP_TYPE_*`. */
export const PCIE_TYPES = {
  endpoint: 0x0,
  'legacy-endpoint': 0x1,
  'root-port': 0x4,
  upstream: 0x5,
  downstream: 0x6,
  /** PCIe-to-PCI/PCI-X bridge (`PCI_EXP_TYPE_PCI_BRIDGE`), e.g. QEMU `pcie-pci-bridge`. */
  'pcie-to-pci': 0x7,
  /** PCI/PCI-X-to-PCIe bridge (`PCI_EXP_TYPE_PCIE_BRIDGE`). */
  'pci-to-pcie': 0x8,
  /** Root-complex integrated endpoint (`PCI_EXP_TYPE_RC_END`). */
  'rc-endpoint': 0x9,
  /** Root-complex event collector (`PCI_EXP_TYPE_RC_EC`). */
  'rc-event-collector': 0xa,
} as const;
export type PcieType = keyof typeof PCIE_TYPES;

/** Link speeds as PCIe encodes them in LNKCAP.SLS and the LNKCAP2 vector (bit n-1 ⇔ code n). */
export const LINK_SPEEDS = { '2.5': 1, '5': 2, '8': 3, '16': 4, '32': 5, '64': 6 } as const;
export type LinkSpeedGts = keyof typeof LINK_SPEEDS;

export interface PcieCap {
  type: PcieType;
  /** DEVCAP bit 28: Function Level Reset capable. */
  flr: boolean;
  /** LNKCAP bits 3..0 (Max Link Speed code); 0 when the port leaves it unset (QEMU xio3130). */
  linkSpeedCode: number;
  /** LNKCAP2 bits 7..1, the Supported Link Speeds vector (stored shifted: bit 0 = 2.5 GT/s); 0 = absent. */
  linkSpeedsVector: number;
  /** LNKCAP bits 9..4, Max Link Width. */
  linkWidth: number;
  /** LNKCAP bit 20: Data Link Layer Link Active Reporting Capable (DLLLARC). */
  dllActiveReporting: boolean;
  /** LNKSTA bit 13 (DLLLA) as it reads at rest; what it does after a reset is the simulator's business. */
  linkActive: boolean;
  /** FLAGS bit 8 Slot Implemented + SLTCAP, on downstream/root ports that have a slot. */
  slot?: SlotCap;
}

export interface SlotCap {
  /** SLTCAP bits 31..19, Physical Slot Number. */
  physicalNumber: number;
  /** SLTCAP bit 6: Hot-Plug Capable. */
  hotplugCapable: boolean;
  /** SLTCAP bit 0: Attention Button Present. */
  attentionButton: boolean;
  /** SLTCAP bit 1: Power Controller Present. */
  powerController: boolean;
  /** SLTCAP bit 5: Hot-Plug Surprise. */
  surprise: boolean;
  /** SLTCAP bit 18: No Command Completed Support. */
  noCommandCompleted: boolean;
}

export interface PmCap {
  /** PMCSR bit 3: No_Soft_Reset. When set, the kernel's `pm` reset method is unavailable. */
  noSoftReset: boolean;
}

/** Advanced Features capability (conventional-PCI FLR). */
export interface AfCap {
  /** AF_CAP bit 0: Transactions Pending capable. */
  tp: boolean;
  /** AF_CAP bit 1: Function Level Reset capable. */
  flr: boolean;
}

/** ACS bits, shared by the capability and control registers. */
export const ACS_BITS = {
  sv: 0x01, // source validation
  tb: 0x02, // translation blocking
  rr: 0x04, // P2P request redirect
  cr: 0x08, // P2P completion redirect
  uf: 0x10, // upstream forwarding
  ec: 0x20, // P2P egress control
  dt: 0x40, // direct translated P2P
} as const;
export type AcsBit = keyof typeof ACS_BITS;

export interface AcsCap {
  /** ACS Capability register (which features exist). */
  cap: number;
  /** ACS Control register (which features are enabled). */
  ctrl: number;
}

export interface SriovCap {
  totalVfs: number;
  numVfs: number;
  vfDeviceId: number;
}

/**
 * The kernel's `PCI_DEV_FLAGS_*` that matter to reset and grouping. Most come from the kernel's
 * quirk tables (see `quirks.ts`, applied by vendor/device); a description may add more.
 */
export const QUIRK_FLAGS = [
  'NO_BUS_RESET',
  'NO_FLR_RESET',
  'NO_PM_RESET',
  'BRIDGE_XLATE_ROOT',
  'PCIE_BRIDGE_ALIAS',
  /** ACS is known-good on this device even without an ACS capability (the kernel's ACS quirks). */
  'ACS_QUIRK',
] as const;
export type QuirkFlag = (typeof QUIRK_FLAGS)[number];

export type HeaderKind = 'normal' | 'bridge' | 'cardbus';

/** One PCI function as the host shows it. */
export interface FunctionDesc {
  bdf: Bdf;
  vendor: number;
  device: number;
  /** 24-bit class code: base class, sub-class, prog-if (sysfs `class` 0x030000). */
  classCode: number;
  revision: number;
  subsystemVendor: number;
  subsystemDevice: number;
  header: HeaderKind;
  /** Header Type bit 7. The kernel also forces `multifunction` for every function found at fn > 0. */
  multifunctionBit: boolean;
  /** Secondary/subordinate bus numbers for bridges; absent for endpoints. */
  bridge?: { secondary: number; subordinate: number };
  /** Absent for conventional PCI functions. */
  pcie?: PcieCap;
  pm?: PmCap;
  af?: AfCap;
  acs?: AcsCap;
  sriov?: SriovCap;
  /** Quirk flags beyond those the kernel's tables give this vendor/device (`quirks.ts`). */
  quirks: QuirkFlag[];
  /** Firmware `_RST` on the ACPI companion: adds the `acpi` reset method. */
  acpiReset: boolean;
  /** Driver bound now (`driver` link basename), or null. */
  driver: string | null;
  /** `driver_override` contents, or null when unset. */
  driverOverride: string | null;
  /** True for an SR-IOV virtual function (`physfn` link present). */
  virtfn: boolean;
  /** Free-text label (topology files, pci.ids name). Not used by any rule. */
  label?: string;
  /**
   * BAR0–BAR5 sizes in bytes as the PCI core sized them at enumeration (sysfs `resource`, one
   * `start end flags` line per resource), 0 for an unimplemented BAR; absent when unknown.
   * VFIO_DEVICE_GET_REGION_INFO reports them (`pci_resource_len`).
   */
  bars?: number[];
}

/**
 * Which driver provides a hotplug slot. Only pciehp (and the platform drivers pnv_php, s390)
 * implement `reset_slot`; acpiphp, shpchp and the ACPI `pci_slot` placeholder do not (§1.1).
 */
export const SLOT_DRIVERS = ['pciehp', 'acpiphp', 'shpchp', 'pnv_php', 's390_pci_hpc', 'pci_slot'] as const;
export type SlotDriver = (typeof SLOT_DRIVERS)[number];

export function slotDriverHasResetSlot(d: SlotDriver): boolean {
  return d === 'pciehp' || d === 'pnv_php' || d === 's390_pci_hpc';
}

/** A `pci_slot`: one device number on one bus (pciehp: device 0 below its port). */
export interface SlotDesc {
  domain: number;
  bus: number;
  device: number;
  /** Directory name under /sys/bus/pci/slots (usually the physical slot number). */
  name: string;
  driver: SlotDriver;
}

/** A whole host as described; the order of `functions` does not matter. */
export interface HostDesc {
  name: string;
  functions: FunctionDesc[];
  slots: SlotDesc[];
}

/** A function with every optional field at its neutral value; handy for builders and tests. */
export function functionDefaults(bdf: Bdf): FunctionDesc {
  return {
    bdf,
    vendor: 0x1b36,
    device: 0x0001,
    classCode: 0x020000,
    revision: 0,
    subsystemVendor: 0,
    subsystemDevice: 0,
    header: 'normal',
    multifunctionBit: false,
    quirks: [],
    acpiReset: false,
    driver: null,
    driverOverride: null,
    virtfn: false,
  };
}

/** Link speed class the kernel's bridge wait uses (`pcie_get_speed_cap`, §7.2 WB5/WB6). */
export type SpeedClass = 'le5' | 'gt5' | 'unknown';

/**
 * `pcie_get_speed_cap`: the LNKCAP2 vector wins when non-zero; otherwise only LNKCAP.SLS 1 and 2
 * (2.5 / 5 GT/s) are recognised and anything else is PCI_SPEED_UNKNOWN (which compares > 5 GT/s).
 */
export function linkSpeedClass(p: PcieCap): SpeedClass {
  if (p.linkSpeedsVector !== 0) {
    const top = 31 - Math.clz32(p.linkSpeedsVector); // bit 0 = 2.5 GT/s
    return top <= 1 ? 'le5' : 'gt5';
  }
  if (p.linkSpeedCode === 1 || p.linkSpeedCode === 2) return 'le5';
  return 'unknown';
}

/** Max link speed in GT/s as text, or null when the kernel would call it unknown. */
export function linkSpeedText(p: PcieCap): string | null {
  const code =
    p.linkSpeedsVector !== 0
      ? 32 - Math.clz32(p.linkSpeedsVector)
      : p.linkSpeedCode === 1 || p.linkSpeedCode === 2
        ? p.linkSpeedCode
        : 0;
  const e = Object.entries(LINK_SPEEDS).find(([, c]) => c === code);
  return e ? `${e[0]} GT/s` : null;
}

/** Is this a PCIe "downstream port" in the kernel's sense (root port, switch DSP, PCI→PCIe)? */
export function isDownstreamPort(f: FunctionDesc): boolean {
  const t = f.pcie?.type;
  return t === 'root-port' || t === 'downstream' || t === 'pci-to-pcie';
}

export function isBridge(f: FunctionDesc): boolean {
  return f.header === 'bridge' || f.header === 'cardbus';
}
