/**
 * What the client needs to know from sysfs before it touches a device: its IOMMU group, its
 * driver, the members of a group. Read through the same `SysfsReader` the inventory uses.
 * @module
 */

import type { DeviceRef } from '../host/problems.ts';
import { basename, type SysfsReader } from '../kernel/sysfs.ts';
import { parseResetMethods } from '../pci/reset-methods.ts';

export function iommuGroupOf(sys: SysfsReader, bdf: string): number | null {
  const p = `bus/pci/devices/${bdf}/iommu_group`;
  if (sys.kind(p) !== 'link') return null;
  const n = Number(basename(sys.readLink(p)));
  return Number.isInteger(n) ? n : null;
}

export function driverOf(sys: SysfsReader, bdf: string): string | null {
  const p = `bus/pci/devices/${bdf}/driver`;
  return sys.kind(p) === 'link' ? basename(sys.readLink(p)) : null;
}

export function deviceExists(sys: SysfsReader, bdf: string): boolean {
  return sys.kind(`bus/pci/devices/${bdf}`) !== null;
}

export function groupMembers(sys: SysfsReader, group: number): string[] {
  const p = `kernel/iommu_groups/${group}/devices`;
  return sys.kind(p) === null ? [] : sys.list(p);
}

export function deviceRef(sys: SysfsReader, bdf: string): DeviceRef {
  return { bdf, driver: driverOf(sys, bdf), group: iommuGroupOf(sys, bdf) };
}

/** `reset_method` as sysfs lists it (Y2), or null where the kernel has no such attribute (Y1, [2013]). */
export function resetMethodsOf(sys: SysfsReader, bdf: string): string[] | null {
  const p = `bus/pci/devices/${bdf}/reset_method`;
  if (sys.kind(p) === null) return null;
  return parseResetMethods(sys.readText(p));
}

/** The config image as sysfs shows it (for capability checks such as QEMU's reset policy). */
export function readConfig(sys: SysfsReader, bdf: string): Uint8Array | null {
  const p = `bus/pci/devices/${bdf}/config`;
  return sys.kind(p) === null ? null : sys.readBytes(p);
}
