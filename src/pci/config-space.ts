/**
 * PCI configuration space as Linux shows it in sysfs `config`: `buildConfigSpace` writes the
 * config-bearing fields of a `FunctionDesc` into a 4096-byte image, `parseConfigSpace` reads any
 * bytes back into them.
 *
 * Offsets and bits are those named in the kernel's `include/uapi/linux/pci_regs.h` (the kernel
 * name is given next to each constant). The list walks follow the kernel's lookups
 * (`__pci_find_next_cap_ttl`, `pci_find_next_ext_capability`) and its rules for which PCIe
 * registers exist (`pcie_capability_reg_implemented`), so a malformed or odd image reads the way
 * the kernel would read it. Pure: no I/O.
 * @module
 */

import { type Bdf, formatBdf, hex } from './bdf.ts';
import {
  type AcsCap,
  type AfCap,
  type FunctionDesc,
  type HeaderKind,
  PCIE_TYPES,
  type PcieCap,
  type PcieType,
  type PmCap,
  type SlotCap,
  type SriovCap,
} from './model.ts';

// ---------------------------------------------------------------------------------------------
// Register facts (pci_regs.h)

/** Sizes: PCI_STD_HEADER_SIZEOF, PCI_CFG_SPACE_SIZE, PCI_CFG_SPACE_EXP_SIZE. */
export const CONFIG_SIZE = { header: 64, conventional: 256, express: 4096 } as const;

/** Capability IDs (PCI_CAP_ID_*) and extended capability IDs (PCI_EXT_CAP_ID_*) this module knows. */
export const CAP_ID = {
  /** PCI_CAP_ID_PM */
  pm: 0x01,
  /** PCI_CAP_ID_SSVID: where a type-1 header keeps its subsystem IDs. */
  ssvid: 0x0d,
  /** PCI_CAP_ID_EXP */
  exp: 0x10,
  /** PCI_CAP_ID_AF */
  af: 0x13,
} as const;

export const EXT_CAP_ID = {
  /** PCI_EXT_CAP_ID_ACS */
  acs: 0x000d,
  /** PCI_EXT_CAP_ID_SRIOV */
  sriov: 0x0010,
} as const;

/** Standard header (type 0, type 1 and CardBus type 2). */
export const HDR = {
  vendorId: 0x00, // PCI_VENDOR_ID
  deviceId: 0x02, // PCI_DEVICE_ID
  command: 0x04, // PCI_COMMAND
  status: 0x06, // PCI_STATUS
  statusCapList: 0x10, // PCI_STATUS_CAP_LIST
  classRevision: 0x08, // PCI_CLASS_REVISION: class code in the high 24 bits
  headerType: 0x0e, // PCI_HEADER_TYPE
  headerTypeMask: 0x7f, // PCI_HEADER_TYPE_MASK
  headerTypeMfd: 0x80, // PCI_HEADER_TYPE_MFD (multi-function)
  subsystemVendorId: 0x2c, // PCI_SUBSYSTEM_VENDOR_ID (type 0)
  subsystemId: 0x2e, // PCI_SUBSYSTEM_ID (type 0)
  capabilityList: 0x34, // PCI_CAPABILITY_LIST (types 0 and 1)
  primaryBus: 0x18, // PCI_PRIMARY_BUS (= PCI_CB_PRIMARY_BUS)
  secondaryBus: 0x19, // PCI_SECONDARY_BUS (= PCI_CB_CARD_BUS)
  subordinateBus: 0x1a, // PCI_SUBORDINATE_BUS (= PCI_CB_SUBORDINATE_BUS)
  cbCapabilityList: 0x14, // PCI_CB_CAPABILITY_LIST
  cbSubsystemVendorId: 0x40, // PCI_CB_SUBSYSTEM_VENDOR_ID
  cbSubsystemId: 0x42, // PCI_CB_SUBSYSTEM_ID
} as const;

/** PCI_HEADER_TYPE_NORMAL / _BRIDGE / _CARDBUS. */
export const HEADER_TYPES = { normal: 0, bridge: 1, cardbus: 2 } as const satisfies Record<
  HeaderKind,
  number
>;

/** Power Management capability. */
export const PM_REG = {
  pmc: 2, // PCI_PM_PMC
  pmcVersionMask: 0x0007, // PCI_PM_CAP_VER_MASK
  ctrl: 4, // PCI_PM_CTRL (PMCSR)
  ctrlNoSoftReset: 0x0008, // PCI_PM_CTRL_NO_SOFT_RESET
  sizeof: 8, // PCI_PM_SIZEOF
} as const;

/** PCI Bridge Subsystem ID capability. */
export const SSVID_REG = { vendorId: 4, deviceId: 6, sizeof: 8 } as const; // PCI_SSVID_*

