/**
 * ACS (Access Control Services) as the kernel judges it for IOMMU grouping (kernel-semantics.md
 * §6): `pci_acs_enabled` (rule A1), where a device-specific quirk from `pci_dev_acs_enabled[]`
 * decides first, and `pci_acs_path_enabled` (A2). Pure functions over the linked topology.
 *
 * The ACS Control value read is the description's `acs.ctrl` as the running host shows it. With an
 * IOMMU, Linux itself sets SV|RR|CR|UF (those the capability advertises) in ACS Control while
 * enumerating (`pci_enable_acs`, because the IOMMU driver called `pci_request_acs`), so a
 * description of an IOMMU host normally has them set; a clear bit means firmware or a boot option
 * (`pci=disable_acs_redir=`, `pci=config_acs=`) left it off. QEMU resets ACS Control to 0, so a
 * description of a QEMU guest must carry the post-boot value.
 * @module
 */

import { ACS_BITS } from './model.ts';
import type { PciFunction } from './topology.ts';

/** `REQ_ACS_FLAGS` (drivers/iommu/iommu.c): what isolation needs — SV | RR | CR | UF. */
export const REQ_ACS_FLAGS = ACS_BITS.sv | ACS_BITS.rr | ACS_BITS.cr | ACS_BITS.uf;

const SV_RR_CR_UF = REQ_ACS_FLAGS;
/** What `pci_quirk_mf_endpoint_acs` treats as provided (everything but EC). */
const MF_ENDPOINT_PROVIDES =
  ACS_BITS.sv | ACS_BITS.tb | ACS_BITS.rr | ACS_BITS.cr | ACS_BITS.uf | ACS_BITS.dt;

/** How `pci_acs_enabled` reached its answer (for explanations). */
export type AcsRule =
  /** The description's ACS_QUIRK flag: a quirk says every requested flag is provided. */
  | 'quirk-flag'
  /** An entry of the kernel's `pci_dev_acs_enabled[]` decided (see `quirk`). */
  | 'quirk'
  /** Conventional PCI / PCI-X: never isolated. */
  | 'not-pcie'
  /** PCIe-to-PCI, PCI-to-PCIe bridges and RC event collectors: never isolated. */
  | 'port-type'
  /** The ACS capability and control registers decided. */
  | 'capability'
  /** Single-function endpoint / upstream port / RCiEP: nothing to isolate from. */
  | 'single-function';

export interface AcsVerdict {
  enabled: boolean;
  rule: AcsRule;
  /** Name of the kernel quirk function when `rule` is 'quirk'. */
  quirk?: string;
}

/** A quirk's answer: true/false decides (kernel: >0 / 0), null means "no opinion" (-ENOTTY/-ENODEV). */
type QuirkAnswer = boolean | null;

interface AcsQuirk {
  vendor: number;
  /** -1 = PCI_ANY_ID. */
  devices: readonly number[] | -1;
  name: string;
  decide: (f: PciFunction, flags: number) => QuirkAnswer;
}

const ANY = -1 as const;

/** `pci_acs_ctrl_enabled(req, ena)`: every requested control is among those provided. */
const provides = (req: number, ena: number): boolean => (req & ena) === req;

const range = (from: number, to: number): number[] =>
  Array.from({ length: to - from + 1 }, (_, i) => from + i);

const pcieType = (f: PciFunction) => f.desc.pcie?.type;
const isRootBus = (f: PciFunction) => f.bus.parent === null;

/** `pci_quirk_mf_endpoint_acs`: vendor-verified no P2P between functions; no type or mf check. */
const mfEndpoint = (_f: PciFunction, flags: number): QuirkAnswer => provides(flags, MF_ENDPOINT_PROVIDES);
/** Root-port quirks that assert SV|RR|CR|UF-equivalent isolation without an ACS capability. */
const isolatedPort = (_f: PciFunction, flags: number): QuirkAnswer => provides(flags, SV_RR_CR_UF);

