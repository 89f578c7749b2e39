/**
 * Open files and the fd table. A file is reference counted like a `struct file`: the fd table
 * holds one reference, and in 6.1 every device file holds one on its group file (G6), a bound
 * device or compat group holds one on its iommufd file, and 5.19+ KVM holds one on every VFIO
 * file registered with it (E4); a file's release runs when the last reference goes. Each kind
 * gets an entry in `kernel.ts`'s `FILE_OPS`.
 * @module
 */

import type { EventfdCtx } from '../eventfd.ts';
import type { KvmVfio, KvmVm } from '../kvm/model.ts';
import type { Container, IommufdCtx, VfioDevice, VfioGroup } from './model.ts';

interface FileBase {
  /** References: fd-table entries plus kernel-internal holds. */
  refs: number;
}

export interface ContainerFile extends FileBase {
  kind: 'container';
  container: Container;
}

export interface GroupFile extends FileBase {
  kind: 'group';
  group: VfioGroup;
}

export interface DeviceFile extends FileBase {
  kind: 'device';
  device: VfioDevice;
  /** 6.1: the group file this device file pins (G6); null in [2013], where device fds count container users instead. */
  groupFile: GroupFile | null;
}

/** `/dev/null`: a plain file, for the "not a VFIO fd" cases (H5, G4). */
export interface NullFile extends FileBase {
  kind: 'null';
}

/** [6.6+] `/dev/iommu` (`iommufd_fops`). */
export interface IommufdFile extends FileBase {
  kind: 'iommufd';
  ctx: IommufdCtx;
}

/** [6.6+] `/dev/vfio/devices/vfioN`: a device file without `df->group` (K1–K6). */
export interface CdevFile extends FileBase {
  kind: 'cdev';
  device: VfioDevice;
  /** `df->access_granted`: set by a successful BIND_IOMMUFD (K2, K3). */
  access: boolean;
  /** `df->iommufd`: the iommufd file the bind took a reference on. */
  iommufd: IommufdFile | null;
}

/** `/dev/kvm`. */
export interface KvmFile extends FileBase {
  kind: 'kvm';
}

/** A VM fd from KVM_CREATE_VM. */
export interface KvmVmFile extends FileBase {
  kind: 'kvm-vm';
  vm: KvmVm;
}

/** A KVM device fd from KVM_CREATE_DEVICE (only `KVM_DEV_TYPE_VFIO` is modelled). */
export interface KvmDeviceFile extends FileBase {
  kind: 'kvm-device';
  vfio: KvmVfio;
}

/** An eventfd(2); VFIO triggers keep its `ctx`, which outlives the file. */
export interface EventfdFile extends FileBase {
  kind: 'eventfd';
  ctx: EventfdCtx;
}

export type OpenFile =
  | ContainerFile
  | GroupFile
  | DeviceFile
  | NullFile
  | IommufdFile
  | CdevFile
  | KvmFile
  | KvmVmFile
  | KvmDeviceFile
  | EventfdFile;
export type FileKind = OpenFile['kind'];

/** The lowest free descriptor is reused, from 3 up (0–2 are stdio), as Linux does. */
export const FIRST_FD = 3;

export class FdTable {
  private readonly table = new Map<number, OpenFile>();

  install(file: OpenFile): number {
    let fd = FIRST_FD;
    while (this.table.has(fd)) fd++;
    this.table.set(fd, file);
    file.refs++;
    return fd;
  }

  get(fd: number): OpenFile | undefined {
    return this.table.get(fd);
  }

  /** Removes the entry (the caller drops the reference). */
  remove(fd: number): OpenFile | undefined {
    const f = this.table.get(fd);
    this.table.delete(fd);
    return f;
  }

  /** Every open descriptor, ascending. */
  entries(): [number, OpenFile][] {
    return [...this.table.entries()].sort((a, b) => a[0] - b[0]);
  }

  fdsOf(file: OpenFile): number[] {
    return this.entries()
      .filter(([, f]) => f === file)
      .map(([fd]) => fd);
  }
}
