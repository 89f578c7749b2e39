/** The pci.ids database for this run: `--pci-ids`, else the system copy, loaded on first use. */

import type { Inventory } from '../host/inventory.ts';
import { LazyPciIds } from '../names/load.ts';
import type { NameKey, Namer } from '../names/namer.ts';
import type { Globals } from './context.ts';

const cache = new Map<string, LazyPciIds>();

export function namerOf(g: Globals): Namer {
  const key = g.pciIds ?? '';
  let n = cache.get(key);
  if (!n) {
    n = new LazyPciIds(g.pciIds ?? null);
    cache.set(key, n);
  }
  return n;
}

/** The ids each function is named by. */
export function nameKeys(inv: Inventory): Map<string, NameKey> {
  return new Map(inv.functions.map((f) => [f.bdf, f]));
}