/**
 * Intel PCH root ports without an ACS capability (`pci_quirk_intel_pch_acs_ids[]`, a subset).
 * The quirk answers "provided" only after `pci_quirk_enable_intel_pch_acs` ran, which happens when
 * an IOMMU requested ACS; this model assumes it did (IOMMU groups exist only then).
 */
const INTEL_PCH_ROOT_PORTS: readonly number[] = [
  ...range(0x3b42, 0x3b51), // Ibexpeak
  ...range(0x1c10, 0x1c1f), // Cougarpoint
  ...range(0x1e10, 0x1e1f), // Pantherpoint
  ...range(0x8c10, 0x8c1f), // Lynxpoint-H
  ...range(0x9c10, 0x9c1b), // Lynxpoint-LP
  ...range(0x8d10, 0x8d1e), // Wellsburg (X99)
];

/** Intel NICs under `pci_quirk_mf_endpoint_acs`, by family. */
const INTEL_MF_NICS: readonly number[] = [
  // 82598, 82599, X540 (10G)
  ...[0x10c6, 0x10db, 0x10dd, 0x10e1, 0x10f1, 0x10f7, 0x10f8, 0x10f9, 0x10fa, 0x10fb, 0x10fc],
  ...[0x1507, 0x1514, 0x151c, 0x1529, 0x152a, 0x154d, 0x154f, 0x1551, 0x1558],
  ...[0x1509, 0x150e, 0x150f, 0x1510, 0x1511, 0x1516, 0x1527], // 82580
  ...[0x10c9, 0x10e6, 0x10e7, 0x10e8, 0x150a, 0x150d, 0x1518, 0x1526], // 82576
  ...[0x10a7, 0x10a9, 0x10d6], // 82575
  ...[0x1521, 0x1522, 0x1523, 0x1524], // I350
  ...[0x105e, 0x105f, 0x1060, 0x10d9], // 82571 (quad-port parts omitted by the kernel)
  ...[0x15b7, 0x15b8], // I219
];

/**
 * A subset of `pci_dev_acs_enabled[]` (drivers/pci/quirks.c, 6.1), in the kernel's order: the first
 * matching entry whose function has an opinion decides, the rest are not consulted.
 */
