/**
 * Which IOMMU groups a set of devices drags along: VFIO owns groups, not devices, so every member
 * of each group is bound to vfio-pci with them (bridges stay with their port driver, which takes
 * no DMA ownership, §1.2). A group that holds a device the host is using is refused unless that
 * device was named too — naming it is the consent. Pure data; `bind.ts` carries it out.
 * @module
 */

import type { Inventory } from '../host/inventory.ts';
import type { DeviceRef } from '../host/problems.ts';
import { isBridgeKind } from '../pci/class-names.ts';
import { isVfioDriver } from '../pci/drivers.ts';
import type { HostUse, HostUseLookup } from './host-use.ts';

/** bind: to vfio-pci; keep: already there; leave: a bridge, which vfio-pci never binds (S0). */
export type MemberAction = 'bind' | 'keep' | 'leave';

export interface BindMember extends DeviceRef {
  requested: boolean;
  bridge: boolean;
  action: MemberAction;
  hostUse: HostUse[];
}

export interface BindGroup {
  id: number;
  members: BindMember[];
  /** The requested devices that bring this group in. */
  requestedBy: string[];
}

export type BindRefusal =
  /** The group holds a device the host uses that was not named. */
  | { code: 'host-device-in-group'; group: number; device: DeviceRef; use: HostUse; requestedBy: string[] }
  /** No IOMMU group: VFIO cannot take it at all. */
  | { code: 'no-iommu-group'; device: DeviceRef }
  /** A bridge was named: vfio-pci refuses bridges (S0). */
  | { code: 'bridge-requested'; device: DeviceRef };

export interface BindPlan {
  requested: string[];
  groups: BindGroup[];
  refusals: BindRefusal[];
}

export function planBind(inv: Inventory, requested: readonly string[], hostUse: HostUseLookup): BindPlan {
  const byBdf = new Map(inv.functions.map((f) => [f.bdf, f]));
  const named = new Set(requested);
  const isBridge = (bdf: string) => isBridgeKind(byBdf.get(bdf)?.kind ?? 'endpoint');
  const refusals: BindRefusal[] = [];
  const groups = new Map<number, BindGroup>();
  for (const bdf of requested) {
    const f = byBdf.get(bdf);
    if (!f) continue;
    const ref = { bdf, driver: f.driver, group: f.group };
    if (isBridge(bdf)) {
      refusals.push({ code: 'bridge-requested', device: ref });
      continue;
    }
    if (f.group === null) {
      refusals.push({ code: 'no-iommu-group', device: ref });
      continue;
    }
    const have = groups.get(f.group);
    if (have) {
      have.requestedBy.push(bdf);
      continue;
    }
    const members = (inv.groups.find((g) => g.id === f.group)?.members ?? []).map((m): BindMember => {
      const bridge = isBridge(m.bdf);
      return {
        ...m,
        requested: named.has(m.bdf),
        bridge,
        action: bridge ? 'leave' : isVfioDriver(m.driver) ? 'keep' : 'bind',
        hostUse: hostUse(m.bdf),
      };
    });
    groups.set(f.group, { id: f.group, members, requestedBy: [bdf] });
  }
  for (const g of groups.values())
    for (const m of g.members)
      if (!m.requested && m.action === 'bind')
        for (const use of m.hostUse)
          refusals.push({
            code: 'host-device-in-group',
            group: g.id,
            device: { bdf: m.bdf, driver: m.driver, group: m.group },
            use,
            requestedBy: g.requestedBy,
          });
  return { requested: [...requested], groups: [...groups.values()], refusals };
}