/** PCI Express capability. */
export const EXP_REG = {
  flags: 2, // PCI_EXP_FLAGS
  flagsVersion: 0x000f, // PCI_EXP_FLAGS_VERS
  flagsType: 0x00f0, // PCI_EXP_FLAGS_TYPE
  flagsSlot: 0x0100, // PCI_EXP_FLAGS_SLOT
  devcap: 4, // PCI_EXP_DEVCAP
  devcapFlr: 0x10000000, // PCI_EXP_DEVCAP_FLR
  lnkcap: 12, // PCI_EXP_LNKCAP
  lnkcapSls: 0x0000000f, // PCI_EXP_LNKCAP_SLS
  lnkcapMlw: 0x000003f0, // PCI_EXP_LNKCAP_MLW
  lnkcapDlllarc: 0x00100000, // PCI_EXP_LNKCAP_DLLLARC
  lnkcapPortShift: 24, // PCI_EXP_LNKCAP_PN is bits 31..24
  lnksta: 18, // PCI_EXP_LNKSTA
  lnkstaDllla: 0x2000, // PCI_EXP_LNKSTA_DLLLA
  sltcap: 20, // PCI_EXP_SLTCAP
  sltcapAbp: 0x00000001, // PCI_EXP_SLTCAP_ABP
  sltcapPcp: 0x00000002, // PCI_EXP_SLTCAP_PCP
  sltcapHps: 0x00000020, // PCI_EXP_SLTCAP_HPS
  sltcapHpc: 0x00000040, // PCI_EXP_SLTCAP_HPC
  sltcapNccs: 0x00040000, // PCI_EXP_SLTCAP_NCCS
  sltcapPsnShift: 19, // PCI_EXP_SLTCAP_PSN is bits 31..19
  lnkcap2: 44, // PCI_EXP_LNKCAP2: Supported Link Speeds Vector in bits 7..1
  lnkctl2: 48, // PCI_EXP_LNKCTL2: Target Link Speed in bits 3..0
  sizeofV2: 60, // through PCI_EXP_SLTSTA2
} as const;

/** Advanced Features capability. */
export const AF_REG = {
  length: 2, // PCI_AF_LENGTH
  cap: 3, // PCI_AF_CAP
  capTp: 0x01, // PCI_AF_CAP_TP
  capFlr: 0x02, // PCI_AF_CAP_FLR
  sizeof: 6, // PCI_CAP_AF_SIZEOF
} as const;

/** Access Control Services extended capability. */
export const ACS_REG = {
  cap: 0x04, // PCI_ACS_CAP
  ctrl: 0x06, // PCI_ACS_CTRL
  egressControl: 0x20, // PCI_ACS_EC: an Egress Control Vector follows the control register
  egressVector: 0x08, // PCI_ACS_EGRESS_CTL_V
  sizeof: 8,
} as const;

/** SR-IOV extended capability. */
export const SRIOV_REG = {
  ctrl: 0x08, // PCI_SRIOV_CTRL
  ctrlVfe: 0x01, // PCI_SRIOV_CTRL_VFE
  ctrlMse: 0x08, // PCI_SRIOV_CTRL_MSE
  initialVfs: 0x0c, // PCI_SRIOV_INITIAL_VF
  totalVfs: 0x0e, // PCI_SRIOV_TOTAL_VF
  numVfs: 0x10, // PCI_SRIOV_NUM_VF
  vfDeviceId: 0x1a, // PCI_SRIOV_VF_DID
  supportedPageSizes: 0x1c, // PCI_SRIOV_SUP_PGSIZE
  systemPageSize: 0x20, // PCI_SRIOV_SYS_PGSIZE
  sizeof: 64, // PCI_EXT_CAP_SRIOV_SIZEOF
} as const;

/** The kernel's PCI_FIND_CAP_TTL: at most 48 standard capabilities are followed. */
const CAP_TTL = 48;
/** `pci_find_next_ext_capability`'s bound: (4096 - 256) / 8 headers. */
const EXT_CAP_TTL = (CONFIG_SIZE.express - CONFIG_SIZE.conventional) / 8;
/** Standard capabilities live in 0x40..0xff; a pointer below 0x40 ends the list. */
const CAP_MIN = 0x40;
/** CardBus uses 0x40..0x47 for subsystem IDs and legacy base and reserves 0x48..0x7f. */
const CB_CAP_START = 0x80;

// ---------------------------------------------------------------------------------------------
// Which PCIe registers exist (pcie_capability_reg_implemented)

/** `pcie_cap_has_lnkctl`: the types that have a Link (LNKCAP/LNKCTL/LNKSTA and, at v2, LNKCAP2). */
const LINK_TYPES: ReadonlySet<PcieType> = new Set<PcieType>([
  'endpoint',
  'legacy-endpoint',
  'root-port',
  'upstream',
  'downstream',
  'pcie-to-pci',
  'pci-to-pcie',
]);