const ACS_QUIRKS: readonly AcsQuirk[] = [
  {
    // AMD/ATI southbridge multifunction devices on the root bus, with an AMD IOMMU (IVRS table;
    // assumed present — these parts only appear on AMD platforms). Flags not applicable to
    // multifunction devices are filtered out; RR and CR are provided.
    vendor: 0x1002,
    devices: [0x4385, 0x439c, 0x4383, 0x439d, 0x4384, 0x4399],
    name: 'pci_quirk_amd_sb_acs',
    decide: (f, flags) => amdSb(f, flags),
  },
  {
    vendor: 0x1022,
    devices: [0x780f, 0x7809],
    name: 'pci_quirk_amd_sb_acs',
    decide: (f, flags) => amdSb(f, flags),
  },
  // Solarflare SFC9xxx multifunction NICs.
  {
    vendor: 0x1924,
    devices: [0x0903, 0x0923, 0x0a03],
    name: 'pci_quirk_mf_endpoint_acs',
    decide: mfEndpoint,
  },
  // Intel multifunction NICs verified not to do P2P between functions.
  { vendor: 0x8086, devices: INTEL_MF_NICS, name: 'pci_quirk_mf_endpoint_acs', decide: mfEndpoint },
  {
    // Intel RCiEPs may only do P2P on translated addresses (VT-d spec 3.16).
    vendor: 0x8086,
    devices: ANY,
    name: 'pci_quirk_rciep_acs',
    decide: (f, flags) => (pcieType(f) === 'rc-endpoint' ? provides(flags, SV_RR_CR_UF) : null),
  },
  {
    vendor: 0x8086,
    devices: ANY,
    name: 'pci_quirk_intel_pch_acs',
    decide: (f, flags) =>
      pcieType(f) === 'root-port' && INTEL_PCH_ROOT_PORTS.includes(f.desc.device)
        ? provides(flags, SV_RR_CR_UF)
        : null,
  },
  // (pci_quirk_intel_spt_pch_acs — Sunrise/Union Point root ports whose ACS Control sits at a
  // dword offset — reads the same cap/ctrl test; with `acs.ctrl` holding the effective value the
  // standard path below gives the same answer, so it is not listed.)
  // Emulex BE3-R, Skyhawk-R.
  { vendor: 0x19a2, devices: [0x0710], name: 'pci_quirk_mf_endpoint_acs', decide: mfEndpoint },
  { vendor: 0x10df, devices: [0x0720], name: 'pci_quirk_mf_endpoint_acs', decide: mfEndpoint },
  {
    // Cavium ThunderX1/2/3 root ports: ACS-equivalent isolation, no capability.
    vendor: 0x177d,
    devices: ANY,
    name: 'pci_quirk_cavium_acs',
    decide: (f, flags) => {
      const d = f.desc.device;
      const match = (d >= 0xa000 && d <= 0xa7ff) || d === 0xaf84 || d === 0xb884;
      return pcieType(f) === 'root-port' && match ? provides(flags, SV_RR_CR_UF) : null;
    },
  },
  {
    vendor: 0x177d,
    devices: [0xa026, 0xa059, 0xa060],
    name: 'pci_quirk_mf_endpoint_acs',
    decide: mfEndpoint,
  },
  // APM X-Gene and Ampere root ports.
  { vendor: 0x10e8, devices: [0xe004], name: 'pci_quirk_xgene_acs', decide: isolatedPort },
  { vendor: 0x1def, devices: range(0xe005, 0xe00c), name: 'pci_quirk_xgene_acs', decide: isolatedPort },
  // Qualcomm QDF2xxx / SA8775P root ports.
  { vendor: 0x17cb, devices: [0x0400, 0x0401, 0x0115], name: 'pci_quirk_qcom_rp_acs', decide: isolatedPort },
  // Broadcom multifunction NICs; iProc PAXB root port.
  {
    vendor: 0x14e4,
    devices: [0x16d7, 0x1750, 0x1751, 0x1752, 0x1760, 0x1761, 0x1762, 0x1763],
    name: 'pci_quirk_mf_endpoint_acs',
    decide: mfEndpoint,
  },
  { vendor: 0x14e4, devices: [0xd714], name: 'pci_quirk_brcm_acs', decide: isolatedPort },
  {
    // Zhaoxin root/downstream ports: the listed ones are isolated; every *other* Zhaoxin port is
    // decided "not enabled" by the quirk, even if it has a working ACS capability.
    vendor: 0x1d17,
    devices: ANY,
    name: 'pci_quirk_zhaoxin_pcie_ports_acs',
    decide: (f, flags) => {
      const t = pcieType(f);
      if (t !== 'root-port' && t !== 'downstream') return null;
      const d = f.desc.device;
      const listed = (d >= 0x0710 && d <= 0x071e) || d === 0x0721 || (d >= 0x0723 && d <= 0x0752);
      return listed ? provides(flags, SV_RR_CR_UF) : false;
    },
  },
  {
    // Wangxun NICs: listed ids isolate their functions; every other Wangxun device is decided
    // "not enabled" by the quirk (the kernel returns false, not -ENOTTY).
    vendor: 0x8088,
    devices: ANY,
    name: 'pci_quirk_wangxun_nic_acs',
    decide: (f, flags) => {
      const d = f.desc.device;
      const listed =
        (d >= 0x0100 && d <= 0x010f) ||
        [0x1001, 0x2001, 0x5010, 0x5025, 0x5040, 0x5110, 0x5125, 0x5140].includes(d);
      return listed ? provides(flags, SV_RR_CR_UF) : false;
    },
  },
];

