/**
 * DMA aliases (rule A3): the requester IDs a function's DMA may arrive with at the IOMMU, and the
 * device the kernel associates with each (`pci_for_each_dma_alias`, drivers/pci/search.c), plus
 * the quirk tables that feed it (`dma_alias_mask`, `PCI_DEV_FLAG_PCIE_BRIDGE_ALIAS`,
 * `PCI_DEV_FLAGS_BRIDGE_XLATE_ROOT`). Pure functions over the linked topology.
 * @module
 */

import { type Bdf, devfn, formatBdf, fromDevfn } from './bdf.ts';
import { isBridge } from './model.ts';
import type { PciFunction } from './topology.ts';

/** Why an alias is on the list. */
export type AliasVia =
  /** The function's own requester ID. */
  | 'self'
  /** A `dma_alias_mask` entry from a quirk (the alias device is the function itself). */
  | 'quirk'
  /** A PCIe-to-PCI bridge: takes ownership, RID = its secondary bus, devfn 00.0. */
  | 'pcie-to-pci'
  /** A PCI-to-PCIe bridge: its own RID. */
  | 'pci-to-pcie'
  /** A conventional PCI bridge: its own RID. */
  | 'conventional'
  /** A conventional bridge with PCIE_BRIDGE_ALIAS (really a PCIe-to-PCI bridge): secondary bus 00.0. */
  | 'pcie-bridge-alias';

export interface DmaAlias {
  /** Requester ID bus number. */
  readonly bus: number;
  readonly devfn: number;
  /** `PCI_DEVID(bus, devfn)`. */
  readonly requesterId: number;
  /** The `pci_dev` the kernel passes along with this alias (whose IOMMU group step A4.1 checks). */
  readonly device: PciFunction;
  readonly via: AliasVia;
}

interface AliasQuirk {
  vendor: number;
  devices: readonly number[];
  name: string;
  /** Devfns the fixup adds to this function's `dma_alias_mask`. */
  aliases: (f: PciFunction) => number[];
}

const slotOf = (f: PciFunction) => f.bdf.device;

/** `quirk_dma_func0_alias`: functions other than 0 DMA as function 0. */
const func0 = (f: PciFunction): number[] => (f.bdf.fn !== 0 ? [(slotOf(f) << 3) | 0] : []);
/** `quirk_dma_func1_alias`: functions other than 1 DMA as function 1 (which may not exist). */
const func1 = (f: PciFunction): number[] => (f.bdf.fn !== 1 ? [(slotOf(f) << 3) | 1] : []);

/** A subset of the DMA alias fixups in drivers/pci/quirks.c (6.1). */
const ALIAS_QUIRKS: readonly AliasQuirk[] = [
  { vendor: 0x1180, devices: [0xe832, 0xe476], name: 'quirk_dma_func0_alias', aliases: func0 }, // Ricoh
  { vendor: 0x6766, devices: [0x3d40, 0x3d41], name: 'quirk_dma_func0_alias', aliases: func0 }, // Glenfly
  {
    vendor: 0x1b4b, // Marvell SATA (88SE91xx/92xx): ghost function 1 requester
    devices: [
      0x9120, 0x9123, 0x9125, 0x9128, 0x9130, 0x9170, 0x9172, 0x917a, 0x9182, 0x9183, 0x91a0, 0x9215, 0x9220,
      0x9230, 0x9235,
    ],
    name: 'quirk_dma_func1_alias',
    aliases: func1,
  },
  { vendor: 0x1103, devices: [0x0642, 0x0645], name: 'quirk_dma_func1_alias', aliases: func1 }, // HighPoint/TTI
  { vendor: 0x197b, devices: [0x2393], name: 'quirk_dma_func1_alias', aliases: func1 }, // JMicron JMB388 ESD
  { vendor: 0x1c28, devices: [0x0122], name: 'quirk_dma_func1_alias', aliases: func1 }, // Plextor M6E
  {
    // Adaptec 3405/3805 (subsystem 9005:02bb / 9005:02bc): hidden DMA engine at 01.0.
    vendor: 0x9005,
    devices: [0x0285],
    name: 'quirk_fixed_dma_alias',
    aliases: (f) =>
      f.desc.subsystemVendor === 0x9005 &&
      (f.desc.subsystemDevice === 0x02bb || f.desc.subsystemDevice === 0x02bc)
        ? [(1 << 3) | 0]
        : [],
  },
  {
    // Intel MIC x200 NTB: forwards with RIDs 10.0, 11.0, 12.3.
    vendor: 0x8086,
    devices: [0x2260, 0x2264],
    name: 'quirk_mic_x200_dma_alias',
    aliases: () => [(0x10 << 3) | 0, (0x11 << 3) | 0, (0x12 << 3) | 3],
  },
];

/**
 * `quirk_use_pcie_bridge_dma_alias` ids: bridges that are really PCIe-to-PCI bridges but expose no
 * PCIe capability.
 */
const PCIE_BRIDGE_ALIAS_IDS: readonly (readonly [number, number])[] = [
  [0x1b21, 0x1080], // ASMedia ASM1083/1085
  [0x10e3, 0x8113], // Tundra 8113
  [0x1283, 0x8892], // ITE 8892
  [0x1283, 0x8893], // ITE 8893
  [0x8086, 0x244e], // Intel 82801
];

