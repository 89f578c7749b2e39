/**
 * Group viability (G3, G4, [2013] G7/E1) and DMA ownership (§1.2). Both eras ask the same
 * question of every member of the IOMMU group: is it bound to a driver that does its own DMA
 * through the kernel's DMA API? 6.1 phrases it as `owner_cnt` (drivers without
 * `driver_managed_dma`), 2013 as a whitelist (vfio drivers, pci-stub, pcieport, none); the sets
 * coincide.
 * @module
 */

import { isDmaNeutralDriver } from '../../pci/drivers.ts';
import type { PciFunction } from '../../pci/topology.ts';
import type { KernelCtx, VfioGroup } from './model.ts';

/** Members of the IOMMU group bound to a DMA-API kernel driver (6.1: `owner_cnt` with owner NULL). */
export function dmaUsers(ctx: KernelCtx, groupId: number): PciFunction[] {
  return ctx.host.groups
    .members(groupId)
    .filter((f) => !isDmaNeutralDriver(ctx.host.state(f.name)?.driver ?? null));
}

/** G3: no member is bound to a DMA-API driver. */
export function isViable(ctx: KernelCtx, group: VfioGroup): boolean {
  return dmaUsers(ctx, group.id).length === 0;
}

/**
 * 6.1: VFIO owns the IOMMU group's DMA from SET_CONTAINER until the container is detached (G4);
 * [6.6+] an iommufd ctx owns it while a device of the group is bound to it (K3, K7).
 */
export function vfioOwnsDma(ctx: KernelCtx, groupId: number): boolean {
  if (ctx.era === '2013') return false;
  if (ctx.groups.get(groupId)?.container != null) return true;
  for (const d of ctx.devices.values()) if (d.bound && d.group.id === groupId) return true;
  return false;
}
