/**
 * The picture's rows: the PCI tree as an indented list in the kernel's enumeration order (bus
 * order, depth first), the way `lspci -t` reads. d3-hierarchy holds the tree; a pre-order walk
 * gives each node its row and its depth gives the indent.
 *
 * Long runs of alike leaf siblings — SR-IOV virtual functions above all, 63 of them after each PF
 * on a server NIC — are folded into one row after the first few, so a large host stays readable;
 * the folded row keeps every member's address so a viewer can still find it.
 * @module
 */

import { type HierarchyNode, hierarchy } from 'd3-hierarchy';
import type { Inventory, InventoryFunction } from '../../host/inventory.ts';

export type RowNode =
  | { kind: 'host' }
  /** A root bus heading, shown only when the host has several root buses. */
  | { kind: 'bus'; bus: string }
  | { kind: 'fn'; f: InventoryFunction }
  /** `members` folded into one row: alike leaves that follow their first `keep` siblings. */
  | { kind: 'run'; members: InventoryFunction[] };

export interface Row {
  node: Exclude<RowNode, { kind: 'host' }>;
  /** 0 for root-bus functions (or bus headings). */
  depth: number;
  index: number;
}

export interface RowOptions {
  /** Fold runs of at least this many alike leaf siblings; false keeps every function on its own row. */
  foldRuns: number | false;
  /** How many of a folded run stay on their own rows before the folded one. */
  keep: number;
}

export const ROW_DEFAULTS: RowOptions = { foldRuns: 8, keep: 2 };

/**
 * What makes leaf siblings alike enough to fold: the same part in the same reset domain (VFs of one
 * PF, say). Drivers and problems may differ; the folded row counts them.
 */
function likeness(f: InventoryFunction): string {
  const h = f.hotReset;
  return [f.vendor, f.device, f.classCode, f.kind, h ? h.id : '-'].join('|');
}

function fold(kids: InventoryFunction[], o: RowOptions): RowNode[] {
  if (o.foldRuns === false) return kids.map((f) => ({ kind: 'fn', f }));
  const min = Math.max(o.foldRuns, o.keep + 2);
  const out: RowNode[] = [];
  let i = 0;
  while (i < kids.length) {
    const f = kids[i]!;
    let j = i + 1;
    if (f.children.length === 0) {
      const like = likeness(f);
      while (j < kids.length && kids[j]!.children.length === 0 && likeness(kids[j]!) === like) j++;
    }
    if (j - i >= min) {
      for (const g of kids.slice(i, i + o.keep)) out.push({ kind: 'fn', f: g });
      out.push({ kind: 'run', members: kids.slice(i + o.keep, j) });
    } else for (const g of kids.slice(i, j)) out.push({ kind: 'fn', f: g });
    i = j;
  }
  return out;
}

/** `dddd:bb` of a function's bus. */
export const busOf = (bdf: string): string => bdf.slice(0, 7);

export function buildRows(inv: Inventory, opts: Partial<RowOptions> = {}): Row[] {
  const o = { ...ROW_DEFAULTS, ...opts };
  const byBdf = new Map(inv.functions.map((f) => [f.bdf, f]));
  const top = inv.functions.filter((f) => f.parent === null);
  const rootBuses = [...new Set(top.map((f) => busOf(f.bdf)))];
  const children = (n: RowNode): RowNode[] | undefined => {
    switch (n.kind) {
      case 'host':
        return rootBuses.length > 1 ? rootBuses.map((bus) => ({ kind: 'bus', bus })) : fold(top, o);
      case 'bus':
        return fold(
          top.filter((f) => busOf(f.bdf) === n.bus),
          o,
        );
      case 'fn':
        return n.f.children.length > 0
          ? fold(
              n.f.children.map((c) => byBdf.get(c)).filter((c): c is InventoryFunction => c !== undefined),
              o,
            )
          : undefined;
      case 'run':
        return undefined;
    }
  };
  const root: HierarchyNode<RowNode> = hierarchy<RowNode>({ kind: 'host' }, children);
  const rows: Row[] = [];
  root.eachBefore((n) => {
    if (n.data.kind !== 'host') rows.push({ node: n.data, depth: n.depth - 1, index: rows.length });
  });
  return rows;
}

/** The functions a row stands for. */
export function rowFunctions(r: Row): InventoryFunction[] {
  return r.node.kind === 'fn' ? [r.node.f] : r.node.kind === 'run' ? r.node.members : [];
}

/** Row index of every function shown (folded members map to their folded row). */
export function rowIndex(rows: readonly Row[]): Map<string, number> {
  const m = new Map<string, number>();
  for (const r of rows) for (const f of rowFunctions(r)) m.set(f.bdf, r.index);
  return m;
}
