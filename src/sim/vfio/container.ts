/**
 * `/dev/vfio/vfio` (C1–C6): the container, its IOMMU backend (type1 only, as on x86) and the
 * attach/detach of groups that SET_CONTAINER / UNSET_CONTAINER / the last group close drive.
 * Read from drivers/vfio/container.c (`vfio_fops_unl_ioctl`, `vfio_ioctl_set_iommu`,
 * `vfio_container_ioctl_check_extension`, `vfio_group_detach_container`) and
 * vfio_iommu_type1.c (`vfio_iommu_type1_check_extension`, `vfio_iommu_type1_open`).
 * @module
 */

import type { IoctlArg } from '../../kernel/syscalls.ts';
import { VFIO, VFIO_API_VERSION, VFIO_EXTENSION as X } from '../../uapi/ioctl.ts';
import { fail } from '../rules.ts';
import type { ContainerFile } from './fds.ts';
import type { Container, IommuType, KernelCtx, VfioGroup } from './model.ts';
import { mapDma, unmapDma } from './type1-dma.ts';
import { intArg } from './user-mem.ts';

/** C1: every open creates an empty container. */
export function openContainer(ctx: KernelCtx): ContainerFile {
  return { kind: 'container', refs: 0, container: { id: ctx.nextContainerId++, groups: [], iommu: null } };
}

/**
 * C3: what type1 answers to VFIO_CHECK_EXTENSION; `withDriver` when the container already uses
 * it (DMA_CC and, since the mdev fix, UPDATE_VADDR need a live backend). [2013] is given
 * TYPE1v2 too, so that the group recipe of Appendix A runs in every era (see the report).
 */
export function type1Extension(era: KernelCtx['era'], ext: number, withDriver: boolean): 0 | 1 {
  const always: readonly number[] =
    era === '2013'
      ? [X.TYPE1_IOMMU, X.TYPE1v2_IOMMU]
      : era === '6.1'
        ? [X.TYPE1_IOMMU, X.TYPE1v2_IOMMU, X.TYPE1_NESTING_IOMMU, X.UNMAP_ALL]
        : [X.TYPE1_IOMMU, X.TYPE1v2_IOMMU, X.UNMAP_ALL];
  if (always.includes(ext)) return 1;
  if (era !== '2013' && (ext === X.UPDATE_VADDR || ext === X.DMA_CC_IOMMU)) return withDriver ? 1 : 0;
  return 0;
}

/** C4: `vfio_ioctl_set_iommu`. */
function setIommu(ctx: KernelCtx, c: Container, type: number, syscall: string): number {
  if (c.groups.length === 0) fail('C4.no-group', syscall);
  if (c.iommu !== null) fail('C4.iommu-set', syscall, `already ${c.iommu}`);
  // The backend is picked by its CHECK_EXTENSION answer, then opened with the same number.
  if (type1Extension(ctx.era, type, false) === 0) fail('C4.no-backend', syscall, `type ${type}`);
  const opened: IommuType | null =
    type === X.TYPE1_IOMMU ? 'TYPE1' : type === X.TYPE1v2_IOMMU ? 'TYPE1v2' : null;
  if (type === X.TYPE1_NESTING_IOMMU)
    fail('C4.no-backend', syscall, 'type1 nesting: the IOMMU cannot enable nesting on this domain');
  if (opened === null) fail('C4.open', syscall, `type ${type}`);
  c.iommu = opened;
  return 0;
}

export function containerIoctl(
  ctx: KernelCtx,
  file: ContainerFile,
  request: number,
  arg: IoctlArg | undefined,
  syscall: string,
): number {
  const c = file.container;
  switch (request) {
    case VFIO.GET_API_VERSION:
      return VFIO_API_VERSION; // C2
    case VFIO.CHECK_EXTENSION:
      return type1Extension(ctx.era, intArg(arg), c.iommu !== null); // C3
    case VFIO.SET_IOMMU:
      return setIommu(ctx, c, intArg(arg), syscall);
  }
  if (c.iommu === null) fail('C5', syscall); // C5: no driver, no other ioctls
  switch (request) {
    // The mappings are not modelled; their argument checks are (so a VMM under test can proceed).
    case VFIO.IOMMU_MAP_DMA:
      return mapDma(ctx, arg, syscall);
    case VFIO.IOMMU_UNMAP_DMA:
      return unmapDma(ctx, arg, syscall);
    case VFIO.IOMMU_GET_INFO:
      return fail('C5.unmodelled', syscall);
    default:
      return fail('C5.type1', syscall);
  }
}

/** `vfio_container_attach_group` after the era's checks: the group joins, one container user. */
export function attachGroup(c: Container, g: VfioGroup): void {
  g.container = c;
  g.containerUsers = 1;
  c.groups.push(g);
}

/** `vfio_group_detach_container` (G5, G6, C6): DMA ownership goes with it; the last group de-privileges the container. */
export function detachGroup(g: VfioGroup): void {
  const c = g.container;
  if (!c) return;
  c.groups = c.groups.filter((x) => x !== g);
  g.container = null;
  g.containerUsers = 0;
  if (c.groups.length === 0) c.iommu = null;
}
