/**
 * Open files and the fd table. A file is reference counted like a `struct file`: the fd table
 * holds one reference, and in 6.1 every device file holds one on its group file (G6), so a
 * file's release runs when the last reference goes. New kinds (6.6+ `iommufd` and device
 * `cdev` files, the KVM VM and KVM-VFIO device) are added to the `OpenFile` union and get a
 * `FileOps` entry in `kernel.ts`.
 * @module
 */

import type { Container, VfioDevice, VfioGroup } from './model.ts';

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

export type OpenFile = ContainerFile | GroupFile | DeviceFile | NullFile;
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
