/**
 * Names as output shows them, the way `lspci` does: "NVIDIA Corporation AD102 [GeForce RTX 4090]",
 * "NVIDIA Corporation Device 2684" when only the vendor is known, "Device 10de:2684" when
 * nothing is. Pure: the database comes in through `Namer`.
 * @module
 */

import type { FunctionNames } from './pci-ids.ts';

/** The ids a name is looked up by (an `InventoryFunction` or a `FunctionDesc` has them). */
export interface NameKey {
  vendor: number;
  device: number;
  subsystemVendor: number;
  subsystemDevice: number;
  classCode: number;
}

export interface Namer {
  names(f: NameKey): FunctionNames;
}

/** No database: every name falls back to hex. */
export const HEX_ONLY: Namer = {
  names: () => ({ vendor: null, device: null, subsystem: null, class: null }),
};

const hex4 = (n: number) => n.toString(16).padStart(4, '0');

/** One line naming the device: vendor and device names, hex where the database has none. */
export function deviceTitle(namer: Namer, f: NameKey): string {
  const n = namer.names(f);
  if (n.vendor === null) return `Device ${hex4(f.vendor)}:${hex4(f.device)}`;
  return `${n.vendor} ${n.device ?? `Device ${hex4(f.device)}`}`;
}

/** The subsystem (the board maker's id for this card), or null when it is zero or unknown. */
export function subsystemTitle(namer: Namer, f: NameKey): string | null {
  if (f.subsystemVendor === 0 && f.subsystemDevice === 0) return null;
  const n = namer.names(f);
  return n.subsystem ?? `${hex4(f.subsystemVendor)}:${hex4(f.subsystemDevice)}`;
}