/** `pcie_downstream_port`: only these may set FLAGS Slot Implemented and have slot registers. */
const SLOT_TYPES: ReadonlySet<PcieType> = new Set<PcieType>(['root-port', 'downstream', 'pci-to-pcie']);

const PCIE_TYPE_BY_CODE: ReadonlyMap<number, PcieType> = new Map(
  (Object.entries(PCIE_TYPES) as [PcieType, number][]).map(([name, code]) => [code, name]),
);

/** Does a function of this type have link registers? Root-complex integrated types have none. */
export function pcieHasLink(type: PcieType): boolean {
  return LINK_TYPES.has(type);
}

/** Can a function of this type implement a slot (FLAGS bit 8 + SLTCAP)? Downstream ports only. */
export function pcieCanHaveSlot(type: PcieType): boolean {
  return SLOT_TYPES.has(type);
}

// ---------------------------------------------------------------------------------------------
// Errors

export const CONFIG_SPACE_ERROR_REASONS = ['truncated', 'device-absent', 'unknown-header-type'] as const;
export type ConfigSpaceErrorReason = (typeof CONFIG_SPACE_ERROR_REASONS)[number];

/** Config bytes that cannot describe a function at all. Malformed capability lists are warnings, not errors. */
export class ConfigSpaceError extends Error {
  readonly code = 'VFIO_RESET_E_CONFIG_SPACE';
  readonly bdf: Bdf;
  readonly reason: ConfigSpaceErrorReason;
  constructor(bdf: Bdf, reason: ConfigSpaceErrorReason, detail: string) {
    super(`${formatBdf(bdf)}: config space ${detail}`);
    this.name = 'ConfigSpaceError';
    this.bdf = bdf;
    this.reason = reason;
  }
}

// ---------------------------------------------------------------------------------------------
// Byte access (little-endian; reads outside the buffer give 0 so no walk can throw)

interface Reader {
  u8(o: number): number;
  u16(o: number): number;
  u32(o: number): number;
}

function reader(b: Uint8Array): Reader {
  const n = b.length;
  const u8 = (o: number) => (o >= 0 && o < n ? b[o]! : 0);
  const u16 = (o: number) => u8(o) | (u8(o + 1) << 8);
  return { u8, u16, u32: (o) => (u16(o) | (u16(o + 2) << 16)) >>> 0 };
}

function writer(b: Uint8Array) {
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  return {
    u8: (o: number, x: number) => v.setUint8(o, x & 0xff),
    u16: (o: number, x: number) => v.setUint16(o, x & 0xffff, true),
    u32: (o: number, x: number) => v.setUint32(o, x >>> 0, true),
    or16: (o: number, x: number) => v.setUint16(o, v.getUint16(o, true) | (x & 0xffff), true),
    or32: (o: number, x: number) => v.setUint32(o, (v.getUint32(o, true) | x) >>> 0, true),
  };
}
type Writer = ReturnType<typeof writer>;

const h2 = (n: number) => `0x${hex(n, 2)}`;
const h3 = (n: number) => `0x${hex(n, 3)}`;
const align4 = (n: number) => (n + 3) & ~3;

// ---------------------------------------------------------------------------------------------
// Capability walks

export interface CapabilityEntry {
  id: number;
  offset: number;
}

export interface ExtCapabilityEntry {
  id: number;
  version: number;
  offset: number;
}

interface Walk<T> {
  caps: T[];
  warnings: string[];
}

/**
 * The standard list as `__pci_find_next_cap_ttl` follows it: only when STATUS has Capabilities
 * List; from PCI_CAPABILITY_LIST (PCI_CB_CAPABILITY_LIST for CardBus); a pointer below 0x40 ends
 * it, the low two pointer bits are ignored, id 0xff ends it, at most 48 entries. A revisited entry
 * ends it too (the kernel would go round until the TTL ran out, finding nothing new).
 */
function walkCapabilities(bytes: Uint8Array): Walk<CapabilityEntry> {
  const r = reader(bytes);
  const caps: CapabilityEntry[] = [];
  const warnings: string[] = [];
  if (bytes.length <= HDR.capabilityList || !(r.u16(HDR.status) & HDR.statusCapList))
    return { caps, warnings };
  const cardbus = (r.u8(HDR.headerType) & HDR.headerTypeMask) === HEADER_TYPES.cardbus;
  let pos = r.u8(cardbus ? HDR.cbCapabilityList : HDR.capabilityList);
  const seen = new Set<number>();
  let ttl = CAP_TTL;
  for (; ttl > 0; ttl--) {
    if (pos === 0) break;
    if (pos < CAP_MIN) {
      warnings.push(`capability pointer ${h2(pos)} points into the standard header; the list ends there`);
      break;
    }
    pos &= ~3;
    if (pos + 2 > bytes.length) {
      warnings.push(`capability at ${h2(pos)} lies beyond the ${bytes.length} bytes available`);
      break;
    }
    if (seen.has(pos)) {
      warnings.push(`capability list loops back to ${h2(pos)}; the list ends there`);
      break;
    }
    seen.add(pos);
    const id = r.u8(pos);
    if (id === 0xff) {
      warnings.push(`capability at ${h2(pos)} reads id 0xff; the kernel stops the list there`);
      break;
    }
    caps.push({ id, offset: pos });
    pos = r.u8(pos + 1);
  }
  if (ttl === 0 && pos !== 0)
    warnings.push(`capability list longer than ${CAP_TTL} entries; the rest is ignored`);
  return { caps, warnings };
}

