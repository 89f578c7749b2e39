/**
 * Which kernel function decides each simulator rule, for the matrix report: where a reader checks
 * a case against the kernel (drivers/vfio/*.c, drivers/iommu/iommufd/*.c, virt/kvm/*.c, fs/*.c).
 * Keyed by rule id, or by its prefix before the first '.'.
 */
const KERNEL: Record<string, string> = {
  fd: 'fdget (fs/ioctl.c ksys_ioctl, fs/open.c close_fd)',
  copy_from_user: 'copy_from_user / get_user of the handler',
  copy_to_user: 'copy_to_user of the handler',
  strndup_user: 'strndup_user(arg, PAGE_SIZE) (vfio_group_ioctl_get_device_fd)',
  'open.ENOENT': 'no such device node',
  'null.ENOTTY': 'vfs_ioctl (/dev/null has no unlocked_ioctl)',
  C4: 'vfio_ioctl_set_iommu (drivers/vfio/container.c)',
  C5: 'vfio_fops_unl_ioctl (container.c): no iommu_driver',
  'C5.type1': 'vfio_iommu_type1_ioctl',
  'C5.dma-args': 'vfio_iommu_type1_map_dma / vfio_dma_do_map / vfio_iommu_type1_unmap_dma',
  G1: 'no /dev/vfio/N: vfio_create_group only for bound groups',
  G2: 'vfio_group_fops_open',
  G3: 'vfio_group_ioctl_get_status',
  G4: 'vfio_group_ioctl_set_container, vfio_container_attach_group',
  G5: 'vfio_group_ioctl_unset_container',
  G7: 'vfio_group_ioctl_get_device_fd, vfio_pci_core_match, vfio_device_assign_container',
  G8: 'vfio_group_fops_unl_ioctl',
  D2: 'vfio_pci_ioctl_get_info',
  D3: 'vfio_pci_ioctl_reset',
  D4: 'vfio_pci_core_ioctl',
  I1: 'vfio_pci_ioctl_get_pci_hot_reset_info',
  I2: 'vfio_pci_ioctl_get_pci_hot_reset_info (pci_probe_reset_slot/bus)',
  I4: 'vfio_pci_ioctl_get_pci_hot_reset_info',
  H1: 'vfio_pci_ioctl_pci_hot_reset',
  H2: 'vfio_pci_ioctl_pci_hot_reset (pci_probe_reset_slot/bus)',
  H3: 'vfio_pci_ioctl_pci_hot_reset (count vs vfio_pci_count_devs)',
  H5: 'vfio_pci_ioctl_pci_hot_reset_groups (fget, vfio_file_is_group)',
  H8: 'vfio_pci_dev_set_hot_reset (vfio_dev_in_groups, trylocks)',
  H9: 'pci_reset_bus (drivers/pci/pci.c)',
  H20: 'vfio_pci_ioctl_pci_hot_reset (!!count == cdev_opened)',
  H22: 'vfio_pci_dev_set_hot_reset (vfio_iommufd_get_dev_id)',
  H2013: '[2013] vfio_pci_validate_devs',
  K2: 'vfio_device_fops_unl_ioctl (access_granted)',
  REGION_INFO: 'vfio_pci_ioctl_get_region_info',
  IRQ_INFO: 'vfio_pci_ioctl_get_irq_info',
  SET_IRQS: 'vfio_pci_ioctl_set_irqs → vfio_set_irqs_validate_and_prepare → vfio_pci_set_irqs_ioctl',
  'SET_IRQS.fd': 'vfio_pci_set_ctx_trigger_single → eventfd_ctx_fdget',
  'SET_IRQS.not-eventfd': 'vfio_pci_set_ctx_trigger_single → eventfd_ctx_fdget',
  K3: 'vfio_df_ioctl_bind_iommufd',
  K4: 'iommufd_device_bind → iommu_device_claim_dma_owner',
  K5: 'vfio_df_ioctl_attach_pt / vfio_df_ioctl_detach_pt',
  iommufd: 'iommufd_fops_ioctl',
  IOAS_ALLOC: 'iommufd_ioas_alloc_ioctl',
  DESTROY: 'iommufd_destroy → iommufd_object_remove',
  E1: '[2013] vfio_group_get_external_user',
  E3: 'kvm_vfio_set_attr / kvm_vfio_set_file (virt/kvm/vfio.c)',
  E4: 'kvm_vfio_file_add (vfio_file_is_group / vfio_file_is_valid)',
  kvm: 'kvm_dev_ioctl / kvm_vm_ioctl / kvm_ioctl_create_device / kvm_device_ioctl (virt/kvm/kvm_main.c)',
  'kvm.vm-type': 'kvm_arch_init_vm (x86: machine type 0 only)',
  'kvm.vfio-exists': 'kvm_vfio_create (one KVM-VFIO device per VM)',
  D3_2013: '[2013] vfio_pci_ioctl reset: pci_reset_function',
};

/** The kernel function behind a rule (or a success of `ioctl`). */
export function kernelFunction(rule: string | null, ioctl: string): string {
  if (rule === null) return `${ioctl} handler (success)`;
  return KERNEL[rule] ?? KERNEL[rule.split('.')[0]!] ?? '(unmapped rule)';
}
