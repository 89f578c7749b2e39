/**
 * What a bound driver means for VFIO: whether it makes the function a VFIO device, and whether it
 * takes DMA ownership of its IOMMU group (kernel-semantics §1.2, G3).
 * @module
 */

/** Drivers that make a function a VFIO device (vfio-pci and its variant drivers). */
export function isVfioDriver(driver: string | null): boolean {
  return (
    driver !== null && (driver === 'vfio-pci' || driver.endsWith('_vfio_pci') || driver.endsWith('-vfio-pci'))
  );
}

/** Drivers that do not take DMA ownership of their group (`driver_managed_dma`, §1.2). */
export function isDmaNeutralDriver(driver: string | null): boolean {
  return driver === null || isVfioDriver(driver) || driver === 'pci-stub' || driver === 'pcieport';
}
