/**
 * `/dev/vfio/<N>` (G1–G8): opening the node, the group ioctls, and what closing the last
 * reference does. Read from drivers/vfio/group.c (`vfio_group_fops_open`,
 * `vfio_group_ioctl_get_status`, `vfio_group_ioctl_set_container`,
 * `vfio_group_ioctl_unset_container`, `vfio_group_ioctl_get_device_fd`, `vfio_df_group_open`,
 * `vfio_group_fops_release`), container.c (`vfio_container_attach_group`,
 * `vfio_group_use_container`); [2013] per the spec's reading of 3.13 `vfio.c`. [6.6+] an iommufd
 * can stand in for the container (K7): DMA ownership is then claimed per device at GET_DEVICE_FD.
 * @module
 */

import type { IoctlArg } from '../../kernel/syscalls.ts';
import { VFIO } from '../../uapi/ioctl.ts';
import { encodeGroupStatus, GROUP_STATUS_SIZE, VFIO_GROUP_FLAGS } from '../../uapi/vfio-structs.ts';
import { fail } from '../rules.ts';
import { attachGroup, detachGroup } from './container.ts';
import type { DeviceFile, GroupFile } from './fds.ts';
import { compatIoasCreate, putIommufd } from './iommufd.ts';
import { attachPt } from './iommufd-device.ts';
import { closeDevice, openDevice } from './lifecycle.ts';
import { findDevice } from './match.ts';
import type { KernelCtx, VfioDevice, VfioGroup } from './model.ts';
import { PAGE_SIZE, u32, userIn, userInt, userOut, userString } from './user-mem.ts';
import { dmaUsers, isViable } from './viability.ts';

/** open("/dev/vfio/N"): G1 (the node exists), G2 (one opener). */
export function openGroup(ctx: KernelCtx, id: number, syscall: string): GroupFile {
  const group = ctx.groups.get(id);
  if (!group) return fail('G1', syscall, `/dev/vfio/${id}`);
  // [6.6+] G2: a device of the group bound through its cdev blocks the group (checked first).
  if (group.cdevOpenCount > 0) fail('G2.cdev', syscall, `/dev/vfio/${id}`);
  if (group.file) fail('G2', syscall, `/dev/vfio/${id}`);
  // [2013]: a group still attached to a container (device fds of an earlier open) cannot be reopened.
  if (ctx.era === '2013' && group.container) fail('G2.2013', syscall, `/dev/vfio/${id}`);
  const file: GroupFile = { kind: 'group', refs: 0, group };
  group.file = file;
  return file;
}

/** G3: VIABLE / CONTAINER_SET as each era computes them. */
export function statusFlags(ctx: KernelCtx, g: VfioGroup): number {
  const set = g.container !== null || g.iommufd !== null; // vfio_group_has_iommu

  if (ctx.era === '2013')
    return (isViable(ctx, g) ? VFIO_GROUP_FLAGS.VIABLE : 0) | (set ? VFIO_GROUP_FLAGS.CONTAINER_SET : 0);
  if (set) return VFIO_GROUP_FLAGS.VIABLE | VFIO_GROUP_FLAGS.CONTAINER_SET;
  return isViable(ctx, g) ? VFIO_GROUP_FLAGS.VIABLE : 0;
}

function getStatus(ctx: KernelCtx, g: VfioGroup, arg: IoctlArg | undefined, syscall: string): number {
  const buf = userIn(arg, GROUP_STATUS_SIZE, syscall);
  const argsz = u32(buf, 0);
  if (argsz < GROUP_STATUS_SIZE) fail('G3.argsz', syscall, `argsz ${argsz}`);
  if (g.gone) fail('G3.gone', syscall);
  userOut(buf, 0, encodeGroupStatus({ argsz, flags: statusFlags(ctx, g) }), syscall);
  return 0;
}

function setContainer(ctx: KernelCtx, g: VfioGroup, arg: IoctlArg | undefined, syscall: string): number {
  const fd = userInt(arg, syscall);
  if (ctx.era === '2013') {
    if (fd < 0) fail('G4.fd-negative', syscall, `fd ${fd}`);
    if (g.containerUsers !== 0) fail('G4.has-container', syscall);
    const f = ctx.fds.get(fd);
    if (!f) return fail('G4.fd', syscall, `fd ${fd}`);
    if (f.kind !== 'container') return fail('G4.not-container', syscall, `fd ${fd} is ${f.kind}`);
    attachGroup(f.container, g); // [2013]: no viability check here; GET_DEVICE_FD checks it
    return 0;
  }
  const f = ctx.fds.get(fd);
  if (!f) return fail('G4.fd', syscall, `fd ${fd}`);
  if (g.container || g.iommufd) fail('G4.has-container', syscall);
  if (g.gone) fail('G4.gone', syscall);
  if (f.kind === 'iommufd' && ctx.era === '6.6+') {
    // K7: no DMA ownership claim here; GET_DEVICE_FD claims it per device (so STATUS says viable).
    compatIoasCreate(f.ctx);
    g.iommufd = f;
    f.refs++;
    return 0;
  }
  if (f.kind !== 'container')
    return fail(
      ctx.era === '6.1' ? 'G4.not-container' : 'G4.not-container-6.6',
      syscall,
      `fd ${fd} is ${f.kind}`,
    );
  // iommu_group_claim_dma_owner: refused while a DMA-API driver is bound in the group.
  const users = dmaUsers(ctx, g.id);
  if (users.length > 0) {
    const who = users[0]!;
    fail('G4.dma-owned', syscall, `${who.name} is bound to ${ctx.host.state(who.name)?.driver}`);
  }
  attachGroup(f.container, g);
  return 0;
}