/**
 * The extended list from 0x100 as `pci_find_next_ext_capability` follows it: a zero header means
 * none; next pointers (header bits 31..20, dword aligned) below 0x100 end it; bounded by its TTL.
 * Null entries (id 0) are followed but not listed. Call this only for a PCIe function: the kernel
 * gives conventional functions 256 bytes of config space, so nothing above 0xff is theirs.
 */
function walkExtCapabilities(bytes: Uint8Array): Walk<ExtCapabilityEntry> {
  const r = reader(bytes);
  const caps: ExtCapabilityEntry[] = [];
  const warnings: string[] = [];
  let pos: number = CONFIG_SIZE.conventional;
  if (bytes.length < pos + 4) return { caps, warnings };
  let header = r.u32(pos);
  if (header === 0) return { caps, warnings };
  if (header === 0xffffffff) {
    // pci_cfg_space_size_ext: the extended space is not reachable, config space is 256 bytes.
    warnings.push('extended config space at 0x100 reads all-ones (not reachable); no extended capabilities');
    return { caps, warnings };
  }
  const seen = new Set<number>();
  for (let ttl = EXT_CAP_TTL; ttl > 0; ttl--) {
    seen.add(pos);
    const id = header & 0xffff;
    if (id !== 0) caps.push({ id, version: (header >>> 16) & 0xf, offset: pos });
    const next = (header >>> 20) & 0xffc;
    if (next === 0) break;
    if (next < CONFIG_SIZE.conventional) {
      warnings.push(
        `extended capability at ${h3(pos)} points to ${h3(next)}, below 0x100; the list ends there`,
      );
      break;
    }
    if (next + 4 > bytes.length) {
      warnings.push(`extended capability at ${h3(next)} lies beyond the ${bytes.length} bytes available`);
      break;
    }
    if (seen.has(next)) {
      warnings.push(`extended capability list loops back to ${h3(next)}; the list ends there`);
      break;
    }
    pos = next;
    header = r.u32(pos);
    if (header === 0xffffffff) {
      warnings.push(`extended capability at ${h3(pos)} reads all-ones; the list ends there`);
      break;
    }
    if (ttl === 1)
      warnings.push(`extended capability list longer than ${EXT_CAP_TTL} entries; the rest is ignored`);
  }
  return { caps, warnings };
}

/** Standard capabilities in list order (duplicates included; the kernel uses the first). */
export function listCapabilities(bytes: Uint8Array): CapabilityEntry[] {
  return walkCapabilities(bytes).caps;
}

/** Extended capabilities from 0x100 in list order. Meaningful only for PCIe functions. */
export function listExtCapabilities(bytes: Uint8Array): ExtCapabilityEntry[] {
  return walkExtCapabilities(bytes).caps;
}

/** `pci_find_capability`: offset of the first standard capability with this id, or null. */
export function findCapability(bytes: Uint8Array, id: number): number | null {
  return walkCapabilities(bytes).caps.find((c) => c.id === id)?.offset ?? null;
}

/** `pci_find_ext_capability`: offset of the first extended capability with this id, or null. */
export function findExtCapability(bytes: Uint8Array, id: number): number | null {
  return walkExtCapabilities(bytes).caps.find((c) => c.id === id)?.offset ?? null;
}

// ---------------------------------------------------------------------------------------------
// Build

/** Max speed code from the LNKCAP2 vector when set, else LNKCAP.SLS (what LNKSTA/LNKCTL2 report). */
function maxSpeedCode(p: PcieCap): number {
  const vector = p.linkSpeedsVector & 0x7f;
  return vector !== 0 ? 32 - Math.clz32(vector) : p.linkSpeedCode & 0xf;
}

