/**
 * The VFIO objects of the simulated kernel (kernel-semantics §1.3, Appendix B) and the context
 * every handler works on. Plain data; the rules that change it live in the files beside this one.
 * @module
 */

import type { Era } from '../../pci/era.ts';
import type { PciFunction } from '../../pci/topology.ts';
import type { SimClock } from '../clock.ts';
import type { SimHost } from '../host.ts';
import type { KernelLog } from '../log.ts';
import type { PciCore } from '../pci-core.ts';
import type { Vfs } from '../vfs.ts';
import type { FdTable, GroupFile } from './fds.ts';

/** IOMMU backends a container can be set to (type1 is the only backend on x86). */
export type IommuType = 'TYPE1' | 'TYPE1v2';

/** One open of `/dev/vfio/vfio` (C1); lives while a file or an attached group refers to it (C6). */
export interface Container {
  readonly id: number;
  /** Attached groups (`container->group_list`). */
  groups: VfioGroup[];
  /** `container->iommu_driver`, null until VFIO_SET_IOMMU (C4) and again after the last group leaves (C6). */
  iommu: IommuType | null;
}

/** `struct vfio_group`: exists while a member of its IOMMU group is bound to vfio-pci (G1). */
export interface VfioGroup {
  /** The IOMMU group id, which is also the node name `/dev/vfio/<id>`. */
  readonly id: number;
  /** `device_list`: the vfio devices of this group, in bind order. */
  devices: VfioDevice[];
  /** `iommu_group == NULL`: the last device was unbound while a file still referred to the group. */
  gone: boolean;
  /** The one open file (G2); in 6.1 it stays open while device fds pin it (G6). */
  file: GroupFile | null;
  container: Container | null;
  /** 1 for the container attachment plus one per device fd (G5, [2013] E2). */
  containerUsers: number;
}

/** A function bound to vfio-pci (`vfio_pci_core_device`). */
export interface VfioDevice {
  readonly bdf: string;
  readonly fn: PciFunction;
  readonly group: VfioGroup;
  /** Frozen at bind (S1); null in [2013], which had no dev_sets. */
  readonly devSet: DevSet | null;
  /** `vfio_device->open_count`: device fds of the group path share one open (O1/O2). */
  openCount: number;
  /** Computed at each first open (O1); false before any open. */
  resetWorks: boolean;
  /** True once O1 ran, so a snapshot can tell "false" from "not computed yet". */
  opened: boolean;
  /** Set by every last close, cleared by a successful close-time reset (O3/O4). */
  needsReset: boolean;
  /** Fault injection: another thread holds `memory_lock` / `vma_lock` (H8, D3). */
  memoryLockHeld: boolean;
  vmaLockHeld: boolean;
}

/** `struct vfio_device_set` (S1–S3): devices that share one reset domain and one lock. */
export interface DevSet {
  /** `slot:<bus>:<slot name>`, `bus:<bus>` or `dev:<bdf>` (singleton). */
  readonly key: string;
  /** In bind order (`list_add_tail`): the first member decides resettability (H6). */
  members: VfioDevice[];
}

/** Everything a VFIO handler needs; one per `SimKernel`. */
export interface KernelCtx {
  readonly era: Era;
  readonly host: SimHost;
  readonly pci: PciCore;
  readonly clock: SimClock;
  readonly log: KernelLog;
  /** The live sysfs projection (driver links follow binds). */
  readonly vfs: Vfs;
  readonly fds: FdTable;
  /** The group nodes that exist now, by IOMMU group id (G1). */
  readonly groups: Map<number, VfioGroup>;
  /** Bound vfio devices by BDF. */
  readonly devices: Map<string, VfioDevice>;
  readonly devSets: Map<string, DevSet>;
  nextContainerId: number;
}