function unsetContainer(g: VfioGroup, syscall: string): number {
  if (!g.container && !g.iommufd) fail('G5.no-container', syscall);
  if (g.container) {
    if (g.containerUsers !== 1) {
      // [2013] E2: the KVM-VFIO device's external user is a container user too.
      const devices = g.containerUsers - 1 - g.externalUsers;
      if (devices === 0) fail('E2', syscall, `${g.externalUsers} external user(s)`);
      fail('G5.busy', syscall, `${devices} device fd(s) open`);
    }
    detachGroup(g);
  }
  // K7: an iommufd is let go even with device fds open (they stay bound to it).
  if (g.iommufd) putIommufd(g.iommufd);
  g.iommufd = null;
  return 0;
}

/** G7: a new device fd; the first open of the device runs O1. */
function getDeviceFd(ctx: KernelCtx, file: GroupFile, arg: IoctlArg | undefined, syscall: string): number {
  const g = file.group;
  // strndup_user(arg, PAGE_SIZE): the longest device name GET_DEVICE_FD copies in, NUL included.
  const name = userString(arg, PAGE_SIZE, syscall);
  const hasIommu = (g.container !== null && g.container.iommu !== null) || g.iommufd !== null;
  if (ctx.era === '2013') {
    // [2013] checks the container and viability before looking the name up.
    if (!hasIommu) fail('G7.no-container', syscall);
    if (!isViable(ctx, g)) fail('G7.not-viable', syscall, `group ${g.id}`);
  }
  const dev = findDevice(ctx, g, name, syscall);
  if (!hasIommu) fail('G7.no-container', syscall);
  openDevice(ctx, dev, syscall, g.iommufd);
  if (g.iommufd && dev.openCount === 1) compatAttach(ctx, dev, g.iommufd.ctx.vfioIoas, syscall);
  if (g.container) g.containerUsers++;
  const df: DeviceFile = { kind: 'device', refs: 0, device: dev, groupFile: null };
  if (ctx.era !== '2013') {
    df.groupFile = file; // G6: the device file pins the group file
    file.refs++;
  }
  return ctx.fds.install(df);
}

export function groupIoctl(
  ctx: KernelCtx,
  file: GroupFile,
  request: number,
  arg: IoctlArg | undefined,
  syscall: string,
): number {
  const g = file.group;
  switch (request) {
    case VFIO.GROUP_GET_STATUS:
      return getStatus(ctx, g, arg, syscall);
    case VFIO.GROUP_SET_CONTAINER:
      return setContainer(ctx, g, arg, syscall);
    case VFIO.GROUP_UNSET_CONTAINER:
      return unsetContainer(g, syscall);
    case VFIO.GROUP_GET_DEVICE_FD:
      return getDeviceFd(ctx, file, arg, syscall);
    default:
      return fail('G8', syscall);
  }
}

/** K7: `vfio_iommufd_compat_attach_ioas` after the first open; a failure closes the device again. */
function compatAttach(ctx: KernelCtx, dev: VfioDevice, ioas: number | null, syscall: string): void {
  try {
    if (ioas === null) fail('K7.no-compat-ioas', syscall, dev.bdf);
    attachPt(dev, ioas, syscall);
  } catch (e) {
    closeDevice(ctx, dev);
    throw e;
  }
}

/** A container user goes away ([2013] `vfio_group_try_dissolve_container`): the last one detaches. */
export function dropContainerUser(g: VfioGroup): void {
  if (!g.container) return;
  g.containerUsers--;
  if (g.containerUsers === 0) detachGroup(g);
}

/**
 * The group file's last reference is gone. 6.1 (G6): device files pinned it, so no device fd is
 * open now and the container (if any) is detached. [2013]: the group fd itself was closed;
 * device fds may still hold container users, which keep the attachment (E2, G2.2013).
 */
export function releaseGroupFile(ctx: KernelCtx, file: GroupFile): void {
  const g = file.group;
  if (g.file === file) g.file = null;
  if (ctx.era === '2013') dropContainerUser(g);
  else detachGroup(g);
  if (g.iommufd) putIommufd(g.iommufd);
  g.iommufd = null;
}
