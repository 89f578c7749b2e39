/**
 * "In use by the host": what must not be taken from it without being named — the boot/console
 * GPU, the controller of mounted storage, the NIC carrying the default route (the same three
 * `linux/safety.ts` checks on a real host). On a real host these facts come from that module; a
 * simulated host has no mounts, console or routes, so `assumedHostUse` stands in with the devices
 * a host would normally be using, marked `assumed` so output says so.
 * @module
 */

import type { Inventory, InventoryFunction } from '../host/inventory.ts';
import { isVfioDriver } from '../pci/drivers.ts';

export type HostUse =
  | { code: 'boot-vga'; assumed: boolean }
  | { code: 'mounted-storage'; assumed: boolean; disk: string | null; mounts: string[] }
  | { code: 'default-route'; assumed: boolean; iface: string | null };

export type HostUseLookup = (bdf: string) => HostUse[];

export const NO_HOST_USE: HostUseLookup = () => [];

/** Bound to a driver the host itself uses (not vfio-pci, pci-stub or nothing). */
function hostDriven(f: InventoryFunction): boolean {
  return f.driver !== null && !isVfioDriver(f.driver) && f.driver !== 'pci-stub';
}

/** Integrated (root-bus) devices first, then in enumeration order: firmware's usual choice. */
function firstOf(list: InventoryFunction[]): InventoryFunction | undefined {
  return list.find((f) => f.parent === null) ?? list[0];
}

/**
 * For simulated hosts: every mass-storage controller with a host driver holds mounted disks; the
 * first VGA controller with a host driver is the console; the first network controller with a
 * host driver carries the default route.
 */
export function assumedHostUse(inv: Inventory): HostUseLookup {
  const uses = new Map<string, HostUse[]>();
  const add = (f: InventoryFunction | undefined, u: HostUse) => {
    if (f) uses.set(f.bdf, [...(uses.get(f.bdf) ?? []), u]);
  };
  const driven = inv.functions.filter(hostDriven);
  for (const f of driven.filter((g) => g.classCode >> 16 === 0x01))
    add(f, { code: 'mounted-storage', assumed: true, disk: null, mounts: [] });
  add(firstOf(driven.filter((g) => g.classCode >> 8 === 0x0300)), { code: 'boot-vga', assumed: true });
  add(firstOf(driven.filter((g) => g.classCode >> 16 === 0x02)), {
    code: 'default-route',
    assumed: true,
    iface: null,
  });
  return (bdf) => uses.get(bdf) ?? [];
}
