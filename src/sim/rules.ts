/**
 * Every errno the simulated kernel raises, named after the rule that produces it
 * (kernel-semantics.md §3, plus the generic copy_from_user / fd rules). One table, so a reader
 * can check each rule against the kernel; `fail()` is the only way the simulator refuses.
 *
 * Rules whose errno is the PCI core's own answer (a reset's result) are generated per errno
 * under a context prefix: `D3.ENOTTY`, `H9.EAGAIN`, `Y4.ENOTTY`, ….
 * @module
 */

import { KernelError } from '../kernel/syscalls.ts';
import type { ErrnoName } from '../uapi/errno.ts';

export interface Rule {
  readonly errno: ErrnoName;
  readonly summary: string;
}

const FIXED = {
  // Generic syscall plumbing.
  fd: { errno: 'EBADF', summary: 'not an open file descriptor' },
  copy_from_user: { errno: 'EFAULT', summary: 'the buffer is shorter than what the kernel reads' },
  copy_to_user: { errno: 'EFAULT', summary: 'the buffer is shorter than what the kernel writes back' },
  strndup_user: {
    errno: 'EINVAL',
    summary: 'the string argument does not end (NUL included) within the page the kernel copies',
  },
  'open.ENOENT': { errno: 'ENOENT', summary: 'no such device node' },
  'null.ENOTTY': { errno: 'ENOTTY', summary: '/dev/null has no ioctls' },

  // §3.1 container.
  'C4.no-group': { errno: 'EINVAL', summary: 'VFIO_SET_IOMMU on a container without a group' },
  'C4.iommu-set': { errno: 'EINVAL', summary: 'the container already has an IOMMU driver' },
  'C4.no-backend': { errno: 'ENODEV', summary: 'no IOMMU backend supports (or can attach) this type' },
  'C4.open': {
    errno: 'EINVAL',
    summary: 'type1 claims this extension but its open() rejects it as an IOMMU type',
  },
  C5: {
    errno: 'EINVAL',
    summary: 'the container has no IOMMU driver: only version/extension/SET_IOMMU work',
  },
  'C5.type1': { errno: 'ENOTTY', summary: 'not a type1 IOMMU ioctl' },
  'C5.dma-args': {
    errno: 'EINVAL',
    summary:
      'MAP/UNMAP_DMA: argsz below minsz, unknown flags, no READ/WRITE, size 0, an unaligned or wrapping range',
  },
  'C5.unmodelled': { errno: 'ENOTTY', summary: 'VFIO_IOMMU_GET_INFO is not modelled by the simulator' },

  // §3.2 group.
  G1: { errno: 'ENOENT', summary: 'no /dev/vfio/N: no device of IOMMU group N is bound to vfio-pci' },
  G2: { errno: 'EBUSY', summary: 'the group is already open (one open file per group)' },
  'G2.2013': {
    errno: 'EBUSY',
    summary: '[2013] the group is still attached to a container (device fds of an earlier open hold it)',
  },
  'G3.argsz': { errno: 'EINVAL', summary: 'vfio_group_status.argsz is below 8' },
  'G3.gone': { errno: 'ENODEV', summary: 'the IOMMU group is gone (its last vfio device was unbound)' },
  'G4.fd': { errno: 'EBADF', summary: 'the container fd is not open' },
  'G4.fd-negative': { errno: 'EINVAL', summary: '[2013] the container fd is negative' },
  'G4.has-container': { errno: 'EINVAL', summary: 'the group already has a container' },
  'G4.gone': { errno: 'ENODEV', summary: 'the IOMMU group is gone (its last vfio device was unbound)' },
  'G4.not-container': { errno: 'EINVAL', summary: 'the fd is not a VFIO container' },
  'G4.not-container-6.6': { errno: 'EBADFD', summary: 'the fd is neither a VFIO container nor an iommufd' },
  'G4.dma-owned': {
    errno: 'EPERM',
    summary: 'a device of the IOMMU group is bound to a DMA-API kernel driver (not viable)',
  },
  'G5.no-container': { errno: 'EINVAL', summary: 'the group has no container' },
  'G5.busy': { errno: 'EBUSY', summary: 'device fds obtained from this group are still open' },
  'G7.no-device': { errno: 'ENODEV', summary: 'no vfio device of this group has that name' },
  'G7.option': { errno: 'EINVAL', summary: 'unknown, duplicate or malformed option after the device name' },
  'G7.vf-token': {
    errno: 'EINVAL',
    summary: 'a VF token was given for a device that is neither a PF nor a VF of a vfio-pci PF',
  },
  'G7.no-container': {
    errno: 'EINVAL',
    summary: 'the group has no container, or its container has no IOMMU driver',
  },
  'G7.not-viable': { errno: 'EINVAL', summary: '[2013] the group is not viable' },
  G8: { errno: 'ENOTTY', summary: 'unknown ioctl on a group fd' },
  'G2.cdev': { errno: 'EBUSY', summary: '[6.6+] a device of this group is bound through its cdev' },

  // §3.4 cdev + iommufd [6.6+], and the group path's iommufd compat mode (K7).
  K2: {
    errno: 'EINVAL',
    summary: 'the cdev fd is not bound: only VFIO_DEVICE_BIND_IOMMUFD works before a successful bind',
  },
  'K3.args': {
    errno: 'EINVAL',
    summary: 'vfio_device_bind_iommufd: argsz below 16, flags not 0, or a negative iommufd',
  },
  'K3.group-fd': { errno: 'EINVAL', summary: 'BIND_IOMMUFD on a device fd obtained from a group' },
  'K3.group-open': {
    errno: 'EBUSY',
    summary: "the device's group file is open (group and cdev exclude each other)",
  },
  'K3.bound': { errno: 'EINVAL', summary: 'this cdev fd is already bound' },
  'K3.fd': { errno: 'EBADF', summary: 'the iommufd is not an open fd' },
  'K3.not-iommufd': { errno: 'EBADFD', summary: 'the fd is not an iommufd (/dev/iommu)' },
  'K3.opened': {
    errno: 'EINVAL',
    summary: 'the device is already open through another fd (one cdev bind per device)',
  },
  K4: {
    errno: 'EPERM',
    summary:
      "the IOMMU group's DMA is owned by another owner (a DMA-API kernel driver, a container or another iommufd ctx)",
  },
  'K5.args': { errno: 'EINVAL', summary: 'attach/detach: argsz below the minimum or flags not 0' },
  'K5.no-pt': { errno: 'ENOENT', summary: "no object with that id in the device's iommufd ctx" },
  'K5.not-pt': { errno: 'EINVAL', summary: 'the id names an object that is neither an IOAS nor a HWPT' },
  'K5.group-pt': {
    errno: 'EINVAL',
    summary: 'another device of the IOMMU group is attached to a different page table in this ctx',
  },
  'K7.no-compat-ioas': {
    errno: 'ENODEV',
    summary: "the group's iommufd has no compat IOAS any more (IOMMU_DESTROY removed it)",
  },

  // iommufd ctx (/dev/iommu) [6.6+].
  'iommufd.size': { errno: 'EINVAL', summary: "the command's size field is below the command's minimum" },
  'iommufd.E2BIG': {
    errno: 'E2BIG',
    summary: "the command's bytes beyond the kernel's struct are not zero (copy_struct_from_user)",
  },
  'iommufd.ENOTTY': { errno: 'ENOTTY', summary: 'not an iommufd command' },
  'iommufd.unmodelled': {
    errno: 'ENOTTY',
    summary: 'iommufd commands other than DESTROY and IOAS_ALLOC, and VFIO compat ioctls, are not modelled',
  },
  'IOAS_ALLOC.flags': { errno: 'EOPNOTSUPP', summary: 'IOMMU_IOAS_ALLOC defines no flags' },
  'DESTROY.ENOENT': { errno: 'ENOENT', summary: 'IOMMU_DESTROY: no object with that id' },
  'DESTROY.EBUSY': {
    errno: 'EBUSY',
    summary: 'IOMMU_DESTROY: the object is in use (a bound device, an attached HWPT, an IOAS with HWPTs)',
  },

  // §3.3 device fd, §3.9 open.
  O1: {
    errno: 'EAGAIN',
    summary: 'the open-time function reset found the device locked (pci_try_reset_function)',
  },
  D1: {
    errno: 'EBUSY',
    summary:
      'vfio-pci unbind waits until every device fd is closed (the kernel sleeps; the simulator refuses)',
  },
  'D2.argsz': { errno: 'EINVAL', summary: 'vfio_device_info.argsz is below 16' },
  'D3.no-reset': { errno: 'EINVAL', summary: 'reset_works is false (the open-time function reset failed)' },
  D4: { errno: 'ENOTTY', summary: 'unknown vfio-pci device ioctl' },
  'D4.unmodelled': {
    errno: 'ENOTTY',
    summary: 'the ioeventfd and feature ioctls are not modelled by the simulator',
  },

  // vfio-pci IRQ and region info, SET_IRQS for the ERR/REQ triggers. kernel-semantics.md is silent
  // here: read from vfio_pci_core.c (vfio_pci_ioctl_get_irq_info, vfio_pci_ioctl_set_irqs,
  // vfio_pci_ioctl_get_region_info), vfio_main.c (vfio_set_irqs_validate_and_prepare) and
  // vfio_pci_intrs.c (vfio_pci_set_irqs_ioctl, vfio_pci_set_ctx_trigger_single).
  'IRQ_INFO.args': {
    errno: 'EINVAL',
    summary:
      "vfio_irq_info: argsz below 16, or an index beyond the device's IRQ indexes (4 in 2013, 5 since 4.0)",
  },
  'IRQ_INFO.err-not-pcie': {
    errno: 'EINVAL',
    summary: 'VFIO_PCI_ERR_IRQ_INDEX of a conventional PCI function (error reporting is PCIe only)',
  },
  'SET_IRQS.args': {
    errno: 'EINVAL',
    summary:
      'vfio_irq_set: argsz below 20, index beyond the IRQ indexes, unknown flag bits, or start + count overflowing',
  },
  'SET_IRQS.range': {
    errno: 'EINVAL',
    summary:
      "vfio_irq_set: start/count outside the index's vectors (the ERR index has none on a conventional function)",
  },
  'SET_IRQS.data': {
    errno: 'EINVAL',
    summary: 'vfio_irq_set: not exactly one data type, or argsz leaves no room for count data elements',
  },
  'SET_IRQS.action': {
    errno: 'ENOTTY',
    summary: 'no handler for this index and action (ERR and REQ take only ACTION_TRIGGER)',
  },
  'SET_IRQS.single': {
    errno: 'EINVAL',
    summary:
      'ERR/REQ trigger: start not 0, count above 1, DATA_BOOL/DATA_EVENTFD with count 0, or DATA_NONE with no trigger set',
  },
  'SET_IRQS.fd': { errno: 'EBADF', summary: 'the trigger fd is not open (eventfd_ctx_fdget)' },
  'SET_IRQS.not-eventfd': {
    errno: 'EINVAL',
    summary: 'the trigger fd is not an eventfd (eventfd_ctx_fdget)',
  },
  'SET_IRQS.unmodelled': {
    errno: 'ENOTTY',
    summary: 'INTx, MSI and MSI-X triggers are not modelled by the simulator',
  },
  'REGION_INFO.argsz': { errno: 'EINVAL', summary: 'vfio_region_info.argsz is below 32' },
  'REGION_INFO.index': {
    errno: 'EINVAL',
    summary: 'no such region (VGA is not exposed: vfio-pci VGA support is off; no device-specific regions)',
  },
  'eventfd.EAGAIN': { errno: 'EAGAIN', summary: 'the eventfd counter is 0 (non-blocking read)' },
  'eventfd.ENOTTY': { errno: 'ENOTTY', summary: 'an eventfd has no ioctls' },
  'eventfd.not-eventfd': { errno: 'EINVAL', summary: 'not an eventfd: its read returns no counter' },

  // §3.6 hot-reset info.
  I1: { errno: 'EINVAL', summary: 'vfio_pci_hot_reset_info.argsz is below 12' },
  I2: { errno: 'ENODEV', summary: 'neither a slot nor a bus reset is possible for this device' },
  I4: { errno: 'ENOSPC', summary: 'argsz leaves no room for every affected device; count written back' },
  I5: { errno: 'EPERM', summary: 'a function in the reset scope has no IOMMU group' },

  // §3.7 hot reset, 6.1.
  H1: { errno: 'EINVAL', summary: 'vfio_pci_hot_reset.argsz is below 12 or flags is not 0' },
  H20: {
    errno: 'EINVAL',
    summary: '[6.6+] count 0 is for cdev-opened devices; a group-opened device must pass group fds',
  },
  H2: { errno: 'ENODEV', summary: 'neither a slot nor a bus reset is possible for this device' },
  H3: { errno: 'EINVAL', summary: 'count is 0 or above the number of functions in the reset scope' },
  'H5.fd': { errno: 'EBADF', summary: 'an fd of the array is not open' },
  'H5.not-group': { errno: 'EINVAL', summary: 'an fd of the array is not a VFIO group file' },
  H6: {
    errno: 'EINVAL',
    summary: 'a function of the reset scope is not a vfio-pci member of this dev_set',
  },
  'H8.group': { errno: 'EINVAL', summary: "a dev_set member's group is not among the group fds passed" },
  'H8.vma': { errno: 'EBUSY', summary: "a dev_set member's vma lock is held (trylock failed)" },
  'H8.memory': { errno: 'EBUSY', summary: "a dev_set member's memory lock is held (trylock failed)" },
  H22: {
    errno: 'EINVAL',
    summary:
      "[6.6+] a dev_set member is not owned by the caller's iommufd ctx (not bound there, and no device of its IOMMU group is)",
  },

  // §3.10 [2013] external user checks and the 2013 ownership walk.
  'E1.not-group': { errno: 'EINVAL', summary: '[2013] external user: not a VFIO group file' },
  'E1.no-container': { errno: 'EINVAL', summary: '[2013] external user: the group has no container' },
  'E1.no-iommu': {
    errno: 'EINVAL',
    summary: "[2013] external user: the group's container has no IOMMU driver",
  },
  'E1.not-viable': { errno: 'EINVAL', summary: '[2013] external user: the group is not viable' },
  'H2013.no-group': { errno: 'EPERM', summary: '[2013] a function in the reset scope has no IOMMU group' },
  E2: {
    errno: 'EBUSY',
    summary: '[2013] an external user (the KVM-VFIO device) holds a container user of the group',
  },
  'E3.fd': { errno: 'EBADF', summary: 'the fd given to the KVM-VFIO device is not open' },
  'E3.exists': {
    errno: 'EEXIST',
    summary: '[2013] the group is already registered with this KVM-VFIO device',
  },
  'E3.not-added': {
    errno: 'ENOENT',
    summary: 'the group or file is not registered with this KVM-VFIO device',
  },
  'E3.attr': {
    errno: 'ENXIO',
    summary:
      'unknown KVM-VFIO attribute group or attribute (SET_SPAPR_TCE exists only on ppc64 kernels; this model is x86)',
  },
  'E4.invalid': {
    errno: 'EINVAL',
    summary: '6.1: not a VFIO group file; 6.6+: neither a VFIO group file nor a VFIO device file',
  },
  'E4.exists': { errno: 'EEXIST', summary: 'the file is already registered with this KVM-VFIO device' },

  // KVM.
  'kvm.vm-type': { errno: 'EINVAL', summary: 'KVM_CREATE_VM: x86 has only machine type 0 here' },
  'kvm.EINVAL': { errno: 'EINVAL', summary: 'unknown /dev/kvm ioctl (kvm_arch_dev_ioctl)' },
  'kvm.api-arg': { errno: 'EINVAL', summary: 'KVM_GET_API_VERSION takes no argument' },
  'kvm.no-get-attr': {
    errno: 'EPERM',
    summary: 'KVM_GET_DEVICE_ATTR: the KVM-VFIO device has no get_attr (kvm_device_ioctl_attr)',
  },
  'kvm.ENOTTY': { errno: 'ENOTTY', summary: 'unknown or unmodelled VM or KVM device ioctl' },
  'kvm.no-type': {
    errno: 'ENODEV',
    summary: 'KVM_CREATE_DEVICE: no such device type (only KVM_DEV_TYPE_VFIO is modelled)',
  },
  'kvm.vfio-exists': { errno: 'EBUSY', summary: 'the VM already has a KVM-VFIO device (one per VM)' },
  'H2013.group': {
    errno: 'EINVAL',
    summary: '[2013] a function in the reset scope is in a group whose fd was not passed',
  },

  // §3.11 sysfs and driver binding.
  'sysfs.ENOENT': { errno: 'ENOENT', summary: 'no such sysfs attribute' },
  'sysfs.read-only': { errno: 'EACCES', summary: 'the attribute has no store method' },
  Y3: { errno: 'EINVAL', summary: 'reset_method: invalid or unsupported method, or too many' },
  'Y4.value': { errno: 'EINVAL', summary: 'only "1" may be written to reset' },
  'bind.no-device': { errno: 'ENODEV', summary: 'no PCI device of that name' },
  'bind.no-match': {
    errno: 'ENODEV',
    summary: 'the driver does not match the device (driver_override, ids)',
  },
  'bind.bound': { errno: 'EBUSY', summary: 'the device already has a driver' },
  'bind.dma-owned': {
    errno: 'EBUSY',
    summary: 'a DMA-API driver cannot bind into an IOMMU group whose DMA VFIO owns',
  },
  'S0.bridge': { errno: 'EINVAL', summary: 'vfio-pci binds only header type 0 functions (not bridges)' },
  'S0.sriov': { errno: 'EBUSY', summary: 'vfio-pci refuses an SR-IOV PF whose VFs are enabled' },
  'S0.no-group': { errno: 'EINVAL', summary: 'vfio-pci needs an IOMMU group (is the IOMMU on?)' },
  'unbind.not-bound': { errno: 'ENODEV', summary: 'the device is not bound to this driver' },
} as const satisfies Record<string, Rule>;

