/**
 * `/dev/vfio/devices/vfioN` [6.6+] (K1–K6): opening the node, VFIO_DEVICE_BIND_IOMMUFD with every
 * check in the kernel's order, the access gate, ATTACH/DETACH_IOMMUFD_PT, and what the file's
 * release undoes. Read from drivers/vfio/device_cdev.c (`vfio_device_fops_cdev_open`,
 * `vfio_df_ioctl_bind_iommufd`, `vfio_df_unbind_iommufd`, `vfio_df_ioctl_attach_pt`,
 * `vfio_df_ioctl_detach_pt`), vfio_main.c (`vfio_device_fops_unl_ioctl`: BIND is dispatched
 * before the `access_granted` gate; `vfio_df_open`) and group.c (`vfio_device_block_group`).
 * @module
 */

import type { IoctlArg } from '../../kernel/syscalls.ts';
import { VFIO } from '../../uapi/ioctl.ts';
import { ATTACH_PT_MINSZ, DETACH_PT_MINSZ, decodeAttachPt, decodeDetachPt } from '../../uapi/vfio-structs.ts';
import { fail } from '../rules.ts';
import { bindArgs, vfioPciIoctl } from './device.ts';
import type { CdevFile } from './fds.ts';
import { putIommufd } from './iommufd.ts';
import { attachPt, detachPt } from './iommufd-device.ts';
import { closeDevice, openDevice } from './lifecycle.ts';
import type { KernelCtx } from './model.ts';
import { decodeIn, userIn, userOut } from './user-mem.ts';

/** K1: the node of a registered vfio device; the file has no access until it is bound. */
export function openCdev(ctx: KernelCtx, index: number, syscall: string): CdevFile {
  const dev = [...ctx.devices.values()].find((d) => d.index === index);
  if (!dev) return fail('open.ENOENT', syscall, `/dev/vfio/devices/vfio${index}`);
  dev.cdevFiles++; // vfio_device_try_get_registration: unbinding vfio-pci now waits (D1)
  return { kind: 'cdev', refs: 0, device: dev, access: false, iommufd: null };
}

/** K3, in `vfio_df_ioctl_bind_iommufd`'s order; on success the devid is written at offset 12. */
function bindIommufd(ctx: KernelCtx, file: CdevFile, arg: IoctlArg | undefined, syscall: string): number {
  const { buf, bind } = bindArgs(arg, syscall);
  const dev = file.device;
  const g = dev.group;
  // vfio_device_block_group: a cdev bind and an open group file exclude each other (G2).
  if (g.file) fail('K3.group-open', syscall, `/dev/vfio/${g.id} is open`);
  g.cdevOpenCount++;
  try {
    if (file.access) fail('K3.bound', syscall, dev.bdf);
    const f = ctx.fds.get(bind.iommufd);
    if (!f) return fail('K3.fd', syscall, `fd ${bind.iommufd}`);
    if (f.kind !== 'iommufd') return fail('K3.not-iommufd', syscall, `fd ${bind.iommufd} is ${f.kind}`);
    // vfio_df_open: only the group path may open a device twice.
    if (dev.openCount !== 0) fail('K3.opened', syscall, `${dev.bdf} is open ${dev.openCount} time(s)`);
    openDevice(ctx, dev, syscall, f);
    f.refs++; // df->iommufd
    const out = new Uint8Array(4);
    new DataView(out.buffer).setUint32(0, dev.bound!.devid, true);
    userOut(buf, 12, out, syscall);
    dev.cdevOpened = true;
    file.access = true;
    file.iommufd = f;
    return 0;
  } catch (e) {
    g.cdevOpenCount--; // vfio_device_unblock_group
    throw e;
  }
}

/** K5: ATTACH_IOMMUFD_PT (6.6 form: flags must be 0); the attached id is written back. */
function attach(file: CdevFile, arg: IoctlArg | undefined, syscall: string): number {
  const buf = userIn(arg, ATTACH_PT_MINSZ, syscall);
  const a = decodeIn(syscall, () => decodeAttachPt(buf));
  if (a.argsz < ATTACH_PT_MINSZ || a.flags !== 0)
    fail('K5.args', syscall, `argsz ${a.argsz}, flags ${a.flags}`);
  const id = attachPt(file.device, a.ptId, syscall);
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, id, true);
  userOut(buf, 8, out, syscall);
  return 0;
}

function detach(file: CdevFile, arg: IoctlArg | undefined, syscall: string): number {
  const buf = userIn(arg, DETACH_PT_MINSZ, syscall);
  const d = decodeIn(syscall, () => decodeDetachPt(buf));
  if (d.argsz < DETACH_PT_MINSZ || d.flags !== 0)
    fail('K5.args', syscall, `argsz ${d.argsz}, flags ${d.flags}`);
  detachPt(file.device);
  return 0;
}

export function cdevIoctl(
  ctx: KernelCtx,
  file: CdevFile,
  request: number,
  arg: IoctlArg | undefined,
  syscall: string,
): number {
  if (request === VFIO.DEVICE_BIND_IOMMUFD) return bindIommufd(ctx, file, arg, syscall);
  if (!file.access) return fail('K2', syscall, file.device.bdf); // K2: nothing else before a bind
  if (request === VFIO.DEVICE_ATTACH_IOMMUFD_PT) return attach(file, arg, syscall);
  if (request === VFIO.DEVICE_DETACH_IOMMUFD_PT) return detach(file, arg, syscall);
  return vfioPciIoctl(ctx, file.device, request, arg, syscall);
}

/** K6: `vfio_df_unbind_iommufd` — close (O3/O4, iommufd unbind), put the ctx, unblock the group. */
export function releaseCdev(ctx: KernelCtx, file: CdevFile): void {
  const dev = file.device;
  dev.cdevFiles--;
  if (!file.access) return;
  closeDevice(ctx, dev);
  if (file.iommufd) putIommufd(file.iommufd);
  file.iommufd = null;
  dev.cdevOpened = false;
  dev.group.cdevOpenCount--;
}