function writePcie(w: Writer, at: number, f: FunctionDesc, p: PcieCap): void {
  const slot = p.slot && SLOT_TYPES.has(p.type) ? p.slot : undefined;
  // Version 2: the v2 registers (LNKCAP2 …) exist only from version 2 on.
  w.u16(at + EXP_REG.flags, 2 | (PCIE_TYPES[p.type] << 4) | (slot ? EXP_REG.flagsSlot : 0));
  w.u32(at + EXP_REG.devcap, p.flr ? EXP_REG.devcapFlr : 0);
  if (LINK_TYPES.has(p.type)) {
    // The model has no port number; switch ports and root ports are commonly numbered by device.
    const port = SLOT_TYPES.has(p.type) ? f.bdf.device : 0;
    w.u32(
      at + EXP_REG.lnkcap,
      (p.linkSpeedCode & 0xf) |
        ((p.linkWidth & 0x3f) << 4) |
        (p.dllActiveReporting ? EXP_REG.lnkcapDlllarc : 0) |
        (port << EXP_REG.lnkcapPortShift),
    );
    // Current speed/width read as the maximum, matching the simulator's current_link_* attributes.
    const speed = maxSpeedCode(p);
    w.u16(
      at + EXP_REG.lnksta,
      speed | ((p.linkWidth & 0x3f) << 4) | (p.linkActive ? EXP_REG.lnkstaDllla : 0),
    );
    w.u32(at + EXP_REG.lnkcap2, (p.linkSpeedsVector & 0x7f) << 1);
    w.u16(at + EXP_REG.lnkctl2, speed);
  }
  if (slot) w.u32(at + EXP_REG.sltcap, sltcap(slot));
}

function sltcap(s: SlotCap): number {
  return (
    (s.attentionButton ? EXP_REG.sltcapAbp : 0) |
    (s.powerController ? EXP_REG.sltcapPcp : 0) |
    (s.surprise ? EXP_REG.sltcapHps : 0) |
    (s.hotplugCapable ? EXP_REG.sltcapHpc : 0) |
    (s.noCommandCompleted ? EXP_REG.sltcapNccs : 0) |
    ((s.physicalNumber & 0x1fff) << EXP_REG.sltcapPsnShift)
  );
}

/** Bytes an ACS capability occupies: 8, plus the Egress Control Vector when P2P Egress Control exists. */
function acsSize(a: AcsCap): number {
  if (!(a.cap & ACS_REG.egressControl)) return ACS_REG.sizeof;
  const bits = (a.cap >> 8) & 0xff || 256; // PCI_ACS_EGRESS_BITS: 0 encodes 256
  return ACS_REG.sizeof + Math.ceil(bits / 32) * 4;
}

interface CapPlan {
  id: number;
  size: number;
  fill: (at: number) => void;
}

/**
 * A 4096-byte config image of `f` as the kernel would read it from sysfs `config` (as root). For a
 * conventional function only the first 256 bytes mean anything (the rest is 0); sysfs shows those.
 *
 * Layout: standard capabilities from 0x40 (0x80 for CardBus), dword aligned, in the order PM,
 * SSVID (type-1 header with non-zero subsystem IDs), PCIe (version 2), AF; extended ones from
 * 0x100 for PCIe functions: ACS, SR-IOV. What config space cannot carry is dropped: a slot on a
 * type that is not a downstream port, link fields of root-complex integrated types, `bridge` on a
 * type-0 header, ACS/SR-IOV without PCIe. Values are masked to their register widths.
 */
