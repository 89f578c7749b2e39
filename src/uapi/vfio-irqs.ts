/**
 * The vfio-pci interrupt and region ABI the error and release paths use (include/uapi/linux/vfio.h):
 * the PCI IRQ and region indexes, `struct vfio_irq_info`, `struct vfio_irq_set` and
 * `struct vfio_region_info`, little-endian as on x86-64 and arm64. Pure codecs.
 *
 * Index history: `VFIO_PCI_ERR_IRQ_INDEX` arrived with vfio-pci's AER support (3.10, so the 2013
 * kernels have it and report 4 IRQ indexes); `VFIO_PCI_REQ_IRQ_INDEX` with the device request (4.0),
 * since when vfio-pci reports 5.
 * @module
 */

import { ShortBufferError } from './vfio-structs.ts';

export const VFIO_PCI_IRQ_INDEX = { INTX: 0, MSI: 1, MSIX: 2, ERR: 3, REQ: 4 } as const;
export type VfioPciIrqIndex = (typeof VFIO_PCI_IRQ_INDEX)[keyof typeof VFIO_PCI_IRQ_INDEX];

/** Region indexes of vfio-pci: BAR0–5, the option ROM, config space, VGA (`VFIO_PCI_NUM_REGIONS` = 9). */
export const VFIO_PCI_REGION_INDEX = { BAR0: 0, BAR5: 5, ROM: 6, CONFIG: 7, VGA: 8 } as const;

/** `VFIO_PCI_INDEX_TO_OFFSET`: each region's offset in the device fd is its index << 40. */
export function regionOffset(index: number): bigint {
  return BigInt(index) << 40n;
}

// ---- vfio_irq_info ------------------------------------------------------------------------------

export const VFIO_IRQ_INFO = {
  EVENTFD: 1 << 0,
  MASKABLE: 1 << 1,
  AUTOMASKED: 1 << 2,
  NORESIZE: 1 << 3,
} as const;
/** argsz, flags, index, count: every field is in minsz (`offsetofend(count)`). */
export const IRQ_INFO_SIZE = 16;

export interface IrqInfo {
  argsz: number;
  flags: number;
  index: number;
  count: number;
}

export function encodeIrqInfo(s: IrqInfo): Uint8Array {
  const b = new Uint8Array(IRQ_INFO_SIZE);
  const v = new DataView(b.buffer);
  v.setUint32(0, s.argsz, true);
  v.setUint32(4, s.flags, true);
  v.setUint32(8, s.index, true);
  v.setUint32(12, s.count, true);
  return b;
}

export function decodeIrqInfo(b: Uint8Array): IrqInfo {
  if (b.byteLength < IRQ_INFO_SIZE) throw new ShortBufferError('vfio_irq_info', IRQ_INFO_SIZE, b.byteLength);
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  return {
    argsz: v.getUint32(0, true),
    flags: v.getUint32(4, true),
    index: v.getUint32(8, true),
    count: v.getUint32(12, true),
  };
}

// ---- vfio_irq_set -------------------------------------------------------------------------------

export const VFIO_IRQ_SET = {
  DATA_NONE: 1 << 0,
  DATA_BOOL: 1 << 1,
  DATA_EVENTFD: 1 << 2,
  ACTION_MASK: 1 << 3,
  ACTION_UNMASK: 1 << 4,
  ACTION_TRIGGER: 1 << 5,
} as const;
export const VFIO_IRQ_SET_DATA_TYPE_MASK = 0x7;
export const VFIO_IRQ_SET_ACTION_TYPE_MASK = 0x38;
/** Header: argsz, flags, index, start, count (`offsetofend(count)`); `data[]` follows. */
export const IRQ_SET_HEADER_SIZE = 20;

export interface IrqSet {
  argsz: number;
  flags: number;
  index: number;
  start: number;
  count: number;
  /** DATA_EVENTFD: one `__s32` fd per vector (-1 tears the trigger down); DATA_BOOL: one byte each. */
  data: number[];
}

