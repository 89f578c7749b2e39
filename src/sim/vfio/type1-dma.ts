/**
 * VFIO_IOMMU_MAP_DMA / VFIO_IOMMU_UNMAP_DMA on a type1 container: the checks the kernel makes of
 * the arguments before it touches any memory. The mappings themselves are not modelled (the
 * simulator has no process memory to pin), so a call that passes them is accepted and changes
 * nothing. Read from drivers/vfio/vfio_iommu_type1.c (`vfio_iommu_type1_map_dma`,
 * `vfio_dma_do_map`, `vfio_iommu_type1_unmap_dma`, `vfio_dma_do_unmap`) of 6.1 and 3.13.
 * @module
 */

import type { IoctlArg } from '../../kernel/syscalls.ts';
import { fail } from '../rules.ts';
import type { KernelCtx } from './model.ts';
import { u32, userIn } from './user-mem.ts';

/** struct vfio_iommu_type1_dma_map: argsz, flags, vaddr, iova, size (minsz = offsetofend(size)). */
const MAP_MINSZ = 32;
/** struct vfio_iommu_type1_dma_unmap: argsz, flags, iova, size. */
const UNMAP_MINSZ = 24;
const MAP_READ = 1 << 0;
const MAP_WRITE = 1 << 1;
/** 6.1: VFIO_DMA_MAP_FLAG_VADDR (5.12); unmap GET_DIRTY_BITMAP (5.8), VADDR and ALL (5.12). */
const MAP_VADDR = 1 << 2;
const UNMAP_FLAGS_6 = (1 << 0) | (1 << 1) | (1 << 2);
/** The IOMMU page size on x86 (`1 << __ffs(pgsize_bitmap)`): 4 KiB. */
const PAGE = 0x1000n;
const U64 = (1n << 64n) - 1n;

/** argsz and flags, checked against the struct's minsz and the flags the era knows. */
function checkHeader(arg: IoctlArg | undefined, minsz: number, known: number, syscall: string): Uint8Array {
  const buf = userIn(arg, minsz, syscall);
  const argsz = u32(buf, 0);
  const flags = u32(buf, 4);
  if (argsz < minsz || (flags & ~known) !== 0)
    fail('C5.dma-args', syscall, `argsz ${argsz}, flags 0x${flags.toString(16)}`);
  return buf;
}

/** The argument checks of MAP_DMA, in the kernel's order; the map itself is accepted unmodelled. */
export function mapDma(ctx: KernelCtx, arg: IoctlArg | undefined, syscall: string): number {
  const known = MAP_READ | MAP_WRITE | (ctx.era === '2013' ? 0 : MAP_VADDR);
  const buf = checkHeader(arg, MAP_MINSZ, known, syscall);
  const flags = u32(buf, 4);
  const v = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const [vaddr, iova, size] = [8, 16, 24].map((o) => v.getBigUint64(o, true)) as [bigint, bigint, bigint];
  const prot = flags & (MAP_READ | MAP_WRITE);
  const setVaddr = (flags & MAP_VADDR) !== 0;
  // vfio_dma_do_map: a mapping needs READ and/or WRITE (or, 6.x, only VADDR to update one).
  if ((prot !== 0 && setVaddr) || (prot === 0 && !setVaddr)) fail('C5.dma-args', syscall, 'no READ/WRITE');
  if (size === 0n || ((size | iova | vaddr) & (PAGE - 1n)) !== 0n)
    fail('C5.dma-args', syscall, 'size 0, or size/iova/vaddr not page aligned');
  if (iova + size - 1n > U64 || vaddr + size - 1n > U64) fail('C5.dma-args', syscall, 'the range wraps');
  return 0;
}

/** The argument checks of UNMAP_DMA; the unmap itself is accepted unmodelled. */
export function unmapDma(ctx: KernelCtx, arg: IoctlArg | undefined, syscall: string): number {
  checkHeader(arg, UNMAP_MINSZ, ctx.era === '2013' ? 0 : UNMAP_FLAGS_6, syscall);
  return 0;
}
