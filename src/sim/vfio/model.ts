/**
 * The VFIO objects of the simulated kernel (kernel-semantics §1.3, Appendix B) and the context
 * every handler works on. Plain data; the rules that change it live in the files beside this one.
 * @module
 */

import type { Era } from '../../pci/era.ts';
import type { PciFunction } from '../../pci/topology.ts';
import type { SimClock } from '../clock.ts';
import type { EventfdCtx } from '../eventfd.ts';
import type { SimHost } from '../host.ts';
import type { KernelLog } from '../log.ts';
import type { PciCore } from '../pci-core.ts';
import type { Vfs } from '../vfs.ts';
import type { FdTable, GroupFile, IommufdFile } from './fds.ts';

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
  /** 1 for the container attachment plus one per device fd (G5) and, [2013], per external user (E2). */
  containerUsers: number;
  /** [6.6+] `group->iommufd`: SET_CONTAINER was given an iommufd (K7, 6.2+ compat); holds a file reference. */
  iommufd: IommufdFile | null;
  /** [6.6+] `cdev_device_open_cnt`: devices of this group bound through their cdev (G2, K3). */
  cdevOpenCount: number;
  /** [2013] external users (the KVM-VFIO device) among `containerUsers` (E1, E2). */
  externalUsers: number;
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
  /** `device->index` (lowest free at bind): the N of `vfio-dev/vfioN` and `/dev/vfio/devices/vfioN`. */
  readonly index: number;
  /** Open cdev files: each holds a registration, so unbinding vfio-pci waits for them (D1). */
  cdevFiles: number;
  /** [6.6+] `device->cdev_opened` (K3, K6, H20). */
  cdevOpened: boolean;
  /** `vdev->iommufd_device`: bound to an iommufd ctx by a cdev bind (K3) or a compat group open (K7). */
  bound: IommufdBinding | null;
  /** `vdev->err_trigger` (VFIO_PCI_ERR_IRQ_INDEX): signalled by AER error_detected; dropped at last close. */
  errTrigger: EventfdCtx | null;
  /** `vdev->req_trigger` (VFIO_PCI_REQ_IRQ_INDEX): signalled while an unbind waits for the user; dropped at last close. */
  reqTrigger: EventfdCtx | null;
}

/**
 * An unbind of vfio-pci blocked in `vfio_unregister_group_dev` until the device is released: the
 * write(2) has not returned; it completes when the last device file closes.
 */
export interface PendingRemoval {
  readonly device: VfioDevice;
  readonly driver: string;
  /** Requests relayed so far (`vfio_pci_core_request`'s count). */
  requests: number;
  /** Cancels the 10 s re-request timer. */
  cancel: () => void;
  /** Finishes the unbind (vfio-pci remove, driver link gone). */
  readonly finish: () => void;
}

/** A vfio device's `iommufd_device`: its object id in the ctx and its attachment (K5). */
export interface IommufdBinding {
  /** The iommufd file; the binding holds a reference on it (`iommufd_ctx_get` in `iommufd_device_bind`). */
  readonly file: IommufdFile;
  readonly devid: number;
  /** The HWPT it is attached to, or null (blocking DMA). */
  hwpt: number | null;
}

/** Objects of an iommufd ctx; ids come from one allocator, lowest free first, from 1. */
export type IommufdObject =
  | { readonly kind: 'ioas'; readonly id: number }
  /** An automatic HWPT created by attaching to an IOAS; it goes away with its last device. */
  | { readonly kind: 'hwpt'; readonly id: number; readonly ioas: number; devices: VfioDevice[] }
  | { readonly kind: 'device'; readonly id: number; readonly device: VfioDevice };

/** One open of `/dev/iommu` (`struct iommufd_ctx`). */
export interface IommufdCtx {
  readonly id: number;
  readonly objects: Map<number, IommufdObject>;
  /** `ictx->vfio_ioas`: the IOAS the group compat mode uses (K7). */
  vfioIoas: number | null;
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
  /** Unbinds waiting for their device to be released (D1), by BDF. */
  readonly removals: Map<string, PendingRemoval>;
  nextContainerId: number;
  nextIommufdId: number;
}
