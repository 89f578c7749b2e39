/**
 * The cdev-mode recipe of kernel-semantics Appendix A (6.6+) and the KVM-VFIO calls as small steps
 * over a `SimKernel`, with the uapi codecs — the counterpart of `vfio-steps.ts` for §3.4 and §3.10.
 */
import assert from 'node:assert/strict';
import type { SimKernel } from '../../src/sim/kernel.ts';
import { IOMMUFD, KVM, VFIO } from '../../src/uapi/ioctl.ts';
import {
  decodeAttachPt,
  decodeBindIommufd,
  decodeIoasAlloc,
  decodeKvmCreateDevice,
  encodeAttachPt,
  encodeBindIommufd,
  encodeDetachPt,
  encodeIoasAlloc,
  encodeIommuDestroy,
  encodeKvmCreateDevice,
  encodeKvmDeviceAttr,
} from '../../src/uapi/vfio-structs.ts';

/** `vfio-dev/vfioN` of a device, read from sysfs as a client would. */
export function cdevIndex(k: SimKernel, bdf: string): number {
  const names = k.sysfs.list(`bus/pci/devices/${bdf}/vfio-dev`);
  assert.equal(names.length, 1, `${bdf} has one vfio-dev entry`);
  return Number(names[0]!.slice('vfio'.length));
}

export function openCdev(k: SimKernel, bdf: string): number {
  return k.sys.open(`/dev/vfio/devices/vfio${cdevIndex(k, bdf)}`);
}

/** VFIO_DEVICE_BIND_IOMMUFD; returns the devid written back. */
export function bind(
  k: SimKernel,
  cdev: number,
  iommufd: number,
  over: { argsz?: number; flags?: number } = {},
): number {
  const buf = encodeBindIommufd({ argsz: over.argsz ?? 16, flags: over.flags ?? 0, iommufd, outDevid: 0 });
  k.sys.ioctl(cdev, VFIO.DEVICE_BIND_IOMMUFD, buf);
  return decodeBindIommufd(buf).outDevid;
}

/** iommufd + cdev + bind for one device. */
export function openBound(
  k: SimKernel,
  bdf: string,
  iommufd?: number,
): { iommufd: number; cdev: number; devid: number } {
  const ctx = iommufd ?? k.sys.open('/dev/iommu');
  const cdev = openCdev(k, bdf);
  return { iommufd: ctx, cdev, devid: bind(k, cdev, ctx) };
}

export function ioasAlloc(
  k: SimKernel,
  iommufd: number,
  over: { size?: number; flags?: number } = {},
): number {
  const buf = encodeIoasAlloc({ size: over.size ?? 12, flags: over.flags ?? 0, outIoasId: 0 });
  k.sys.ioctl(iommufd, IOMMUFD.IOAS_ALLOC, buf);
  return decodeIoasAlloc(buf).outIoasId;
}

export function destroy(k: SimKernel, iommufd: number, id: number): number {
  return k.sys.ioctl(iommufd, IOMMUFD.DESTROY, encodeIommuDestroy({ size: 8, id }));
}

/** ATTACH_IOMMUFD_PT; returns the id written back. */
export function attach(
  k: SimKernel,
  cdev: number,
  ptId: number,
  over: { argsz?: number; flags?: number } = {},
): number {
  const buf = encodeAttachPt({ argsz: over.argsz ?? 12, flags: over.flags ?? 0, ptId });
  k.sys.ioctl(cdev, VFIO.DEVICE_ATTACH_IOMMUFD_PT, buf);
  return decodeAttachPt(buf).ptId;
}

export function detach(k: SimKernel, cdev: number): number {
  return k.sys.ioctl(cdev, VFIO.DEVICE_DETACH_IOMMUFD_PT, encodeDetachPt({ argsz: 8, flags: 0 }));
}

/** /dev/kvm → VM → KVM-VFIO device; returns the three fds. */
export function kvmVfio(k: SimKernel): { kvm: number; vm: number; dev: number } {
  const kvm = k.sys.open('/dev/kvm');
  const vm = k.sys.ioctl(kvm, KVM.CREATE_VM, 0);
  const buf = encodeKvmCreateDevice({ type: KVM.DEV_TYPE_VFIO, fd: 0, flags: 0 });
  assert.equal(k.sys.ioctl(vm, KVM.CREATE_DEVICE, buf), 0);
  return { kvm, vm, dev: decodeKvmCreateDevice(buf).fd };
}

/** KVM_SET_DEVICE_ATTR on the KVM-VFIO device: add (1), del (2), spapr (3) or any attr number. */
export function kvmFile(
  k: SimKernel,
  dev: number,
  attr: 'add' | 'del' | 'spapr' | number,
  fd: number,
  group = 1,
): number {
  const n =
    attr === 'add'
      ? KVM.DEV_VFIO_FILE_ADD
      : attr === 'del'
        ? KVM.DEV_VFIO_FILE_DEL
        : attr === 'spapr'
          ? KVM.DEV_VFIO_GROUP_SET_SPAPR_TCE
          : attr;
  return k.sys.ioctl(dev, KVM.SET_DEVICE_ATTR, encodeKvmDeviceAttr({ flags: 0, group, attr: n, addr: fd }));
}