export function buildConfigSpace(f: FunctionDesc): Uint8Array {
  const bytes = new Uint8Array(CONFIG_SIZE.express);
  const w = writer(bytes);
  w.u16(HDR.vendorId, f.vendor);
  w.u16(HDR.deviceId, f.device);
  w.u32(HDR.classRevision, ((f.classCode & 0xffffff) << 8) | (f.revision & 0xff));
  w.u8(HDR.headerType, HEADER_TYPES[f.header] | (f.multifunctionBit ? HDR.headerTypeMfd : 0));

  if (f.header !== 'normal') {
    w.u8(HDR.primaryBus, f.bdf.bus);
    w.u8(HDR.secondaryBus, f.bridge?.secondary ?? 0);
    w.u8(HDR.subordinateBus, f.bridge?.subordinate ?? 0);
  }
  if (f.header === 'normal') {
    w.u16(HDR.subsystemVendorId, f.subsystemVendor);
    w.u16(HDR.subsystemId, f.subsystemDevice);
  } else if (f.header === 'cardbus') {
    w.u16(HDR.cbSubsystemVendorId, f.subsystemVendor);
    w.u16(HDR.cbSubsystemId, f.subsystemDevice);
  }

  const caps: CapPlan[] = [];
  const { pm, pcie, af } = f;
  if (pm) {
    caps.push({
      id: CAP_ID.pm,
      size: PM_REG.sizeof,
      fill: (at) => {
        w.u16(at + PM_REG.pmc, 3); // PM spec 1.2; versions above 3 are ignored by pci_pm_init
        w.u16(at + PM_REG.ctrl, pm.noSoftReset ? PM_REG.ctrlNoSoftReset : 0); // D0
      },
    });
  }
  // A type-1 header has no subsystem registers; pci_setup_device reads them from SSVID.
  if (f.header === 'bridge' && ((f.subsystemVendor & 0xffff) !== 0 || (f.subsystemDevice & 0xffff) !== 0)) {
    caps.push({
      id: CAP_ID.ssvid,
      size: SSVID_REG.sizeof,
      fill: (at) => {
        w.u16(at + SSVID_REG.vendorId, f.subsystemVendor);
        w.u16(at + SSVID_REG.deviceId, f.subsystemDevice);
      },
    });
  }
  if (pcie) caps.push({ id: CAP_ID.exp, size: EXP_REG.sizeofV2, fill: (at) => writePcie(w, at, f, pcie) });
  if (af) {
    caps.push({
      id: CAP_ID.af,
      size: AF_REG.sizeof,
      fill: (at) => {
        w.u8(at + AF_REG.length, AF_REG.sizeof);
        w.u8(at + AF_REG.cap, (af.tp ? AF_REG.capTp : 0) | (af.flr ? AF_REG.capFlr : 0));
      },
    });
  }

  if (caps.length > 0) {
    w.or16(HDR.status, HDR.statusCapList);
    let link: number = f.header === 'cardbus' ? HDR.cbCapabilityList : HDR.capabilityList;
    let at = f.header === 'cardbus' ? CB_CAP_START : CAP_MIN;
    for (const c of caps) {
      w.u8(link, at);
      w.u8(at, c.id);
      c.fill(at);
      link = at + 1;
      at = align4(at + c.size);
    }
  }

  if (pcie) {
    const ext: CapPlan[] = [];
    const { acs, sriov } = f;
    if (acs) {
      ext.push({
        id: EXT_CAP_ID.acs,
        size: acsSize(acs),
        fill: (at) => {
          w.u16(at + ACS_REG.cap, acs.cap);
          w.u16(at + ACS_REG.ctrl, acs.ctrl);
        },
      });
    }
    if (sriov) {
      ext.push({
        id: EXT_CAP_ID.sriov,
        size: SRIOV_REG.sizeof,
        fill: (at) => {
          // The model has no First VF Offset / VF Stride; they stay 0.
          if (sriov.numVfs > 0) w.u16(at + SRIOV_REG.ctrl, SRIOV_REG.ctrlVfe | SRIOV_REG.ctrlMse);
          w.u16(at + SRIOV_REG.initialVfs, sriov.totalVfs);
          w.u16(at + SRIOV_REG.totalVfs, sriov.totalVfs);
          w.u16(at + SRIOV_REG.numVfs, sriov.numVfs);
          w.u16(at + SRIOV_REG.vfDeviceId, sriov.vfDeviceId);
          w.u32(at + SRIOV_REG.supportedPageSizes, 1); // 4 KiB
          w.u32(at + SRIOV_REG.systemPageSize, 1);
        },
      });
    }
    let prev = -1;
    let at: number = CONFIG_SIZE.conventional;
    for (const c of ext) {
      if (prev >= 0) w.or32(prev, at << 20);
      w.u32(at, c.id | (1 << 16)); // version 1, next patched in by the following entry
      c.fill(at);
      prev = at;
      at = align4(at + c.size);
    }
  }
  return bytes;
}

// ---------------------------------------------------------------------------------------------
// Parse

/** The part of a `FunctionDesc` that config space carries. */
export type ConfigFields = Pick<
  FunctionDesc,
  | 'vendor'
  | 'device'
  | 'classCode'
  | 'revision'
  | 'subsystemVendor'
  | 'subsystemDevice'
  | 'header'
  | 'multifunctionBit'
  | 'bridge'
  | 'pcie'
  | 'pm'
  | 'af'
  | 'acs'
  | 'sriov'
>;

/**
 * What a config image says about a function. Optional fields are absent both when the function
 * lacks the thing and when the bytes do not reach it; `complete` / `extendedKnown` tell which.
 */
export interface ParsedConfig extends Omit<ConfigFields, 'subsystemVendor' | 'subsystemDevice'> {
  /** Bytes given (64 for an unprivileged sysfs read, 128 for CardBus, 256 conventional, 4096 PCIe). */
  length: number;
  /** At least 256 bytes: the standard capabilities (`pm`, `pcie`, `af`) are known. */
  complete: boolean;
  /** Extended capabilities (`acs`, `sriov`) are known: complete, and either not PCIe or 4096 bytes. */
  extendedKnown: boolean;
  /** Subsystem IDs; absent when not in the bytes (a type-1 header keeps them in the SSVID capability). */
  subsystemVendor?: number;
  subsystemDevice?: number;
  /** Primary bus number register of a type-1/CardBus header. */
  primaryBus?: number;
  /** Oddities the kernel would read past (loops, stray pointers, reserved IDs), each saying where. */
  warnings: string[];
}

