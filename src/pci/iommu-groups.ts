/**
 * IOMMU groups of PCI functions as Linux 6.1/6.6+ forms them (`pci_device_group`,
 * drivers/iommu/iommu.c; kernel-semantics.md §6 rules A4–A6). Pure: computed once from a topology.
 *
 * Probe order is `Topology.functions` (the order of `pci_device_add`, which registers each device,
 * so bridges come before the devices behind them). At boot the IOMMU driver registers after PCI
 * enumeration (intel-iommu: rootfs_initcall) and probes every registered device in that order
 * (`bus_iommu_probe`), so searches over "all PCI devices" see devices that have no group yet.
 * @module
 */

import { acsEnabled, acsPathEnabled, REQ_ACS_FLAGS } from './acs.ts';
import { devfn, formatBdf, parseBdf } from './bdf.ts';
import { devsAreDmaAliases, dmaAliases } from './dma-alias.ts';
import type { PciBus, PciFunction, Topology } from './topology.ts';

/** Which step of A4 placed a function. */
export type GroupStep =
  /** A4.1: an alias device (a PCIe-to-PCI or conventional bridge above) already had a group. */
  | 'A4.1'
  /** A4.2: a bridge above without an ACS path to the root already had a group. */
  | 'A4.2'
  /** A4.3: a same-bus device that DMA-aliases it (quirk `dma_alias_mask`) had a group. */
  | 'A4.3'
  /** A4.4: another non-ACS function of the same multifunction slot had a group. */
  | 'A4.4'
  /** A4.5: a new group. */
  | 'A4.5';

export interface GroupDecision {
  step: GroupStep;
  /** The function whose existing group was joined; null for a new group. */
  joined: PciFunction | null;
}

export interface IommuGroups {
  /** False when computed without an IOMMU: nothing has a group. */
  readonly enabled: boolean;
  /** The group id of a function (object, `dddd:bb:dd.f` or `bb:dd.f`); null without an IOMMU or for an unknown address. */
  groupOf(f: PciFunction | string): number | null;
  /** The functions of a group, in registration order; empty for an unknown id. */
  members(id: number): PciFunction[];
  /** Every group id, ascending. */
  ids(): number[];
  /** How a function got its group (for explanations); null without an IOMMU. */
  decision(f: PciFunction | string): GroupDecision | null;
}

export interface IommuGroupOptions {
  /** Whether an IOMMU is active (default true). Without one, no function has a group. */
  iommu?: boolean;
}

interface Found {
  group: number;
  via: PciFunction;
}

export function computeIommuGroups(topo: Topology, opts: IommuGroupOptions = {}): IommuGroups {
  const enabled = opts.iommu ?? true;
  const groupOf = new Map<PciFunction, number>();
  const decisions = new Map<PciFunction, GroupDecision>();
  const members = new Map<number, PciFunction[]>();

  const resolve = (f: PciFunction | string): PciFunction | undefined => {
    if (typeof f !== 'string') return f;
    try {
      return topo.get(formatBdf(parseBdf(f)));
    } catch {
      return undefined;
    }
  };

  const api: IommuGroups = {
    enabled,
    groupOf: (f) => {
      const fn = resolve(f);
      return fn ? (groupOf.get(fn) ?? null) : null;
    },
    members: (id) => [...(members.get(id) ?? [])],
    ids: () => [...members.keys()].sort((a, b) => a - b),
    decision: (f) => {
      const fn = resolve(f);
      return fn ? (decisions.get(fn) ?? null) : null;
    },
  };
  if (!enabled) return api;

  // for_each_pci_dev restricted to one bus, in registration order.
  const onBus = new Map<PciBus, PciFunction[]>();
  for (const f of topo.functions) {
    const list = onBus.get(f.bus);
    if (list) list.push(f);
    else onBus.set(f.bus, [f]);
  }
  const acsCache = new Map<PciFunction, boolean>();
  const acs = (f: PciFunction): boolean => {
    let v = acsCache.get(f);
    if (v === undefined) {
      v = acsEnabled(f, REQ_ACS_FLAGS);
      acsCache.set(f, v);
    }
    return v;
  };
  const existing = (f: PciFunction): Found | null => {
    const g = groupOf.get(f);
    return g === undefined ? null : { group: g, via: f };
  };

  // get_pci_alias_group: p's own group, else (recursively) that of a same-bus device that
  // DMA-aliases p or that p aliases, or of that device's non-isolated sibling functions.
  // `seen` is the kernel's devfn bitmap: shared across steps 3 and 4, keyed by devfn only.
  const aliasGroup = (p: PciFunction, seen: Set<number>): Found | null => {
    const df = devfn(p.bdf);
    if (seen.has(df)) return null;
    seen.add(df);
    const own = existing(p);
    if (own) return own;
    for (const tmp of onBus.get(p.bus) ?? []) {
      if (tmp === p || !devsAreDmaAliases(p, tmp)) continue;
      const r = aliasGroup(tmp, seen) ?? functionAliasGroup(tmp, seen);
      if (r) return r;
    }
    return null;
  };

  // get_pci_function_alias_group: for a multifunction device without ACS, the group of another
  // function in the same slot that also lacks ACS (or of its aliases).
  const functionAliasGroup = (p: PciFunction, seen: Set<number>): Found | null => {
    if (!p.multifunction || acs(p)) return null;
    for (const tmp of onBus.get(p.bus) ?? []) {
      if (tmp === p || tmp.bdf.device !== p.bdf.device || acs(tmp)) continue;
      const r = aliasGroup(tmp, seen);
      if (r) return r;
    }
    return null;
  };

  const place = (f: PciFunction): GroupDecision & { group: number | null } => {
    // A4.1: walk the alias chain; the first alias device that already has a group wins.
    let p = f;
    for (const a of dmaAliases(f)) {
      p = a.device;
      const g = existing(p);
      if (g) return { step: 'A4.1', joined: g.via, group: g.group };
    }
    // A4.2: from the last alias device, go up while the bridge above has no ACS path to the root.
    for (let bus: PciBus = p.bus; bus.parent !== null; bus = bus.parent) {
      const b = bus.self;
      if (!b) continue; // virtual bus
      if (acsPathEnabled(b, REQ_ACS_FLAGS)) break;
      p = b;
      const g = existing(p);
      if (g) return { step: 'A4.2', joined: g.via, group: g.group };
    }
    const seen = new Set<number>();
    // A4.3: same-bus DMA aliases (quirk dma_alias_mask, either direction).
    const viaAlias = aliasGroup(p, seen);
    if (viaAlias) return { step: 'A4.3', joined: viaAlias.via, group: viaAlias.group };
    // A4.4: non-isolated functions of the same slot; the bitmap from step 3 is kept.
    const viaFn = functionAliasGroup(p, seen);
    if (viaFn) return { step: 'A4.4', joined: viaFn.via, group: viaFn.group };
    // A4.5
    return { step: 'A4.5', joined: null, group: null };
  };

  // A6: a new group takes the lowest free id (ida_alloc). Nothing is freed at boot, so the ids in
  // use are always 0..n-1 and the lowest free one is the count so far.
  let nextId = 0;
  for (const f of topo.functions) {
    const d = place(f);
    const id = d.group ?? nextId++;
    groupOf.set(f, id);
    decisions.set(f, { step: d.step, joined: d.joined });
    const list = members.get(id);
    if (list) list.push(f);
    else members.set(id, [f]);
  }
  return api;
}
