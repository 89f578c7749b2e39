/**
 * ioctl request numbers, encoded as asm-generic does (x86-64, arm64): nr bits 0–7, type bits
 * 8–15, size bits 16–29, direction bits 30–31. VFIO uses plain `_IO(';', 100 + n)` for every
 * request (no size, no direction), so its numbers are `0x3B00 | (100 + n)` (kernel-semantics §2).
 * Numbers are copied from the uapi headers named beside each table; no code is.
 * @module
 */

const IOC_NONE = 0;
const IOC_WRITE = 1;
const IOC_READ = 2;

function ioc(dir: number, type: number, nr: number, size: number): number {
  return ((dir << 30) | (size << 16) | (type << 8) | nr) >>> 0;
}

export const _IO = (type: number, nr: number) => ioc(IOC_NONE, type, nr, 0);
export const _IOR = (type: number, nr: number, size: number) => ioc(IOC_READ, type, nr, size);
export const _IOW = (type: number, nr: number, size: number) => ioc(IOC_WRITE, type, nr, size);
export const _IOWR = (type: number, nr: number, size: number) => ioc(IOC_READ | IOC_WRITE, type, nr, size);

export const VFIO_TYPE = 0x3b; // ';'
export const VFIO_BASE = 100;
const vfio = (n: number) => _IO(VFIO_TYPE, VFIO_BASE + n);

/** include/uapi/linux/vfio.h (6.1 for the group API; 6.6 for BIND/ATTACH/DETACH). */
export const VFIO = {
  GET_API_VERSION: vfio(0),
  CHECK_EXTENSION: vfio(1),
  SET_IOMMU: vfio(2),
  GROUP_GET_STATUS: vfio(3),
  GROUP_SET_CONTAINER: vfio(4),
  GROUP_UNSET_CONTAINER: vfio(5),
  GROUP_GET_DEVICE_FD: vfio(6),
  DEVICE_GET_INFO: vfio(7),
  DEVICE_GET_REGION_INFO: vfio(8),
  DEVICE_GET_IRQ_INFO: vfio(9),
  DEVICE_SET_IRQS: vfio(10),
  DEVICE_RESET: vfio(11),
  DEVICE_GET_PCI_HOT_RESET_INFO: vfio(12),
  DEVICE_PCI_HOT_RESET: vfio(13),
  DEVICE_IOEVENTFD: vfio(16),
  DEVICE_FEATURE: vfio(17),
  DEVICE_BIND_IOMMUFD: vfio(18),
  DEVICE_ATTACH_IOMMUFD_PT: vfio(19),
  DEVICE_DETACH_IOMMUFD_PT: vfio(20),
  /** Type1 container ioctls share numbers with the device ones above: the fd's kind tells them apart. */
  IOMMU_GET_INFO: vfio(12),
  IOMMU_MAP_DMA: vfio(13),
  IOMMU_UNMAP_DMA: vfio(14),
} as const;

export const VFIO_API_VERSION = 0;

/** `VFIO_SET_IOMMU` / `VFIO_CHECK_EXTENSION` arguments. */
export const VFIO_EXTENSION = {
  TYPE1_IOMMU: 1,
  SPAPR_TCE_IOMMU: 2,
  TYPE1v2_IOMMU: 3,
  DMA_CC_IOMMU: 4,
  EEH: 5,
  TYPE1_NESTING_IOMMU: 6,
  SPAPR_TCE_v2_IOMMU: 7,
  NOIOMMU_IOMMU: 8,
  UNMAP_ALL: 9,
  UPDATE_VADDR: 10,
} as const;

/** include/uapi/linux/iommufd.h: `_IO(IOMMUFD_TYPE, IOMMUFD_CMD_BASE + n)` with type ';' and base 0x80. */
export const IOMMUFD = {
  DESTROY: _IO(VFIO_TYPE, 0x80),
  IOAS_ALLOC: _IO(VFIO_TYPE, 0x81),
} as const;

export const KVMIO = 0xae;
/** include/uapi/linux/kvm.h. */
export const KVM = {
  /** On /dev/kvm; no argument; answers KVM_API_VERSION. */
  GET_API_VERSION: _IO(KVMIO, 0x00),
  /** On /dev/kvm; the argument is the machine type (0 on x86). */
  CREATE_VM: _IO(KVMIO, 0x01),
  CREATE_DEVICE: _IOWR(KVMIO, 0xe0, 12),
  SET_DEVICE_ATTR: _IOW(KVMIO, 0xe1, 24),
  GET_DEVICE_ATTR: _IOW(KVMIO, 0xe2, 24),
  HAS_DEVICE_ATTR: _IOW(KVMIO, 0xe3, 24),
  /** `KVM_API_VERSION`, 12 since 2.6.22. */
  API_VERSION: 12,
  DEV_TYPE_VFIO: 4,
  DEV_VFIO_FILE: 1,
  DEV_VFIO_FILE_ADD: 1,
  DEV_VFIO_FILE_DEL: 2,
  DEV_VFIO_GROUP_SET_SPAPR_TCE: 3,
} as const;

/** The request names an fd kind answers to, built once per kind (every simulated ioctl names its request). */
function requestTable(fdKind: string): ReadonlyMap<number, string> {
  const prefixed = (o: Record<string, number>, prefix: string) =>
    Object.entries(o).map(([k, v]) => [`${prefix}${k}`, v] as const);
  const containerKeys = [
    'GET_API_VERSION',
    'CHECK_EXTENSION',
    'SET_IOMMU',
    'IOMMU_GET_INFO',
    'IOMMU_MAP_DMA',
    'IOMMU_UNMAP_DMA',
  ];
  const vfio = prefixed(VFIO, 'VFIO_');
  const table =
    fdKind === 'container'
      ? vfio.filter(([k]) => containerKeys.includes(k.slice(5)))
      : fdKind === 'iommufd'
        ? prefixed(IOMMUFD, 'IOMMU_')
        : fdKind.startsWith('kvm')
          ? prefixed(
              {
                GET_API_VERSION: KVM.GET_API_VERSION,
                CREATE_VM: KVM.CREATE_VM,
                CREATE_DEVICE: KVM.CREATE_DEVICE,
                SET_DEVICE_ATTR: KVM.SET_DEVICE_ATTR,
                GET_DEVICE_ATTR: KVM.GET_DEVICE_ATTR,
                HAS_DEVICE_ATTR: KVM.HAS_DEVICE_ATTR,
              },
              'KVM_',
            )
          : vfio.filter(([k]) => !containerKeys.includes(k.slice(5)));
  // The first name of a number wins, as a search of the list in order would find it.
  const byNumber = new Map<number, string>();
  for (const [name, v] of table) if (!byNumber.has(v)) byNumber.set(v, name);
  return byNumber;
}

const requestTables = new Map<string, ReadonlyMap<number, string>>();

/** Name of a request for logs and errors, by the fd kind that receives it. */
export function requestName(request: number, fdKind: string): string {
  let table = requestTables.get(fdKind);
  if (!table) {
    table = requestTable(fdKind);
    requestTables.set(fdKind, table);
  }
  return table.get(request) ?? `0x${request.toString(16)}`;
}