/**
 * Copies what only config space says — header kind, multifunction bit, bridge bus numbers and the
 * capabilities found — onto a description (a capability the bytes did not show is left as it was).
 */
export function applyConfigStructure(f: FunctionDesc, cfg: ParsedConfig): void {
  f.header = cfg.header;
  f.multifunctionBit = cfg.multifunctionBit;
  if (cfg.bridge) f.bridge = cfg.bridge;
  if (cfg.pcie) f.pcie = cfg.pcie;
  if (cfg.pm) f.pm = cfg.pm;
  if (cfg.af) f.af = cfg.af;
  if (cfg.acs) f.acs = cfg.acs;
  if (cfg.sriov) f.sriov = cfg.sriov;
}

/**
 * Parses config bytes (any length) of the function at `bdf`. Throws only `ConfigSpaceError`: when
 * fewer than the 64 header bytes are given, when the Vendor/Device dword reads as no device (the
 * patterns `pci_bus_generic_read_dev_vendor_id` rejects, or an all-ones header), or when the
 * header type is not 0, 1 or 2 (the kernel ignores such a device). Malformed capability lists
 * only end the walk and add a warning.
 */
export function parseConfigSpace(bytes: Uint8Array, bdf: Bdf): ParsedConfig {
  const length = bytes.length;
  if (length < CONFIG_SIZE.header) {
    throw new ConfigSpaceError(
      bdf,
      'truncated',
      `is ${length} bytes; the 64-byte standard header is needed (sysfs gives at least that much; is the dump cut short?)`,
    );
  }
  const r = reader(bytes);
  const warnings: string[] = [];

  const ids = r.u32(HDR.vendorId);
  if (ids === 0xffffffff) {
    if (bytes.subarray(4, CONFIG_SIZE.header).every((b) => b === 0xff)) {
      throw new ConfigSpaceError(
        bdf,
        'device-absent',
        'reads all-ones: no device answers (removed, powered off, or its link is down); rescan or check the slot',
      );
    }
    // PCIe r6 §9.3.4.1.1-2: a VF's Vendor and Device ID registers are reserved and read FFFFh.
    warnings.push(
      'Vendor and Device ID read 0xffff but the header answers: an SR-IOV VF (its IDs read FFFFh); take the IDs from sysfs vendor/device',
    );
  } else if (ids === 0 || ids === 0x0000ffff || ids === 0xffff0000) {
    throw new ConfigSpaceError(
      bdf,
      'device-absent',
      `Vendor/Device ID dword reads 0x${hex(ids, 8)}, which the kernel takes as no device`,
    );
  }

  const headerByte = r.u8(HDR.headerType);
  const headerCode = headerByte & HDR.headerTypeMask;
  const header =
    headerCode === 0 ? 'normal' : headerCode === 1 ? 'bridge' : headerCode === 2 ? 'cardbus' : null;
  if (header === null) {
    throw new ConfigSpaceError(
      bdf,
      'unknown-header-type',
      `header type ${h2(headerCode)} is not 0 (normal), 1 (bridge) or 2 (CardBus); the kernel ignores such a device`,
    );
  }

  const complete = length >= CONFIG_SIZE.conventional;
  const classRevision = r.u32(HDR.classRevision);
  const out: ParsedConfig = {
    length,
    complete,
    extendedKnown: false,
    vendor: ids & 0xffff,
    device: ids >>> 16,
    classCode: classRevision >>> 8,
    revision: classRevision & 0xff,
    header,
    multifunctionBit: (headerByte & HDR.headerTypeMfd) !== 0,
    warnings,
  };
  if (header === 'normal') {
    out.subsystemVendor = r.u16(HDR.subsystemVendorId);
    out.subsystemDevice = r.u16(HDR.subsystemId);
  } else {
    out.primaryBus = r.u8(HDR.primaryBus);
    out.bridge = { secondary: r.u8(HDR.secondaryBus), subordinate: r.u8(HDR.subordinateBus) };
    if (header === 'cardbus' && length >= HDR.cbSubsystemId + 2) {
      out.subsystemVendor = r.u16(HDR.cbSubsystemVendorId);
      out.subsystemDevice = r.u16(HDR.cbSubsystemId);
    }
  }
  if (!complete) return out;

  const std = walkCapabilities(bytes);
  warnings.push(...std.warnings);
  const first = (id: number) => std.caps.find((c) => c.id === id)?.offset;

  if (header === 'bridge') {
    const ssvid = first(CAP_ID.ssvid);
    out.subsystemVendor = ssvid === undefined ? 0 : r.u16(ssvid + SSVID_REG.vendorId);
    out.subsystemDevice = ssvid === undefined ? 0 : r.u16(ssvid + SSVID_REG.deviceId);
  }

  const pmAt = first(CAP_ID.pm);
  if (pmAt !== undefined) {
    const version = r.u16(pmAt + PM_REG.pmc) & PM_REG.pmcVersionMask;
    if (version > 3) {
      warnings.push(
        `PM capability at ${h2(pmAt)} has version ${version}; the kernel ignores it (pci_pm_init)`,
      );
    } else {
      out.pm = { noSoftReset: (r.u16(pmAt + PM_REG.ctrl) & PM_REG.ctrlNoSoftReset) !== 0 } satisfies PmCap;
    }
  }

  const expAt = first(CAP_ID.exp);
  if (expAt !== undefined) {
    const pcie = parsePcie(r, expAt, warnings);
    if (pcie) out.pcie = pcie;
  }

  const afAt = first(CAP_ID.af);
  if (afAt !== undefined) {
    const cap = r.u8(afAt + AF_REG.cap);
    out.af = { tp: (cap & AF_REG.capTp) !== 0, flr: (cap & AF_REG.capFlr) !== 0 } satisfies AfCap;
  }

  // A function without a PCIe capability has 256 bytes of config space (pci_cfg_space_size).
  if (expAt === undefined) {
    out.extendedKnown = true;
    return out;
  }
  if (length < CONFIG_SIZE.express) return out;
  out.extendedKnown = true;
  const ext = walkExtCapabilities(bytes);
  warnings.push(...ext.warnings);
  const firstExt = (id: number) => ext.caps.find((c) => c.id === id)?.offset;
  const acsAt = firstExt(EXT_CAP_ID.acs);
  if (acsAt !== undefined) {
    out.acs = { cap: r.u16(acsAt + ACS_REG.cap), ctrl: r.u16(acsAt + ACS_REG.ctrl) } satisfies AcsCap;
  }
  const sriovAt = firstExt(EXT_CAP_ID.sriov);
  if (sriovAt !== undefined) {
    out.sriov = {
      totalVfs: r.u16(sriovAt + SRIOV_REG.totalVfs),
      numVfs: r.u16(sriovAt + SRIOV_REG.numVfs),
      vfDeviceId: r.u16(sriovAt + SRIOV_REG.vfDeviceId),
    } satisfies SriovCap;
  }
  return out;
}

