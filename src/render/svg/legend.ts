/**
 * The picture's heading (which host, by which kernel's rules) and its legend: what a filled box,
 * each kind of outline and each mark means. Returns the SVG and the height it takes.
 * @module
 */

import type { Inventory } from '../../host/inventory.ts';
import type { Domain } from './boxes.ts';
import { CHAR_W } from './layout.ts';
import { DOMAIN_COLOUR, groupColour, INK, MUTED, SEVERITY_COLOUR, VFIO_INK } from './style.ts';
import { el, text } from './xml.ts';

const MARGIN = 12;
const LINE = 18;
/** Legend text is 11 px: its characters are 11/12 of the body's. */
const SMALL_W = (CHAR_W * 11) / 12;

interface Item {
  swatch: (x: number, y: number) => string;
  label: string;
}

const outline = (colour: string) => (x: number, y: number) =>
  el('rect', {
    x,
    y: y - 10,
    width: 22,
    height: 13,
    rx: 3,
    fill: 'none',
    stroke: colour,
    'stroke-width': 1.5,
    'stroke-dasharray': '5 3',
  });

const glyph = (g: string, colour: string) => (x: number, y: number) =>
  text({ x: x + 5, y, fill: colour, 'font-weight': 'bold' }, g);

function items(domains: readonly Domain[]): Item[] {
  const g = groupColour(3);
  const list: Item[] = [
    {
      swatch: (x, y) =>
        `${el('rect', { x, y: y - 10, width: 22, height: 13, rx: 3, fill: g.fill, stroke: g.stroke })}${text({ x: x + 3, y: y - 1, 'font-size': 9, fill: g.stroke }, '12')}`,
      label: 'IOMMU group (its number on each function)',
    },
    { swatch: outline(DOMAIN_COLOUR.slot), label: 'hot reset: slot reset by the hotplug driver' },
    { swatch: outline(DOMAIN_COLOUR.bus), label: 'hot reset: secondary bus reset' },
  ];
  if (domains.some((d) => d.hotplugHazard))
    list.push({
      swatch: outline(DOMAIN_COLOUR.hazard),
      label: 'bus reset below a hotplug port (seen as a surprise removal)',
    });
  list.push(
    { swatch: glyph('⇣', MUTED), label: 'a bridge: the reset it does below' },
    { swatch: glyph('✗', SEVERITY_COLOUR.blocker), label: 'blockers' },
    { swatch: glyph('!', SEVERITY_COLOUR.warning), label: 'warnings (hover for details)' },
    { swatch: glyph('v', VFIO_INK), label: 'vfio-pci' },
  );
  return list;
}

export function drawHeading(inv: Inventory, domains: readonly Domain[], width: number) {
  const era = inv.era === '2013' ? 'Linux 3.13 (2013)' : `Linux ${inv.era}`;
  const plural = (n: number, w: string) => `${n} ${w}${n === 1 ? '' : 's'}`;
  const parts = [
    text({ x: MARGIN, y: MARGIN + 14, 'font-size': 15, 'font-weight': 'bold', fill: INK }, inv.host),
    text(
      {
        x: MARGIN + Math.ceil((inv.host.length + 2) * CHAR_W * 1.25),
        y: MARGIN + 14,
        'font-size': 12,
        fill: MUTED,
      },
      inv.origin,
    ),
    text(
      { x: MARGIN, y: MARGIN + 14 + LINE, 'font-size': 11, fill: MUTED },
      `rules of ${era} · IOMMU ${inv.iommu ? 'on' : 'off'} · ${plural(inv.functions.length, 'function')} · ${plural(inv.groups.length, 'IOMMU group')} · ${plural(domains.length, 'hot-reset domain')}`,
    ),
  ];
  // Legend items flow left to right and wrap at the picture's width.
  let x = MARGIN;
  let y = MARGIN + 14 + 2 * LINE + 4;
  for (const it of items(domains)) {
    const w = 28 + Math.ceil(it.label.length * SMALL_W) + 16;
    if (x + w > Math.max(width, 560) - MARGIN && x > MARGIN) {
      x = MARGIN;
      y += LINE;
    }
    parts.push(
      el(
        'g',
        { class: 'legend-item' },
        it.swatch(x, y),
        text({ x: x + 28, y, 'font-size': 11, fill: INK }, it.label),
      ),
    );
    x += w;
  }
  return { svg: el('g', { class: 'heading' }, ...parts), height: y + 14 };
}