function amdSb(f: PciFunction, flags: number): QuirkAnswer {
  if (!f.multifunction || !isRootBus(f)) return null; // -ENODEV: falls through
  const applicable = flags & (ACS_BITS.rr | ACS_BITS.cr | ACS_BITS.ec | ACS_BITS.dt);
  return provides(applicable, ACS_BITS.rr | ACS_BITS.cr);
}

/** `pci_dev_specific_acs_enabled`: the first table entry with an opinion, or null. */
function quirkVerdict(f: PciFunction, flags: number): AcsVerdict | null {
  for (const q of ACS_QUIRKS) {
    if (q.vendor !== f.desc.vendor) continue;
    if (q.devices !== ANY && !q.devices.includes(f.desc.device)) continue;
    const r = q.decide(f, flags);
    if (r !== null) return { enabled: r, rule: 'quirk', quirk: q.name };
  }
  return null;
}

/**
 * `pci_acs_flags_enabled`: needs an ACS capability; flags the capability does not advertise count
 * as hard-wired on (except EC, which is always checked).
 */
function capabilityProvides(f: PciFunction, flags: number): boolean {
  const acs = f.desc.acs;
  if (!acs) return false;
  const wanted = flags & (acs.cap | ACS_BITS.ec);
  return (acs.ctrl & wanted) === wanted;
}

/** The name of the kernel ACS quirk that decides for this function, if one does. */
export function acsQuirkName(f: PciFunction, flags: number = REQ_ACS_FLAGS): string | null {
  return quirkVerdict(f, flags)?.quirk ?? null;
}

/** A1: `pci_acs_enabled(f, flags)` with the rule that decided. */
export function acsVerdict(f: PciFunction, flags: number = REQ_ACS_FLAGS): AcsVerdict {
  // A1: a device-specific quirk decides first.
  if (f.quirks.has('ACS_QUIRK')) return { enabled: true, rule: 'quirk-flag' };
  const q = quirkVerdict(f, flags);
  if (q) return q;

  const pcie = f.desc.pcie;
  if (!pcie) return { enabled: false, rule: 'not-pcie' }; // A1: shared bus, anyone can snoop
  switch (pcie.type) {
    case 'pci-to-pcie':
    case 'pcie-to-pci':
    case 'rc-event-collector':
      return { enabled: false, rule: 'port-type' };
    case 'root-port':
    case 'downstream':
      return { enabled: capabilityProvides(f, flags), rule: 'capability' };
    case 'endpoint':
    case 'upstream':
    case 'legacy-endpoint':
    case 'rc-endpoint':
      if (!f.multifunction) return { enabled: true, rule: 'single-function' };
      return { enabled: capabilityProvides(f, flags), rule: 'capability' };
  }
}

/** A1: `pci_acs_enabled(f, flags)`. */
export function acsEnabled(f: PciFunction, flags: number = REQ_ACS_FLAGS): boolean {
  return acsVerdict(f, flags).enabled;
}

/**
 * A2: `pci_acs_path_enabled(start, NULL, flags)`: ACS must hold for `start` and for every bridge
 * above it up to (and including) the one on the root bus.
 */
export function acsPathEnabled(start: PciFunction, flags: number = REQ_ACS_FLAGS): boolean {
  for (let f: PciFunction | null = start; f; f = f.bus.self) {
    if (!acsEnabled(f, flags)) return false;
  }
  return true;
}

/** The first function on the path from `start` upward where ACS fails, or null if the path is enabled. */
export function acsPathBreak(start: PciFunction, flags: number = REQ_ACS_FLAGS): PciFunction | null {
  for (let f: PciFunction | null = start; f; f = f.bus.self) {
    if (!acsEnabled(f, flags)) return f;
  }
  return null;
}
