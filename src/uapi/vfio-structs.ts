/**
 * DataView codecs for the structs of the reset path (kernel-semantics §2.1), little-endian with
 * natural alignment as on x86-64 and arm64. Pure: bytes in, objects out, and back. A buffer too
 * short for what must be read throws `ShortBufferError`; the simulator answers that as the
 * kernel's failed `copy_from_user` does (EFAULT).
 * @module
 */

export class ShortBufferError extends Error {
  readonly code = 'VFIO_RESET_E_SHORT_BUFFER';
  readonly need: number;
  readonly have: number;
  constructor(what: string, need: number, have: number) {
    super(`${what}: need ${need} bytes, buffer has ${have}`);
    this.name = 'ShortBufferError';
    this.need = need;
    this.have = have;
  }
}

const view = (b: Uint8Array) => new DataView(b.buffer, b.byteOffset, b.byteLength);

function need(b: Uint8Array, n: number, what: string): DataView {
  if (b.byteLength < n) throw new ShortBufferError(what, n, b.byteLength);
  return view(b);
}

// ---- vfio_group_status ------------------------------------------------------------------------

export const VFIO_GROUP_FLAGS = { VIABLE: 1 << 0, CONTAINER_SET: 1 << 1 } as const;
export const GROUP_STATUS_SIZE = 8;

export interface GroupStatus {
  argsz: number;
  flags: number;
}

export function encodeGroupStatus(s: GroupStatus): Uint8Array {
  const b = new Uint8Array(GROUP_STATUS_SIZE);
  const v = view(b);
  v.setUint32(0, s.argsz, true);
  v.setUint32(4, s.flags, true);
  return b;
}

export function decodeGroupStatus(b: Uint8Array): GroupStatus {
  const v = need(b, GROUP_STATUS_SIZE, 'vfio_group_status');
  return { argsz: v.getUint32(0, true), flags: v.getUint32(4, true) };
}

// ---- vfio_device_info -------------------------------------------------------------------------

export const VFIO_DEVICE_FLAGS = {
  RESET: 1 << 0,
  PCI: 1 << 1,
  PLATFORM: 1 << 2,
  AMBA: 1 << 3,
  CCW: 1 << 4,
  AP: 1 << 5,
  FSL_MC: 1 << 6,
  CAPS: 1 << 7,
  CDX: 1 << 8,
} as const;
/** minsz (offsetofend num_irqs); 6.1 headers add cap_offset (20), 6.6+ pad (24). */
export const DEVICE_INFO_MINSZ = 16;
export const DEVICE_INFO_SIZE = 24;
export const VFIO_PCI_NUM_REGIONS = 9;
export const VFIO_PCI_NUM_IRQS = 5;

export interface DeviceInfo {
  argsz: number;
  flags: number;
  numRegions: number;
  numIrqs: number;
  capOffset: number;
}

export function encodeDeviceInfo(d: DeviceInfo, size = DEVICE_INFO_SIZE): Uint8Array {
  const b = new Uint8Array(size);
  const v = view(b);
  v.setUint32(0, d.argsz, true);
  v.setUint32(4, d.flags, true);
  v.setUint32(8, d.numRegions, true);
  v.setUint32(12, d.numIrqs, true);
  if (size >= 20) v.setUint32(16, d.capOffset, true);
  return b;
}

export function decodeDeviceInfo(b: Uint8Array): DeviceInfo {
  const v = need(b, DEVICE_INFO_MINSZ, 'vfio_device_info');
  return {
    argsz: v.getUint32(0, true),
    flags: v.getUint32(4, true),
    numRegions: v.getUint32(8, true),
    numIrqs: v.getUint32(12, true),
    capOffset: b.byteLength >= 20 ? v.getUint32(16, true) : 0,
  };
}

// ---- vfio_pci_hot_reset_info + vfio_pci_dependent_device ---------------------------------------

export const VFIO_PCI_HOT_RESET_FLAG = { DEV_ID: 1 << 0, DEV_ID_OWNED: 1 << 1 } as const;
/** devid sentinels of the 6.6+ cdev mode (I5). NOT_OWNED is -1 as an unsigned u32. */
export const VFIO_PCI_DEVID = { OWNED: 0, NOT_OWNED: 0xffffffff } as const;
export const HOT_RESET_HEADER_SIZE = 12;
export const DEPENDENT_DEVICE_SIZE = 8;

export interface DependentDevice {
  /** `group_id` in group mode, `devid` (or OWNED / NOT_OWNED) in cdev mode — one union field. */
  id: number;
  segment: number;
  bus: number;
  devfn: number;
}

export interface HotResetInfo {
  argsz: number;
  flags: number;
  count: number;
  devices: DependentDevice[];
}

export function hotResetInfoSize(count: number): number {
  return HOT_RESET_HEADER_SIZE + DEPENDENT_DEVICE_SIZE * count;
}