/** `quirk_bridge_cavm_thrx2_pcie_root`: Cavium ThunderX2 root complex bridges. */
const BRIDGE_XLATE_ROOT_IDS: readonly (readonly [number, number])[] = [
  [0x14e4, 0x9000],
  [0x14e4, 0x9084],
];

const idIn = (ids: readonly (readonly [number, number])[], f: PciFunction) =>
  ids.some(([v, d]) => v === f.desc.vendor && d === f.desc.device);

/** The devfns in `f`'s `dma_alias_mask` (same bus as `f`), ascending. */
export function dmaAliasDevfns(f: PciFunction): number[] {
  const out = new Set<number>();
  for (const q of ALIAS_QUIRKS) {
    if (q.vendor === f.desc.vendor && q.devices.includes(f.desc.device))
      for (const d of q.aliases(f)) out.add(d);
  }
  return [...out].sort((a, b) => a - b);
}

/** Names of the kernel fixups that give `f` DMA aliases. */
export function dmaAliasQuirks(f: PciFunction): string[] {
  return ALIAS_QUIRKS.filter(
    (q) => q.vendor === f.desc.vendor && q.devices.includes(f.desc.device) && q.aliases(f).length > 0,
  ).map((q) => q.name);
}

/**
 * `pci_devs_are_dma_aliases(a, b)` for two functions on the same bus: one's `dma_alias_mask` names
 * the other's devfn. Topological aliases (bridges) are not part of this test.
 */
export function devsAreDmaAliases(a: PciFunction, b: PciFunction): boolean {
  return dmaAliasDevfns(a).includes(devfn(b.bdf)) || dmaAliasDevfns(b).includes(devfn(a.bdf));
}

/**
 * PCI_DEV_FLAG_PCIE_BRIDGE_ALIAS: from the description, or from the kernel's table when the
 * bridge is not PCIe, not on a root bus, and sits below a PCIe device that is not itself a
 * PCIe-to-PCI bridge (the fixup's own condition).
 */
export function hasPcieBridgeAlias(f: PciFunction): boolean {
  if (f.quirks.has('PCIE_BRIDGE_ALIAS')) return true;
  if (!idIn(PCIE_BRIDGE_ALIAS_IDS, f)) return false;
  const up = f.bus.self;
  return (
    f.bus.parent !== null &&
    isBridge(f.desc) &&
    !f.desc.pcie &&
    up !== null &&
    up.desc.pcie !== undefined &&
    up.desc.pcie.type !== 'pcie-to-pci'
  );
}

/** PCI_DEV_FLAGS_BRIDGE_XLATE_ROOT: from the description or the kernel's table. */
export function isBridgeXlateRoot(f: PciFunction): boolean {
  return f.quirks.has('BRIDGE_XLATE_ROOT') || idIn(BRIDGE_XLATE_ROOT_IDS, f);
}

function alias(bus: number, df: number, device: PciFunction, via: AliasVia): DmaAlias {
  return { bus, devfn: df, requesterId: (bus << 8) | df, device, via };
}

/**
 * A3: `pci_for_each_dma_alias(f)` as a list, in the order the kernel visits: `f`'s own RID, its
 * quirk aliases, then each bridge above that changes the requester ID. Root, upstream and
 * downstream ports pass IDs through; the walk stops (without an alias) at a BRIDGE_XLATE_ROOT
 * bridge. The last entry's `device` is where IOMMU grouping continues (A4 step 2).
 */
export function dmaAliases(f: PciFunction): DmaAlias[] {
  const out: DmaAlias[] = [alias(f.bdf.bus, devfn(f.bdf), f, 'self')];
  for (const df of dmaAliasDevfns(f)) out.push(alias(f.bdf.bus, df, f, 'quirk'));

  for (let bus = f.bus; bus.parent !== null; bus = bus.parent) {
    const b = bus.self;
    if (!b) continue; // virtual bus
    if (isBridgeXlateRoot(b)) break; // A3: translation happens at this bridge
    const t = b.desc.pcie?.type;
    const sec = b.subordinate?.number ?? bus.number;
    if (t !== undefined) {
      // A3: PCIe ports forward the requester ID unchanged; other PCIe types add nothing either.
      if (t === 'pcie-to-pci') out.push(alias(sec, 0, b, 'pcie-to-pci'));
      else if (t === 'pci-to-pcie') out.push(alias(b.bdf.bus, devfn(b.bdf), b, 'pci-to-pcie'));
    } else if (hasPcieBridgeAlias(b)) {
      out.push(alias(sec, 0, b, 'pcie-bridge-alias'));
    } else {
      out.push(alias(b.bdf.bus, devfn(b.bdf), b, 'conventional'));
    }
  }
  return out;
}

/** The requester ID of an alias as an address on `f`'s domain. */
export function aliasBdf(a: DmaAlias): Bdf {
  return fromDevfn(a.device.bdf.domain, a.bus, a.devfn);
}

/** `dddd:bb:dd.f` text of an alias's requester ID. */
export function formatAlias(a: DmaAlias): string {
  return formatBdf(aliasBdf(a));
}
