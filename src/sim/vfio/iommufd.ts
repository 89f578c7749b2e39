/**
 * `/dev/iommu` [6.6+] (§1.3 iommufd ctx): object ids, IOMMU_IOAS_ALLOC and IOMMU_DESTROY, the
 * compat IOAS the group path uses (K7), and the ctx's release. Read from
 * drivers/iommu/iommufd/main.c (`iommufd_fops_ioctl`: get_user(size), the op's exact request
 * number, `size < min_size` → EINVAL, `copy_struct_from_user` → E2BIG; `iommufd_object_remove`;
 * `iommufd_fops_release`; objects in an xarray with XA_FLAGS_ALLOC1, so ids are the lowest free
 * from 1), ioas.c (`iommufd_ioas_alloc_ioctl`: flags → EOPNOTSUPP) and vfio_compat.c
 * (`iommufd_vfio_compat_ioas_create`).
 * @module
 */

import type { IoctlArg } from '../../kernel/syscalls.ts';
import { IOMMUFD, VFIO_TYPE } from '../../uapi/ioctl.ts';
import { IOAS_ALLOC_SIZE, IOMMU_DESTROY_SIZE } from '../../uapi/vfio-structs.ts';
import { fail } from '../rules.ts';
import type { IommufdFile } from './fds.ts';
import type { IommufdCtx, IommufdObject, KernelCtx } from './model.ts';
import { u32, userIn, userOut } from './user-mem.ts';

export function openIommufd(ctx: KernelCtx): IommufdFile {
  return { kind: 'iommufd', refs: 0, ctx: { id: ctx.nextIommufdId++, objects: new Map(), vfioIoas: null } };
}

/** `xa_alloc` on XA_FLAGS_ALLOC1: the lowest free id from 1. */
export function allocObject<T extends IommufdObject>(ictx: IommufdCtx, make: (id: number) => T): T {
  let id = 1;
  while (ictx.objects.has(id)) id++;
  const obj = make(id);
  ictx.objects.set(id, obj);
  return obj;
}

/** Drops a reference on an iommufd file held by a binding, a cdev or a compat group (`iommufd_ctx_put`). */
export function putIommufd(file: IommufdFile): void {
  file.refs--;
  if (file.refs === 0) releaseIommufd(file);
}

/** `iommufd_fops_release`: every object goes (bound devices hold the file, so none is left bound). */
export function releaseIommufd(file: IommufdFile): void {
  file.ctx.objects.clear();
  file.ctx.vfioIoas = null;
}

/** K7: `iommufd_vfio_compat_ioas_create` — the first compat SET_CONTAINER creates the ctx's VFIO IOAS. */
export function compatIoasCreate(ictx: IommufdCtx): void {
  if (ictx.vfioIoas !== null) return; // the kernel allocates and aborts a second one: no id is used
  ictx.vfioIoas = allocObject(ictx, (id) => ({ kind: 'ioas' as const, id })).id;
}

/**
 * The command prologue of `iommufd_fops_ioctl` after the op was found: `size` (the first u32) must
 * cover the op's minimum; bytes the user passes beyond the kernel's struct must be zero.
 */
function command(
  arg: IoctlArg | undefined,
  minSize: number,
  kernelSize: number,
  syscall: string,
): Uint8Array {
  const head = userIn(arg, 4, syscall);
  const size = u32(head, 0);
  if (size < minSize) fail('iommufd.size', syscall, `size ${size}, minimum ${minSize}`);
  const buf = userIn(arg, Math.min(size, kernelSize), syscall);
  if (size > kernelSize) {
    const all = userIn(arg, size, syscall);
    if (all.subarray(kernelSize, size).some((b) => b !== 0))
      fail('iommufd.E2BIG', syscall, `size ${size} > ${kernelSize} with non-zero trailing bytes`);
  }
  return buf;
}

function destroy(ictx: IommufdCtx, arg: IoctlArg | undefined, syscall: string): number {
  const buf = command(arg, IOMMU_DESTROY_SIZE, IOMMU_DESTROY_SIZE, syscall);
  const id = u32(buf, 4);
  const obj = ictx.objects.get(id);
  if (!obj) return fail('DESTROY.ENOENT', syscall, `id ${id}`);
  // A bound device is a user until its driver unbinds it; an auto HWPT lives only while devices are
  // attached; an IOAS is a user of every HWPT built on it.
  const busy =
    obj.kind === 'device' ||
    obj.kind === 'hwpt' ||
    [...ictx.objects.values()].some((o) => o.kind === 'hwpt' && o.ioas === id);
  if (busy) fail('DESTROY.EBUSY', syscall, `${obj.kind} ${id}`);
  ictx.objects.delete(id);
  if (ictx.vfioIoas === id) ictx.vfioIoas = null;
  return 0;
}

function ioasAlloc(ictx: IommufdCtx, arg: IoctlArg | undefined, syscall: string): number {
  const buf = command(arg, IOAS_ALLOC_SIZE, IOAS_ALLOC_SIZE, syscall);
  const flags = u32(buf, 4);
  if (flags !== 0) fail('IOAS_ALLOC.flags', syscall, `flags ${flags}`);
  const ioas = allocObject(ictx, (id) => ({ kind: 'ioas' as const, id }));
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, ioas.id, true);
  try {
    userOut(buf, 8, out, syscall); // iommufd_ucmd_respond, before the object is finalized
  } catch (e) {
    ictx.objects.delete(ioas.id);
    throw e;
  }
  return 0;
}

const MODELLED: readonly number[] = [IOMMUFD.DESTROY, IOMMUFD.IOAS_ALLOC];

export function iommufdIoctl(
  _ctx: KernelCtx,
  file: IommufdFile,
  request: number,
  arg: IoctlArg | undefined,
  syscall: string,
): number {
  const nr = request & 0xff;
  const isDestroyOrAlloc = nr === (IOMMUFD.DESTROY & 0xff) || nr === (IOMMUFD.IOAS_ALLOC & 0xff);
  if (isDestroyOrAlloc && !MODELLED.includes(request)) {
    // The op table is indexed by nr; a request with the right nr but other type/size bits is not it.
    userIn(arg, 4, syscall);
    return fail('iommufd.ENOTTY', syscall, `0x${request.toString(16)}`);
  }
  if (request === IOMMUFD.DESTROY) return destroy(file.ctx, arg, syscall);
  if (request === IOMMUFD.IOAS_ALLOC) return ioasAlloc(file.ctx, arg, syscall);
  const what = request >> 8 === VFIO_TYPE && nr < 0x80 ? 'a VFIO compat ioctl' : 'an iommufd command';
  return fail('iommufd.unmodelled', syscall, what);
}
