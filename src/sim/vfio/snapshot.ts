/**
 * A read-only snapshot of the VFIO state for tests and views: group nodes, containers, vfio
 * devices with their open count, reset state and dev_set, and the fd table.
 * @module
 */

import type { FileKind, OpenFile } from './fds.ts';
import { statusFlags } from './group.ts';
import type { Container, KernelCtx, VfioGroup } from './model.ts';

export interface GroupView {
  id: number;
  /** `/dev/vfio/<id>` exists (G1); false for a dead group still held by a file. */
  node: boolean;
  gone: boolean;
  /** The group file is open (by an fd, or pinned by device fds in 6.1). */
  open: boolean;
  container: number | null;
  containerUsers: number;
  /** GET_STATUS flags as the era computes them now. */
  statusFlags: number;
  devices: string[];
  /** [6.6+] id of the iommufd ctx SET_CONTAINER was given (K7), or null. */
  iommufd: number | null;
  /** [6.6+] devices of the group bound through their cdev (G2). */
  cdevOpenCount: number;
}

export interface ContainerView {
  id: number;
  iommu: Container['iommu'];
  groups: number[];
  fds: number[];
}

export interface DeviceView {
  bdf: string;
  group: number;
  openCount: number;
  /** null until the first open computed it (O1). */
  resetWorks: boolean | null;
  needsReset: boolean;
  devSet: string | null;
  power: string;
  memoryLockHeld: boolean;
  vmaLockHeld: boolean;
  fds: number[];
  /** N of `vfio-dev/vfioN` and `/dev/vfio/devices/vfioN`. */
  index: number;
  cdevOpened: boolean;
  /** The iommufd binding (ctx id, devid, attached HWPT), or null. */
  iommufd: { ctx: number; devid: number; hwpt: number | null } | null;
}

export interface FdView {
  fd: number;
  kind: FileKind;
  /** Container id, group id, device BDF or iommufd ctx id; null for /dev/null and KVM files. */
  target: number | string | null;
}

export interface VfioStateView {
  era: KernelCtx['era'];
  groups: GroupView[];
  containers: ContainerView[];
  devices: DeviceView[];
  devSets: { key: string; members: string[] }[];
  fds: FdView[];
}

export function vfioSnapshot(ctx: KernelCtx): VfioStateView {
  const entries = ctx.fds.entries();
  const groups = new Set<VfioGroup>(ctx.groups.values());
  const containers = new Set<Container>();
  for (const [, f] of entries) {
    if (f.kind === 'container') containers.add(f.container);
    if (f.kind === 'group') groups.add(f.group);
  }
  const fds: FdView[] = entries.map(([fd, f]) => ({ fd, kind: f.kind, target: fdTarget(f) }));
  for (const g of groups) if (g.container) containers.add(g.container);
  return {
    era: ctx.era,
    groups: [...groups]
      .sort((a, b) => a.id - b.id)
      .map((g) => ({
        id: g.id,
        node: ctx.groups.get(g.id) === g,
        gone: g.gone,
        open: g.file !== null,
        container: g.container?.id ?? null,
        containerUsers: g.containerUsers,
        statusFlags: statusFlags(ctx, g),
        devices: g.devices.map((d) => d.bdf),
        iommufd: g.iommufd?.ctx.id ?? null,
        cdevOpenCount: g.cdevOpenCount,
      })),
    containers: [...containers]
      .sort((a, b) => a.id - b.id)
      .map((c) => ({
        id: c.id,
        iommu: c.iommu,
        groups: c.groups.map((g) => g.id),
        fds: entries.filter(([, f]) => f.kind === 'container' && f.container === c).map(([fd]) => fd),
      })),
    devices: [...ctx.devices.values()].map((d) => ({
      bdf: d.bdf,
      group: d.group.id,
      openCount: d.openCount,
      resetWorks: d.opened ? d.resetWorks : null,
      needsReset: d.needsReset,
      devSet: d.devSet?.key ?? null,
      power: ctx.pci.state(d.bdf).power,
      memoryLockHeld: d.memoryLockHeld,
      vmaLockHeld: d.vmaLockHeld,
      fds: entries
        .filter(([, f]) => (f.kind === 'device' || f.kind === 'cdev') && f.device === d)
        .map(([fd]) => fd),
      index: d.index,
      cdevOpened: d.cdevOpened,
      iommufd: d.bound ? { ctx: d.bound.file.ctx.id, devid: d.bound.devid, hwpt: d.bound.hwpt } : null,
    })),
    devSets: [...ctx.devSets.values()].map((s) => ({ key: s.key, members: s.members.map((m) => m.bdf) })),
    fds,
  };
}

function fdTarget(f: OpenFile): number | string | null {
  if (f.kind === 'container') return f.container.id;
  if (f.kind === 'group') return f.group.id;
  if (f.kind === 'device' || f.kind === 'cdev') return f.device.bdf;
  if (f.kind === 'iommufd') return f.ctx.id;
  return null;
}