/** Bytes per data element for the data type in `flags` (0 for DATA_NONE or an invalid mix). */
export function irqSetDataSize(flags: number): number {
  switch (flags & VFIO_IRQ_SET_DATA_TYPE_MASK) {
    case VFIO_IRQ_SET.DATA_BOOL:
      return 1;
    case VFIO_IRQ_SET.DATA_EVENTFD:
      return 4;
    default:
      return 0;
  }
}

export function encodeIrqSet(s: IrqSet): Uint8Array {
  const size = irqSetDataSize(s.flags);
  const b = new Uint8Array(IRQ_SET_HEADER_SIZE + size * s.data.length);
  const v = new DataView(b.buffer);
  v.setUint32(0, s.argsz, true);
  v.setUint32(4, s.flags, true);
  v.setUint32(8, s.index, true);
  v.setUint32(12, s.start, true);
  v.setUint32(16, s.count, true);
  s.data.forEach((d, i) => {
    if (size === 4) v.setInt32(IRQ_SET_HEADER_SIZE + 4 * i, d, true);
    else if (size === 1) v.setUint8(IRQ_SET_HEADER_SIZE + i, d);
  });
  return b;
}

export function decodeIrqSetHeader(b: Uint8Array): Omit<IrqSet, 'data'> {
  if (b.byteLength < IRQ_SET_HEADER_SIZE)
    throw new ShortBufferError('vfio_irq_set', IRQ_SET_HEADER_SIZE, b.byteLength);
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  return {
    argsz: v.getUint32(0, true),
    flags: v.getUint32(4, true),
    index: v.getUint32(8, true),
    start: v.getUint32(12, true),
    count: v.getUint32(16, true),
  };
}

/** The `count` data elements after the header (`memdup_user(&arg->data, data_size)`). */
export function decodeIrqSetData(b: Uint8Array, flags: number, count: number): number[] {
  const size = irqSetDataSize(flags);
  const need = IRQ_SET_HEADER_SIZE + size * count;
  if (b.byteLength < need) throw new ShortBufferError('vfio_irq_set data', need, b.byteLength);
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  return Array.from({ length: size === 0 ? 0 : count }, (_, i) =>
    size === 4 ? v.getInt32(IRQ_SET_HEADER_SIZE + 4 * i, true) : v.getUint8(IRQ_SET_HEADER_SIZE + i),
  );
}

// ---- vfio_region_info ---------------------------------------------------------------------------

export const VFIO_REGION_INFO = { READ: 1 << 0, WRITE: 1 << 1, MMAP: 1 << 2, CAPS: 1 << 3 } as const;
/** argsz, flags, index, cap_offset (u32 each), size, offset (u64 each): minsz = `offsetofend(offset)`. */
export const REGION_INFO_SIZE = 32;

export interface RegionInfo {
  argsz: number;
  flags: number;
  index: number;
  capOffset: number;
  size: bigint;
  offset: bigint;
}

export function encodeRegionInfo(s: RegionInfo): Uint8Array {
  const b = new Uint8Array(REGION_INFO_SIZE);
  const v = new DataView(b.buffer);
  v.setUint32(0, s.argsz, true);
  v.setUint32(4, s.flags, true);
  v.setUint32(8, s.index, true);
  v.setUint32(12, s.capOffset, true);
  v.setBigUint64(16, s.size, true);
  v.setBigUint64(24, s.offset, true);
  return b;
}

export function decodeRegionInfo(b: Uint8Array): RegionInfo {
  if (b.byteLength < REGION_INFO_SIZE)
    throw new ShortBufferError('vfio_region_info', REGION_INFO_SIZE, b.byteLength);
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  return {
    argsz: v.getUint32(0, true),
    flags: v.getUint32(4, true),
    index: v.getUint32(8, true),
    capOffset: v.getUint32(12, true),
    size: v.getBigUint64(16, true),
    offset: v.getBigUint64(24, true),
  };
}