export function encodeHotResetInfo(h: HotResetInfo, size = hotResetInfoSize(h.devices.length)): Uint8Array {
  const b = new Uint8Array(size);
  const v = view(b);
  v.setUint32(0, h.argsz, true);
  v.setUint32(4, h.flags, true);
  v.setUint32(8, h.count, true);
  h.devices.forEach((d, i) => {
    const o = HOT_RESET_HEADER_SIZE + i * DEPENDENT_DEVICE_SIZE;
    if (o + DEPENDENT_DEVICE_SIZE > size) return;
    v.setUint32(o, d.id >>> 0, true);
    v.setUint16(o + 4, d.segment, true);
    v.setUint8(o + 6, d.bus);
    v.setUint8(o + 7, d.devfn);
  });
  return b;
}

/** Decodes the header and as many entries as `count` says and the buffer holds. */
export function decodeHotResetInfo(b: Uint8Array): HotResetInfo {
  const v = need(b, HOT_RESET_HEADER_SIZE, 'vfio_pci_hot_reset_info');
  const count = v.getUint32(8, true);
  const fit = Math.min(count, Math.floor((b.byteLength - HOT_RESET_HEADER_SIZE) / DEPENDENT_DEVICE_SIZE));
  const devices: DependentDevice[] = [];
  for (let i = 0; i < fit; i++) {
    const o = HOT_RESET_HEADER_SIZE + i * DEPENDENT_DEVICE_SIZE;
    devices.push({
      id: v.getUint32(o, true),
      segment: v.getUint16(o + 4, true),
      bus: v.getUint8(o + 6),
      devfn: v.getUint8(o + 7),
    });
  }
  return { argsz: v.getUint32(0, true), flags: v.getUint32(4, true), count, devices };
}

// ---- vfio_pci_hot_reset ------------------------------------------------------------------------

export interface HotReset {
  argsz: number;
  flags: number;
  count: number;
  /** `__s32 group_fds[]`. */
  fds: number[];
}

export function encodeHotReset(h: HotReset): Uint8Array {
  const b = new Uint8Array(HOT_RESET_HEADER_SIZE + 4 * h.fds.length);
  const v = view(b);
  v.setUint32(0, h.argsz >>> 0, true);
  v.setUint32(4, h.flags >>> 0, true);
  v.setUint32(8, h.count >>> 0, true);
  for (const [i, fd] of h.fds.entries()) v.setInt32(HOT_RESET_HEADER_SIZE + 4 * i, fd, true);
  return b;
}

export function decodeHotResetHeader(b: Uint8Array): Omit<HotReset, 'fds'> {
  const v = need(b, HOT_RESET_HEADER_SIZE, 'vfio_pci_hot_reset');
  return { argsz: v.getUint32(0, true), flags: v.getUint32(4, true), count: v.getUint32(8, true) };
}

/** The fd array as the kernel copies it: `count` entries from offset 12, whatever argsz says (H4). */
export function decodeHotResetFds(b: Uint8Array, count: number): number[] {
  const v = need(b, HOT_RESET_HEADER_SIZE + 4 * count, 'vfio_pci_hot_reset.group_fds');
  return Array.from({ length: count }, (_, i) => v.getInt32(HOT_RESET_HEADER_SIZE + 4 * i, true));
}

// ---- 6.6+: cdev / iommufd ----------------------------------------------------------------------

export const BIND_IOMMUFD_MINSZ = 16;
export const VFIO_DEVICE_BIND_FLAG_TOKEN = 1 << 0;

export interface BindIommufd {
  argsz: number;
  flags: number;
  iommufd: number;
  outDevid: number;
}

export function encodeBindIommufd(s: BindIommufd): Uint8Array {
  const b = new Uint8Array(BIND_IOMMUFD_MINSZ);
  const v = view(b);
  v.setUint32(0, s.argsz >>> 0, true);
  v.setUint32(4, s.flags >>> 0, true);
  v.setInt32(8, s.iommufd, true);
  v.setUint32(12, s.outDevid >>> 0, true);
  return b;
}

export function decodeBindIommufd(b: Uint8Array): BindIommufd {
  const v = need(b, BIND_IOMMUFD_MINSZ, 'vfio_device_bind_iommufd');
  return {
    argsz: v.getUint32(0, true),
    flags: v.getUint32(4, true),
    iommufd: v.getInt32(8, true),
    outDevid: v.getUint32(12, true),
  };
}

export const ATTACH_PT_MINSZ = 12;
export const DETACH_PT_MINSZ = 8;

export interface AttachPt {
  argsz: number;
  flags: number;
  ptId: number;
}

export function encodeAttachPt(s: AttachPt): Uint8Array {
  const b = new Uint8Array(ATTACH_PT_MINSZ);
  const v = view(b);
  v.setUint32(0, s.argsz >>> 0, true);
  v.setUint32(4, s.flags >>> 0, true);
  v.setUint32(8, s.ptId >>> 0, true);
  return b;
}