/** errnos a reset from the PCI core can end with (§4, §5, §7). */
const PASS_ERRNOS = ['EAGAIN', 'ENOTTY', 'EINVAL', 'ENODEV', 'EIO', 'EBUSY', 'ETIMEDOUT'] as const;
type PassErrno = (typeof PASS_ERRNOS)[number];

/** Where a PCI core result is handed to the user unchanged. */
const PASS_CONTEXTS = {
  D3: 'VFIO_DEVICE_RESET: pci_try_reset_function',
  D3_2013: '[2013] VFIO_DEVICE_RESET: pci_reset_function',
  H9: 'hot reset: pci_reset_bus',
  Y4: 'sysfs reset: pci_reset_function',
} as const;
type PassContext = keyof typeof PASS_CONTEXTS;

const PASS_WHY: Record<PassErrno, string> = {
  EAGAIN: 'a device lock was held (trylock failed)',
  ENOTTY: 'no reset method left, or the device/link did not come back after the reset',
  EINVAL: 'the reset method refused (e.g. pm reset outside D0)',
  ENODEV: 'the device is gone',
  EIO: 'the reset failed',
  EBUSY: 'the reset found the device busy',
  ETIMEDOUT: 'the reset timed out',
};

type PassRuleId = `${PassContext}.${PassErrno}`;

const PASS = Object.fromEntries(
  Object.entries(PASS_CONTEXTS).flatMap(([ctx, what]) =>
    PASS_ERRNOS.map((e) => [`${ctx}.${e}`, { errno: e, summary: `${what}: ${PASS_WHY[e]}` }]),
  ),
) as Record<PassRuleId, Rule>;

export const RULES: Readonly<Record<RuleId, Rule>> = { ...FIXED, ...PASS };
export type RuleId = keyof typeof FIXED | PassRuleId;

/** Throws the rule's errno as the kernel reports it, naming the rule. */
export function fail(rule: RuleId, syscall: string, detail = ''): never {
  const r = RULES[rule];
  throw new KernelError(r.errno, syscall, detail ? `${r.summary}: ${detail}` : r.summary, rule);
}

/** The rule for a PCI core result handed through unchanged (`D3.ENOTTY`, `H9.EAGAIN`, …). */
export function passRule(ctx: PassContext, errno: ErrnoName): RuleId {
  const id = `${ctx}.${errno}`;
  if (!Object.hasOwn(RULES, id))
    throw new Error(`simulator bug: no rule for ${errno} from ${PASS_CONTEXTS[ctx]} (add it to PASS_ERRNOS)`);
  return id as RuleId;
}
