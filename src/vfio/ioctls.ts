/**
 * Typed calls of the VFIO ioctls the reset path uses, over any `Syscalls`. Struct packing comes
 * from `uapi/`; here only the calling conventions live (argsz negotiation, the ENOSPC two-call
 * protocol of the hot-reset INFO). Kernel refusals stay `KernelError`s; the session turns them
 * into advice.
 * @module
 */

import { KernelError, type Syscalls } from '../kernel/syscalls.ts';
import { formatBdf, fromDevfn } from '../pci/bdf.ts';
import { VFIO, VFIO_API_VERSION } from '../uapi/ioctl.ts';
import {
  DEVICE_INFO_SIZE,
  type DeviceInfo,
  decodeDeviceInfo,
  decodeGroupStatus,
  decodeHotResetInfo,
  encodeCString,
  encodeDeviceInfo,
  encodeGroupStatus,
  encodeHotReset,
  encodeHotResetInfo,
  GROUP_STATUS_SIZE,
  HOT_RESET_HEADER_SIZE,
  hotResetInfoSize,
  VFIO_PCI_DEVID,
  VFIO_PCI_HOT_RESET_FLAG,
} from '../uapi/vfio-structs.ts';

export function apiVersion(sys: Syscalls, container: number): number {
  return sys.ioctl(container, VFIO.GET_API_VERSION);
}

export function checkExtension(sys: Syscalls, container: number, ext: number): boolean {
  return sys.ioctl(container, VFIO.CHECK_EXTENSION, ext) === 1;
}

export function setIommu(sys: Syscalls, container: number, type: number): void {
  sys.ioctl(container, VFIO.SET_IOMMU, type);
}

export function groupStatus(sys: Syscalls, group: number): number {
  const buf = encodeGroupStatus({ argsz: GROUP_STATUS_SIZE, flags: 0 });
  sys.ioctl(group, VFIO.GROUP_GET_STATUS, buf);
  return decodeGroupStatus(buf).flags;
}

export function setContainer(sys: Syscalls, group: number, container: number): void {
  const buf = new Uint8Array(4);
  new DataView(buf.buffer).setInt32(0, container, true);
  sys.ioctl(group, VFIO.GROUP_SET_CONTAINER, buf);
}

export function unsetContainer(sys: Syscalls, group: number): void {
  sys.ioctl(group, VFIO.GROUP_UNSET_CONTAINER);
}

export function getDeviceFd(sys: Syscalls, group: number, name: string): number {
  return sys.ioctl(group, VFIO.GROUP_GET_DEVICE_FD, encodeCString(name));
}

export function deviceInfo(sys: Syscalls, device: number): DeviceInfo {
  const buf = encodeDeviceInfo({
    argsz: DEVICE_INFO_SIZE,
    flags: 0,
    numRegions: 0,
    numIrqs: 0,
    capOffset: 0,
  });
  sys.ioctl(device, VFIO.DEVICE_GET_INFO, buf);
  return decodeDeviceInfo(buf);
}

export function deviceReset(sys: Syscalls, device: number): void {
  sys.ioctl(device, VFIO.DEVICE_RESET);
}

export interface HotResetEntry {
  bdf: string;
  /** Group id (group mode) or devid / OWNED (0) / NOT_OWNED (0xffffffff) (cdev mode). */
  id: number;
}

export interface HotResetInfoResult {
  flags: number;
  /** True when the kernel reported dev_ids (cdev mode, 6.6+). */
  devIdMode: boolean;
  /** Cdev mode: every affected device is owned by the caller's iommufd context. */
  allOwned: boolean;
  entries: HotResetEntry[];
}

/**
 * I4/I7: ask with a header-only buffer, read `count` from the ENOSPC answer, ask again with room
 * for every entry. Retries once more if the scope grew in between (I8: EAGAIN / a second ENOSPC).
 */
export function hotResetInfo(sys: Syscalls, device: number): HotResetInfoResult {
  let count = 0;
  for (let attempt = 0; attempt < 3; attempt++) {
    const size = hotResetInfoSize(count);
    const buf = encodeHotResetInfo({ argsz: size, flags: 0, count: 0, devices: [] }, size);
    try {
      sys.ioctl(device, VFIO.DEVICE_GET_PCI_HOT_RESET_INFO, buf);
    } catch (e) {
      if (e instanceof KernelError && e.errno === 'ENOSPC') {
        count = decodeHotResetInfo(buf.subarray(0, HOT_RESET_HEADER_SIZE)).count;
        continue;
      }
      // I8: a device appeared between the kernel's count and fill; ask again from the start.
      if (e instanceof KernelError && e.errno === 'EAGAIN') {
        count = 0;
        continue;
      }
      throw e;
    }
    const info = decodeHotResetInfo(buf);
    const devIdMode = (info.flags & VFIO_PCI_HOT_RESET_FLAG.DEV_ID) !== 0;
    return {
      flags: info.flags,
      devIdMode,
      allOwned: devIdMode && (info.flags & VFIO_PCI_HOT_RESET_FLAG.DEV_ID_OWNED) !== 0,
      entries: info.devices.map((d) => ({ bdf: formatBdf(fromDevfn(d.segment, d.bus, d.devfn)), id: d.id })),
    };
  }
  throw new KernelError(
    'EAGAIN',
    'VFIO_DEVICE_GET_PCI_HOT_RESET_INFO',
    'the reset scope kept changing between calls',
  );
}

export function isNotOwned(id: number): boolean {
  return id === VFIO_PCI_DEVID.NOT_OWNED;
}

/** Cdev mode: the entry is OWNED (0) — not bound to the caller's context, but its IOMMU group is (I5). */
export function isOwnedThroughGroup(id: number): boolean {
  return id === VFIO_PCI_DEVID.OWNED;
}

/** The names of the hot-reset INFO flags set in `flags` (I6). */
export function hotResetFlagNames(flags: number): string[] {
  return [
    flags & VFIO_PCI_HOT_RESET_FLAG.DEV_ID ? 'DEV_ID' : null,
    flags & VFIO_PCI_HOT_RESET_FLAG.DEV_ID_OWNED ? 'DEV_ID_OWNED' : null,
  ].filter((n): n is string => n !== null);
}

/** VFIO_DEVICE_PCI_HOT_RESET with one fd per group (group mode) or none (cdev mode, H20). */
export function hotReset(sys: Syscalls, device: number, groupFds: number[]): void {
  const buf = encodeHotReset({
    argsz: HOT_RESET_HEADER_SIZE + 4 * groupFds.length,
    flags: 0,
    count: groupFds.length,
    fds: groupFds,
  });
  sys.ioctl(device, VFIO.DEVICE_PCI_HOT_RESET, buf);
}

export { VFIO_API_VERSION };