export function decodeAttachPt(b: Uint8Array): AttachPt {
  const v = need(b, ATTACH_PT_MINSZ, 'vfio_device_attach_iommufd_pt');
  return { argsz: v.getUint32(0, true), flags: v.getUint32(4, true), ptId: v.getUint32(8, true) };
}

export interface DetachPt {
  argsz: number;
  flags: number;
}

export function encodeDetachPt(s: DetachPt): Uint8Array {
  const b = new Uint8Array(DETACH_PT_MINSZ);
  const v = view(b);
  v.setUint32(0, s.argsz >>> 0, true);
  v.setUint32(4, s.flags >>> 0, true);
  return b;
}

export function decodeDetachPt(b: Uint8Array): DetachPt {
  const v = need(b, DETACH_PT_MINSZ, 'vfio_device_detach_iommufd_pt');
  return { argsz: v.getUint32(0, true), flags: v.getUint32(4, true) };
}

/** struct iommu_destroy { u32 size; u32 id; }. */
export const IOMMU_DESTROY_SIZE = 8;

export interface IommuDestroy {
  size: number;
  id: number;
}

export function encodeIommuDestroy(s: IommuDestroy): Uint8Array {
  const b = new Uint8Array(IOMMU_DESTROY_SIZE);
  const v = view(b);
  v.setUint32(0, s.size >>> 0, true);
  v.setUint32(4, s.id >>> 0, true);
  return b;
}

export function decodeIommuDestroy(b: Uint8Array): IommuDestroy {
  const v = need(b, IOMMU_DESTROY_SIZE, 'iommu_destroy');
  return { size: v.getUint32(0, true), id: v.getUint32(4, true) };
}

/** struct iommu_ioas_alloc { u32 size; u32 flags; u32 out_ioas_id; }. */
export const IOAS_ALLOC_SIZE = 12;

export interface IoasAlloc {
  size: number;
  flags: number;
  outIoasId: number;
}

export function encodeIoasAlloc(s: IoasAlloc): Uint8Array {
  const b = new Uint8Array(IOAS_ALLOC_SIZE);
  const v = view(b);
  v.setUint32(0, s.size >>> 0, true);
  v.setUint32(4, s.flags >>> 0, true);
  v.setUint32(8, s.outIoasId >>> 0, true);
  return b;
}

export function decodeIoasAlloc(b: Uint8Array): IoasAlloc {
  const v = need(b, IOAS_ALLOC_SIZE, 'iommu_ioas_alloc');
  return { size: v.getUint32(0, true), flags: v.getUint32(4, true), outIoasId: v.getUint32(8, true) };
}

// ---- KVM-VFIO ----------------------------------------------------------------------------------

export interface KvmCreateDevice {
  type: number;
  fd: number;
  flags: number;
}

export function encodeKvmCreateDevice(s: KvmCreateDevice): Uint8Array {
  const b = new Uint8Array(12);
  const v = view(b);
  v.setUint32(0, s.type >>> 0, true);
  v.setUint32(4, s.fd >>> 0, true);
  v.setUint32(8, s.flags >>> 0, true);
  return b;
}

export function decodeKvmCreateDevice(b: Uint8Array): KvmCreateDevice {
  const v = need(b, 12, 'kvm_create_device');
  return { type: v.getUint32(0, true), fd: v.getUint32(4, true), flags: v.getUint32(8, true) };
}

/**
 * struct kvm_device_attr { u32 flags; u32 group; u64 attr; u64 addr; }. `addr` points to an
 * int32 fd in user memory; this model carries the fd value itself in `addr`.
 */
export interface KvmDeviceAttr {
  flags: number;
  group: number;
  attr: number;
  addr: number;
}

export function encodeKvmDeviceAttr(s: KvmDeviceAttr): Uint8Array {
  const b = new Uint8Array(24);
  const v = view(b);
  v.setUint32(0, s.flags >>> 0, true);
  v.setUint32(4, s.group >>> 0, true);
  v.setBigUint64(8, BigInt(s.attr), true);
  v.setBigInt64(16, BigInt(s.addr), true);
  return b;
}

export function decodeKvmDeviceAttr(b: Uint8Array): KvmDeviceAttr {
  const v = need(b, 24, 'kvm_device_attr');
  return {
    flags: v.getUint32(0, true),
    group: v.getUint32(4, true),
    attr: Number(v.getBigUint64(8, true)),
    addr: Number(v.getBigInt64(16, true)),
  };
}

/** The NUL-terminated device name `VFIO_GROUP_GET_DEVICE_FD` takes. */
export function encodeCString(s: string): Uint8Array {
  const enc = new TextEncoder().encode(s);
  const b = new Uint8Array(enc.length + 1);
  b.set(enc);
  return b;
}

export function decodeCString(b: Uint8Array): string {
  const end = b.indexOf(0);
  return new TextDecoder().decode(end < 0 ? b : b.subarray(0, end));
}