/** Reads the PCIe capability the way `pcie_capability_read_*` does: absent registers read 0. */
function parsePcie(r: Reader, at: number, warnings: string[]): PcieCap | undefined {
  const flags = r.u16(at + EXP_REG.flags);
  const typeCode = (flags & EXP_REG.flagsType) >> 4;
  const type = PCIE_TYPE_BY_CODE.get(typeCode);
  if (type === undefined) {
    warnings.push(`PCIe capability at ${h2(at)} has reserved device/port type ${typeCode}; not described`);
    return undefined;
  }
  const version = flags & EXP_REG.flagsVersion;
  const pcie: PcieCap = {
    type,
    flr: (r.u32(at + EXP_REG.devcap) & EXP_REG.devcapFlr) !== 0,
    linkSpeedCode: 0,
    linkSpeedsVector: 0,
    linkWidth: 0,
    dllActiveReporting: false,
    linkActive: false,
  };
  if (LINK_TYPES.has(type)) {
    const lnkcap = r.u32(at + EXP_REG.lnkcap);
    pcie.linkSpeedCode = lnkcap & EXP_REG.lnkcapSls;
    pcie.linkWidth = (lnkcap & EXP_REG.lnkcapMlw) >> 4;
    pcie.dllActiveReporting = (lnkcap & EXP_REG.lnkcapDlllarc) !== 0;
    pcie.linkActive = (r.u16(at + EXP_REG.lnksta) & EXP_REG.lnkstaDllla) !== 0;
    // pcie_cap_has_lnkctl2: LNKCAP2 exists from capability version 2 on.
    if (version > 1) pcie.linkSpeedsVector = (r.u32(at + EXP_REG.lnkcap2) >> 1) & 0x7f;
  }
  if (SLOT_TYPES.has(type) && flags & EXP_REG.flagsSlot) {
    const s = r.u32(at + EXP_REG.sltcap);
    pcie.slot = {
      physicalNumber: s >>> EXP_REG.sltcapPsnShift,
      hotplugCapable: (s & EXP_REG.sltcapHpc) !== 0,
      attentionButton: (s & EXP_REG.sltcapAbp) !== 0,
      powerController: (s & EXP_REG.sltcapPcp) !== 0,
      surprise: (s & EXP_REG.sltcapHps) !== 0,
      noCommandCompleted: (s & EXP_REG.sltcapNccs) !== 0,
    };
  }
  return pcie;
}
