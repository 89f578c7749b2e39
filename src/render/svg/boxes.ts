/**
 * Which rows each box of the picture encloses: IOMMU groups (filled boxes) and hot-reset domains
 * (outlines) — and how they nest, so that no outline ever crosses a group box.
 *
 * A domain is what one hot reset hits: the slot or bus scope the inventory computed (I2/I3, the
 * functions the hot-reset INFO ioctl lists). Both kinds of box are spans of consecutive rows; a
 * set whose rows are not consecutive is drawn as several pieces. Pieces are then cut further until
 * every two spans are either disjoint or one inside the other (a laminar family): then each box
 * can be drawn with a margin that grows with what it holds, and borders never cross.
 * @module
 */

import type { Inventory } from '../../host/inventory.ts';
import { type Row, rowFunctions, rowIndex } from './rows.ts';

export interface Domain {
  /** The inventory's reset-domain id: `slot:<dddd:bb>:<slot>` or `bus:<dddd:bb>`. */
  key: string;
  kind: 'slot' | 'bus';
  /** The bridge whose secondary bus (or slot) is reset; it is outside the domain. */
  bridge: string;
  /** Slot name or `dddd:bb`. */
  target: string;
  /** Affected functions in the kernel's walk order. */
  members: string[];
  /** A plain secondary bus reset below a hotplug port whose slot driver cannot reset the slot (PH1). */
  hotplugHazard: boolean;
}

/** Rows `first..last`, both included. */
export interface Span {
  first: number;
  last: number;
}

export type BoxOwner = { kind: 'domain'; domain: Domain } | { kind: 'group'; group: number };

export interface Box extends Span {
  owner: BoxOwner;
  /** 0 for a box that holds no other box; otherwise one more than the deepest box it holds. */
  level: number;
  /** This piece's number among the owner's pieces (1-based), and how many there are. */
  piece: number;
  pieces: number;
}

/** Every reset domain of the host (the inventory lists them in row order). */
export function collectDomains(inv: Inventory): Domain[] {
  return inv.domains.map((d) => ({
    key: d.id,
    kind: d.kind,
    bridge: d.bridge,
    target: d.target,
    members: d.affected.map((a) => a.bdf),
    hotplugHazard: d.problems.some((p) => p.code === 'hotplug-port-plain-sbr'),
  }));
}

/** Maximal runs of consecutive numbers in a set of row indices. */
export function spansOf(rowsIn: Iterable<number>): Span[] {
  const sorted = [...new Set(rowsIn)].sort((a, b) => a - b);
  const out: Span[] = [];
  for (const r of sorted) {
    const last = out[out.length - 1];
    if (last && last.last === r - 1) last.last = r;
    else out.push({ first: r, last: r });
  }
  return out;
}

/** `s` cut where it would cross one of `fixed` (overlap without either containing the other). */
export function cutAgainst(s: Span, fixed: readonly Span[]): Span[] {
  const todo = [s];
  const out: Span[] = [];
  while (todo.length > 0) {
    const t = todo.pop()!;
    const f = fixed.find(
      (x) =>
        (t.first < x.first && x.first <= t.last && t.last < x.last) ||
        (x.first < t.first && t.first <= x.last && x.last < t.last),
    );
    if (!f) out.push(t);
    else if (t.first < f.first)
      todo.push({ first: t.first, last: f.first - 1 }, { first: f.first, last: t.last });
    else todo.push({ first: t.first, last: f.last }, { first: f.last + 1, last: t.last });
  }
  return out.sort((a, b) => a.first - b.first);
}

const contains = (a: Span, b: Span) => a.first <= b.first && b.last <= a.last;

/**
 * The boxes for `rows`: domain pieces first (cut against each other, largest first), then group
 * pieces cut against the domains. A folded row belongs to a group box only when all its members
 * share the group.
 */
export function layoutBoxes(inv: Inventory, rows: readonly Row[], domains: readonly Domain[]): Box[] {
  const at = rowIndex(rows);
  const spans: { owner: BoxOwner; span: Span }[] = [];

  const domainSpans: Span[] = [];
  const bySize = domains
    .map((d) => ({ d, rows: d.members.map((b) => at.get(b)).filter((r): r is number => r !== undefined) }))
    .filter((x) => x.rows.length > 0)
    .sort((a, b) => b.rows.length - a.rows.length || (a.d.key < b.d.key ? -1 : 1));
  for (const { d, rows: rs } of bySize) {
    for (const s of spansOf(rs).flatMap((x) => cutAgainst(x, domainSpans))) {
      domainSpans.push(s);
      spans.push({ owner: { kind: 'domain', domain: d }, span: s });
    }
  }

  const groupRows = new Map<number, number[]>();
  for (const r of rows) {
    const groups = new Set(rowFunctions(r).map((f) => f.group));
    const [g] = groups;
    if (groups.size !== 1 || g === null || g === undefined) continue;
    groupRows.set(g, [...(groupRows.get(g) ?? []), r.index]);
  }
  for (const g of inv.groups) {
    for (const s of spansOf(groupRows.get(g.id) ?? []).flatMap((x) => cutAgainst(x, domainSpans)))
      spans.push({ owner: { kind: 'group', group: g.id }, span: s });
  }
  return nest(spans);
}

const ownerKey = (o: BoxOwner) => (o.kind === 'domain' ? `d:${o.domain.key}` : `g:${o.group}`);

/**
 * Orders the spans outside-in (a domain encloses a group box of the same rows: the reset hits the
 * whole group) and gives each its level and piece number.
 */
function nest(spans: { owner: BoxOwner; span: Span }[]): Box[] {
  const boxes: Box[] = spans.map(({ owner, span }) => ({ ...span, owner, level: 0, piece: 1, pieces: 1 }));
  boxes.sort(
    (a, b) =>
      a.first - b.first ||
      b.last - a.last ||
      (a.owner.kind === b.owner.kind ? 0 : a.owner.kind === 'domain' ? -1 : 1) ||
      (ownerKey(a.owner) < ownerKey(b.owner) ? -1 : 1),
  );
  const parent: (number | null)[] = [];
  const stack: number[] = [];
  boxes.forEach((b, i) => {
    while (stack.length > 0 && !contains(boxes[stack[stack.length - 1]!]!, b)) stack.pop();
    parent.push(stack.length > 0 ? stack[stack.length - 1]! : null);
    stack.push(i);
  });
  for (let i = boxes.length - 1; i >= 0; i--) {
    const p = parent[i];
    if (p !== null && p !== undefined) boxes[p]!.level = Math.max(boxes[p]!.level, boxes[i]!.level + 1);
  }
  const count = new Map<string, number>();
  for (const b of boxes) count.set(ownerKey(b.owner), (count.get(ownerKey(b.owner)) ?? 0) + 1);
  const seen = new Map<string, number>();
  for (const b of boxes) {
    const k = ownerKey(b.owner);
    seen.set(k, (seen.get(k) ?? 0) + 1);
    b.piece = seen.get(k)!;
    b.pieces = count.get(k)!;
  }
  return boxes;
}
