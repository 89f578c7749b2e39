/**
 * The KVM-VFIO pseudo device (`KVM_DEV_TYPE_VFIO`, §3.10): KVM_DEV_VFIO_FILE(=GROUP) ADD / DEL
 * per era, and what its release gives back.
 *
 * [2013] (3.13 virt/kvm/vfio.c): ADD and DEL both go through the external-user API first (E1:
 * EINVAL unless a group file with a container, an IOMMU driver and a viable group), ADD holds that
 * external user (a container user, E2) until DEL or the device goes; duplicates are EEXIST, DEL of
 * a group not added ENOENT. 5.19+ (`kvm_vfio_file_add/del`, E4): ADD checks only the file kind —
 * 6.1 `vfio_file_is_group`, 6.6+ `vfio_file_is_valid` (group files and *every* VFIO device file,
 * cdev or group-obtained) — and keeps a plain file reference. Any other attribute, including
 * SET_SPAPR_TCE on a non-ppc64 kernel, and any other attribute group: ENXIO.
 * @module
 */

import { KVM } from '../../uapi/ioctl.ts';
import { fail } from '../rules.ts';
import type { OpenFile } from '../vfio/fds.ts';
import { putFile } from '../vfio/files.ts';
import { dropContainerUser } from '../vfio/group.ts';
import type { KernelCtx, VfioGroup } from '../vfio/model.ts';
import { isViable } from '../vfio/viability.ts';
import type { KvmVfio } from './model.ts';

/** [2013] E1: `vfio_group_get_external_user` — takes a container user of the group. */
function getExternalUser(ctx: KernelCtx, f: OpenFile, syscall: string): VfioGroup {
  if (f.kind !== 'group') return fail('E1.not-group', syscall, `a ${f.kind} file`);
  const g = f.group;
  if (!g.container || g.containerUsers === 0) return fail('E1.no-container', syscall, `group ${g.id}`);
  if (g.container.iommu === null) fail('E1.no-iommu', syscall, `group ${g.id}`);
  if (!isViable(ctx, g)) fail('E1.not-viable', syscall, `group ${g.id}`);
  g.containerUsers++;
  g.externalUsers++;
  return g;
}

/** [2013] `vfio_group_put_external_user`: the last container user detaches the group (E2). */
function putExternalUser(g: VfioGroup): void {
  g.externalUsers--;
  dropContainerUser(g);
}

/** 5.19+ E4: the files KVM accepts. */
function isValidVfioFile(ctx: KernelCtx, f: OpenFile): boolean {
  if (f.kind === 'group') return true;
  return ctx.era === '6.6+' && (f.kind === 'device' || f.kind === 'cdev');
}

function add(ctx: KernelCtx, kv: KvmVfio, fd: number, syscall: string): number {
  const f = ctx.fds.get(fd);
  if (!f) return fail('E3.fd', syscall, `fd ${fd}`);
  if (ctx.era === '2013') {
    const g = getExternalUser(ctx, f, syscall);
    if (kv.groups.includes(g)) {
      putExternalUser(g);
      return fail('E3.exists', syscall, `group ${g.id}`);
    }
    kv.groups.push(g);
    return 0;
  }
  if (!isValidVfioFile(ctx, f)) return fail('E4.invalid', syscall, `fd ${fd} is ${f.kind}`);
  if (kv.files.includes(f)) return fail('E4.exists', syscall, `fd ${fd}`);
  f.refs++; // get_file: the file outlives its fds while KVM holds it
  kv.files.push(f);
  return 0;
}

function del(ctx: KernelCtx, kv: KvmVfio, fd: number, syscall: string): number {
  const f = ctx.fds.get(fd);
  if (!f) return fail('E3.fd', syscall, `fd ${fd}`);
  if (ctx.era === '2013') {
    const g = getExternalUser(ctx, f, syscall);
    const i = kv.groups.indexOf(g);
    if (i >= 0) {
      kv.groups.splice(i, 1);
      putExternalUser(g);
    }
    putExternalUser(g); // the one this call took
    if (i < 0) return fail('E3.not-added', syscall, `group ${g.id}`);
    return 0;
  }
  const i = kv.files.indexOf(f);
  if (i < 0) return fail('E3.not-added', syscall, `fd ${fd}`);
  kv.files.splice(i, 1);
  putFile(ctx, f);
  return 0;
}

/** KVM_SET_DEVICE_ATTR on the KVM-VFIO device; `addr` carries the fd (see `KvmDeviceAttr`). */
export function kvmVfioSetAttr(
  ctx: KernelCtx,
  kv: KvmVfio,
  attr: { group: number; attr: number; addr: number },
  syscall: string,
): number {
  if (attr.group !== KVM.DEV_VFIO_FILE) return fail('E3.attr', syscall, `group ${attr.group}`);
  if (attr.attr === KVM.DEV_VFIO_FILE_ADD) return add(ctx, kv, attr.addr, syscall);
  if (attr.attr === KVM.DEV_VFIO_FILE_DEL) return del(ctx, kv, attr.addr, syscall);
  return fail('E3.attr', syscall, `attr ${attr.attr}`);
}

/** `kvm_vfio_has_attr`: FILE_ADD and FILE_DEL exist (SET_SPAPR_TCE only on ppc64); anything else ENXIO. */
export function kvmVfioHasAttr(attr: { group: number; attr: number }, syscall: string): number {
  const known: readonly number[] = [KVM.DEV_VFIO_FILE_ADD, KVM.DEV_VFIO_FILE_DEL];
  if (attr.group === KVM.DEV_VFIO_FILE && known.includes(attr.attr)) return 0;
  return fail('E3.attr', syscall, `group ${attr.group}, attr ${attr.attr}`);
}

/** `kvm_vfio_release` / `kvm_vfio_destroy`: every held group or file is given back. */
export function releaseKvmVfio(ctx: KernelCtx, kv: KvmVfio): void {
  if (kv.released) return;
  kv.released = true;
  for (const g of kv.groups.splice(0)) putExternalUser(g);
  for (const f of kv.files.splice(0)) putFile(ctx, f);
}
