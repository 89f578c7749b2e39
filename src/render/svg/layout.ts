/**
 * Geometry of the picture, as data: where each row's card sits, the columns inside cards, and the
 * rectangle of every group box and domain outline. All numbers are whole pixels, so the SVG text
 * is the same on every machine.
 *
 * Cards are indented by depth and all end at one right edge. A box spans its rows' cards plus a
 * margin that grows with its level (what it holds), and rows are spaced so that the margins of the
 * boxes ending above a gap and of those starting below it both fit: nested boxes never touch, and
 * disjoint ones never overlap.
 * @module
 */

import type { Inventory } from '../../host/inventory.ts';
import { type Box, collectDomains, type Domain, layoutBoxes } from './boxes.ts';
import { buildRows, type Row, type RowOptions } from './rows.ts';

/** Width of one character of the monospace font at 12 px (DejaVu Sans Mono, Menlo, Consolas: 0.6 em). */
export const CHAR_W = 7.25;
export const CARD_H = 18;
const INDENT = 22;
const PAD_BASE = 2;
const PAD_STEP = 4;
const MIN_GAP = 1;
const MARGIN = 12;
/** Characters of the name column on the deepest row (shallower rows get more). */
const NAME_CHARS = 34;
const DRIVER_CHARS = 14;
const METHODS_CHARS = 17;
const MARK_CHARS = 6;
const BADGE_W = 30;

export interface RowGeom {
  row: Row;
  /** Left edge of the card. */
  x: number;
  /** Top edge of the card. */
  y: number;
}

export interface Rect {
  x: number;
  y: number;
  w: number;
  h: number;
}

export interface BoxGeom extends Rect {
  box: Box;
}

export interface Columns {
  /** Offset of the address from the card's left edge (after the group badge). */
  bdfOffset: number;
  /** Offset of the name from the card's left edge. */
  nameOffset: number;
  driver: number;
  methods: number;
  mark: number;
  /** The common right edge of every card. */
  right: number;
}

export interface SvgLayout {
  rows: RowGeom[];
  boxes: BoxGeom[];
  domains: Domain[];
  columns: Columns;
  /** Addresses are shown without the `0000:` domain when every function is in domain 0. */
  shortBdf: boolean;
  width: number;
  height: number;
}

export const padOf = (level: number): number => PAD_BASE + PAD_STEP * level;

/** The layout with y = 0 at the top of the first box; the heading goes above it. */
export function layoutSvg(inv: Inventory, rowOpts: Partial<RowOptions> = {}): SvgLayout {
  const rows = buildRows(inv, rowOpts);
  const domains = collectDomains(inv);
  const boxes = layoutBoxes(inv, rows, domains);
  const maxPad = boxes.reduce((m, b) => Math.max(m, padOf(b.level)), 0);
  const maxDepth = rows.reduce((m, r) => Math.max(m, r.depth), 0);
  const shortBdf = inv.functions.every((f) => f.bdf.startsWith('0000:'));
  const bdfChars = shortBdf ? 7 : 12;

  const left = MARGIN + maxPad;
  const bdfOffset = BADGE_W + 6;
  const nameOffset = bdfOffset + Math.ceil((bdfChars + 1) * CHAR_W);
  const driver = Math.ceil(left + maxDepth * INDENT + nameOffset + NAME_CHARS * CHAR_W);
  const methods = Math.ceil(driver + (DRIVER_CHARS + 1) * CHAR_W);
  const mark = Math.ceil(methods + (METHODS_CHARS + 1) * CHAR_W);
  const right = Math.ceil(mark + MARK_CHARS * CHAR_W);

  // The outermost box ending at / starting at each row sets the space below / above it.
  const below = new Array<number>(rows.length).fill(0);
  const above = new Array<number>(rows.length).fill(0);
  for (const b of boxes) {
    below[b.last] = Math.max(below[b.last]!, padOf(b.level));
    above[b.first] = Math.max(above[b.first]!, padOf(b.level));
  }
  const geoms: RowGeom[] = [];
  let y = above[0] ?? 0;
  for (const r of rows) {
    if (r.index > 0) y += below[r.index - 1]! + above[r.index]! + MIN_GAP;
    geoms.push({ row: r, x: left + r.depth * INDENT, y });
    y += CARD_H;
  }
  const bottom = y + (below[rows.length - 1] ?? 0);

  const boxGeoms = boxes.map((b): BoxGeom => {
    const pad = padOf(b.level);
    const span = geoms.slice(b.first, b.last + 1);
    const x = Math.min(...span.map((g) => g.x)) - pad;
    const y0 = span[0]!.y - pad;
    const y1 = span[span.length - 1]!.y + CARD_H + pad;
    return { box: b, x, y: y0, w: right + pad - x, h: y1 - y0 };
  });

  return {
    rows: geoms,
    boxes: boxGeoms,
    domains,
    columns: { bdfOffset, nameOffset, driver, methods, mark, right },
    shortBdf,
    width: right + maxPad + MARGIN,
    height: bottom + MARGIN,
  };
}

/** How many characters fit between a card's name and the driver column. */
export function nameRoom(g: RowGeom, c: Columns): number {
  return Math.floor((c.driver - g.x - c.nameOffset) / CHAR_W) - 1;
}
