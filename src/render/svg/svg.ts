/**
 * `vfio-reset scan --svg`: the PCI tree as a picture. Each function is a row (indented below its
 * bridge, in the kernel's bus order) with its IOMMU group number, address, name, driver and reset
 * methods, and its blockers and warnings marked; IOMMU groups are filled boxes, hot-reset domains
 * (what one slot or bus reset hits) dashed outlines, and a bridge says which reset it does below it.
 *
 * Pure string building: the same inventory always gives the same bytes. Elements carry `data-bdf`,
 * `data-group` and `data-domain` so the local page can highlight them.
 * @module
 */

import { type Inventory, type InventoryFunction, problemsOf } from '../../host/inventory.ts';
import { isBridgeKind } from '../../pci/class-names.ts';
import { formatProblem } from '../problems.ts';
import type { Domain } from './boxes.ts';
import { type BoxGeom, CARD_H, type Columns, layoutSvg, nameRoom, type RowGeom } from './layout.ts';
import { drawHeading } from './legend.ts';
import {
  DOMAIN_COLOUR,
  domainStyle,
  FONT,
  groupColour,
  INK,
  MUTED,
  SEVERITY_COLOUR,
  VFIO_INK,
} from './style.ts';
import { el, fit, text, title } from './xml.ts';

export interface SvgOptions {
  /** Fold runs of at least this many alike sibling functions (SR-IOV VFs …); false: one row each. Default 8. */
  foldRuns?: number | false;
}

const BASELINE = 13;

const KIND_NAME: Partial<Record<InventoryFunction['kind'], string>> = {
  'root-port': 'root port',
  'upstream-port': 'upstream port',
  'downstream-port': 'downstream port',
  'pcie-to-pci-bridge': 'PCIe-to-PCI bridge',
  'pci-to-pcie-bridge': 'PCI-to-PCIe bridge',
  'pci-bridge': 'PCI bridge',
};

interface Ctx {
  inv: Inventory;
  columns: Columns;
  shortBdf: boolean;
  byBdf: Map<string, InventoryFunction>;
  domainsBelow: Map<string, Domain[]>;
}

const short = (c: Ctx, bdf: string) => (c.shortBdf ? bdf.slice(5) : bdf);

function domainName(c: Ctx, d: Domain): string {
  return d.kind === 'slot' ? `slot ${d.target}` : `bus ${c.shortBdf ? d.target.slice(5) : d.target}`;
}

function nameText(c: Ctx, f: InventoryFunction): string {
  if (!isBridgeKind(f.kind)) return f.label ?? f.className;
  // The slots on the bus below (a conventional bus may hold several, one per device).
  const slots = [
    ...new Map(
      f.children.flatMap((b) => {
        const s = c.byBdf.get(b)?.slot;
        return s ? [[s.name, s] as const] : [];
      }),
    ).values(),
  ];
  const drivers = [...new Set(slots.map((s) => s.driver))];
  const slotText =
    slots.length === 0
      ? null
      : `slot${slots.length === 1 ? '' : 's'} ${slots.map((s) => s.name).join(', ')} ${drivers.join('/')}`;
  return [KIND_NAME[f.kind], slotText, f.linkSpeed].filter((s) => s).join(' · ');
}

function methodsText(f: InventoryFunction): string {
  if (f.resetMethodsSource === 'unknown') return '? (config cut)';
  return f.resetMethods.length === 0 ? '(no reset)' : f.resetMethods.join(' ');
}

function marks(f: InventoryFunction): { blockers: number; warnings: number } {
  const all = problemsOf(f);
  return {
    blockers: all.filter((p) => p.severity === 'blocker').length,
    warnings: all.filter((p) => p.severity === 'warning').length,
  };
}

function fnTitle(c: Ctx, f: InventoryFunction): string {
  const L = [`${f.bdf} · ${f.className}${f.label ? ` · ${f.label}` : ''}`];
  L.push(`IOMMU group ${f.group ?? 'none'} · driver ${f.driver ?? 'none'}`);
  if (!isBridgeKind(f.kind)) {
    const fr = f.functionReset;
    L.push(
      `reset methods: ${methodsText(f)} [${f.resetMethodsSource}]; function reset now: ${fr.ok ? fr.method : `fails (${fr.errno ?? 'ENOTTY'})`}`,
    );
    const h = f.hotReset;
    L.push(
      h
        ? `hot reset: ${h.kind} ${h.target} below ${h.bridge}, ${h.affected.length} function${h.affected.length === 1 ? '' : 's'}`
        : 'hot reset: not possible',
    );
  }
  for (const d of c.domainsBelow.get(f.bdf) ?? [])
    L.push(`resets ${domainName(c, d)} below it: ${d.members.join(', ')}`);
  for (const p of problemsOf(f)) if (p.severity !== 'info') L.push(`${p.severity}: ${formatProblem(p)}`);
  return L.join('\n');
}

function badge(group: number | null, label: string): string {
  if (group === null && label === '') return '';
  const col = group === null ? { stroke: MUTED } : groupColour(group);
  return (
    el('rect', { class: 'badge', x: 3, y: 2, width: 26, height: 14, rx: 3, fill: col.stroke }) +
    text({ x: 16, y: BASELINE - 1, 'text-anchor': 'middle', 'font-size': 10, fill: '#fff' }, label)
  );
}

function markText(x: number, f: InventoryFunction): string {
  const m = marks(f);
  const parts: string[] = [];
  if (m.blockers > 0)
    parts.push(
      text(
        { x, y: BASELINE, fill: SEVERITY_COLOUR.blocker, 'font-weight': 'bold', class: 'mark-blocker' },
        `✗${m.blockers}`,
      ),
    );
  if (m.warnings > 0)
    parts.push(
      text(
        {
          x: x + (m.blockers > 0 ? 26 : 0),
          y: BASELINE,
          fill: SEVERITY_COLOUR.warning,
          'font-weight': 'bold',
          class: 'mark-warning',
        },
        `!${m.warnings}`,
      ),
    );
  return parts.join('');
}

/** Driver, reset methods (or, on a bridge, the reset below it) and marks: the fixed columns. */
function columnsText(c: Ctx, g: RowGeom, f: InventoryFunction): string {
  const col = c.columns;
  const parts = [
    text(
      {
        x: col.driver - g.x,
        y: BASELINE,
        class: 'driver',
        fill: f.driver === 'vfio-pci' ? VFIO_INK : f.driver ? INK : MUTED,
        'font-weight': f.driver === 'vfio-pci' ? 'bold' : null,
      },
      fit(f.driver ?? '—', 14),
    ),
  ];
  const below = c.domainsBelow.get(f.bdf) ?? [];
  if (below.length > 0) {
    let x = col.methods - g.x;
    for (const d of below) {
      const t = `⇣ ${domainName(c, d)}`;
      parts.push(
        text(
          { x, y: BASELINE, class: 'domain-tag', 'data-domain': d.key, fill: DOMAIN_COLOUR[domainStyle(d)] },
          t,
        ),
      );
      x += Math.ceil((t.length + 1) * 7.25);
    }
  } else if (!isBridgeKind(f.kind)) {
    parts.push(
      text(
        {
          x: col.methods - g.x,
          y: BASELINE,
          class: 'methods',
          fill: f.functionReset.ok ? INK : SEVERITY_COLOUR.warning,
        },
        fit(methodsText(f), 17),
      ),
    );
  }
  parts.push(markText(col.mark - g.x, f));
  return parts.join('');
}

function card(c: Ctx, g: RowGeom, attrs: Record<string, string | null>, tip: string, ...body: string[]) {
  return el(
    'g',
    { ...attrs, transform: `translate(${g.x},${g.y})` },
    title(tip),
    el('rect', {
      class: 'card',
      width: c.columns.right - g.x,
      height: CARD_H,
      rx: 3,
      fill: '#ffffff',
      'fill-opacity': 0,
    }),
    ...body,
  );
}

function drawRow(c: Ctx, g: RowGeom): string {
  const n = g.row.node;
  const col = c.columns;
  const room = nameRoom(g, col);
  if (n.kind === 'bus')
    return el(
      'g',
      { class: 'bus', 'data-bus': n.bus, transform: `translate(${g.x},${g.y})` },
      text({ x: 0, y: BASELINE, 'font-weight': 'bold', fill: INK }, `root bus ${n.bus}`),
      text(
        { x: Math.ceil(18 * 7.25), y: BASELINE, fill: MUTED },
        'no bridge above it: functions here have no hot reset',
      ),
    );
  if (n.kind === 'fn') {
    const f = n.f;
    return card(
      c,
      g,
      {
        class: isBridgeKind(f.kind) ? 'fn bridge' : 'fn',
        'data-bdf': f.bdf,
        'data-group': f.group?.toString() ?? null,
      },
      fnTitle(c, f),
      badge(f.group, f.group === null ? '' : String(f.group)),
      text({ x: col.bdfOffset, y: BASELINE, 'font-weight': 'bold', fill: INK }, short(c, f.bdf)),
      text(
        { x: col.nameOffset, y: BASELINE, fill: isBridgeKind(f.kind) ? MUTED : INK, class: 'name' },
        fit(nameText(c, f), room),
      ),
      columnsText(c, g, f),
    );
  }
  return drawRun(c, g, n.members, room);
}

/** Counts of a folded run's values, most common first: `vfio-pci 40, mlx5_core 15`. */
function tally(values: string[]): string {
  const n = new Map<string, number>();
  for (const v of values) n.set(v, (n.get(v) ?? 0) + 1);
  return [...n.entries()]
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
    .map(([v, k]) => `${v} ${k}`)
    .join(', ');
}

function drawRun(c: Ctx, g: RowGeom, m: InventoryFunction[], room: number): string {
  const col = c.columns;
  const first = m[0]!;
  const groups = [...new Set(m.map((f) => f.group))];
  const oneGroup = groups.length === 1 ? (groups[0] ?? null) : null;
  const nums = groups.filter((x): x is number => x !== null).sort((a, b) => a - b);
  const drivers = [...new Set(m.map((f) => f.driver ?? '—'))];
  const methods = [...new Set(m.map(methodsText))];
  const parts = [`+${m.length} alike: ${short(c, first.bdf)} … ${short(c, m[m.length - 1]!.bdf)}`];
  if (oneGroup === null && nums.length > 0) parts.push(`groups ${nums[0]}…${nums[nums.length - 1]}`);
  const withBlockers = m.filter((f) => marks(f).blockers > 0).length;
  const withWarnings = m.filter((f) => marks(f).warnings > 0).length;
  const tip = [
    `${m.length} more ${first.className} functions like the ones above, folded into one row`,
    `drivers: ${tally(m.map((f) => f.driver ?? 'none'))}`,
    `reset methods: ${tally(m.map(methodsText))}`,
    `${withBlockers} with blockers, ${withWarnings} with warnings`,
    ...m.map((f) => `${f.bdf} group ${f.group ?? 'none'} driver ${f.driver ?? 'none'}`),
  ].join('\n');
  const mark = (x: number, n: number, glyph: string, colour: string, cls: string) =>
    n > 0 ? text({ x, y: BASELINE, fill: colour, 'font-weight': 'bold', class: cls }, `${glyph}…`) : '';
  return card(
    c,
    g,
    {
      class: 'fn run',
      'data-bdfs': m.map((f) => f.bdf).join(' '),
      'data-group': oneGroup?.toString() ?? null,
    },
    tip,
    badge(oneGroup, oneGroup === null ? `×${m.length}` : String(oneGroup)),
    text({ x: col.bdfOffset, y: BASELINE, fill: MUTED, class: 'name' }, fit(parts.join(' · '), room + 8)),
    text(
      { x: col.driver - g.x, y: BASELINE, class: 'driver', fill: MUTED },
      drivers.length === 1 ? fit(drivers[0]!, 14) : `${drivers.length} drivers`,
    ),
    text(
      { x: col.methods - g.x, y: BASELINE, class: 'methods', fill: MUTED },
      methods.length === 1 ? fit(methods[0]!, 17) : 'mixed',
    ),
    mark(col.mark - g.x, withBlockers, '✗', SEVERITY_COLOUR.blocker, 'mark-blocker'),
    mark(col.mark - g.x + 26, withWarnings, '!', SEVERITY_COLOUR.warning, 'mark-warning'),
  );
}

function drawBox(c: Ctx, b: BoxGeom): string {
  const o = b.box.owner;
  const part = b.box.pieces > 1 ? ` (part ${b.box.piece} of ${b.box.pieces})` : '';
  const geo = { x: b.x, y: b.y, width: b.w, height: b.h };
  if (o.kind === 'group') {
    const col = groupColour(o.group);
    const members = c.inv.groups.find((g) => g.id === o.group)?.members ?? [];
    return el(
      'rect',
      { class: 'group-box', 'data-group': o.group, ...geo, rx: 5, fill: col.fill, stroke: col.stroke },
      title(
        `IOMMU group ${o.group}${part}: ${members.map((m) => `${m.bdf} (${m.driver ?? 'no driver'})`).join(', ')}`,
      ),
    );
  }
  const d = o.domain;
  const style = domainStyle(d);
  return el(
    'rect',
    {
      class: `domain domain-${style}`,
      'data-domain': d.key,
      ...geo,
      rx: 7,
      fill: 'none',
      stroke: DOMAIN_COLOUR[style],
      'stroke-width': 1.5,
      'stroke-dasharray': '6 3',
    },
    title(
      `hot reset of ${domainName(c, d)} below ${d.bridge}${part}${d.kind === 'slot' ? ' (by the hotplug driver)' : ' (secondary bus reset)'} resets: ${d.members.join(', ')}${d.hotplugHazard ? '\nthe port is hotplug capable but its slot driver has no reset_slot: the link drop looks like a surprise removal' : ''}`,
    ),
  );
}

export function renderTopologySvg(inv: Inventory, opts: SvgOptions = {}): string {
  const lay = layoutSvg(inv, opts.foldRuns === undefined ? {} : { foldRuns: opts.foldRuns });
  const domainsBelow = new Map<string, Domain[]>();
  for (const d of lay.domains) domainsBelow.set(d.bridge, [...(domainsBelow.get(d.bridge) ?? []), d]);
  const c: Ctx = {
    inv,
    columns: lay.columns,
    shortBdf: lay.shortBdf,
    byBdf: new Map(inv.functions.map((f) => [f.bdf, f])),
    domainsBelow,
  };
  const heading = drawHeading(inv, lay.domains, lay.width);
  const width = Math.max(lay.width, 560);
  const height = heading.height + lay.height;
  return `${el(
    'svg',
    {
      xmlns: 'http://www.w3.org/2000/svg',
      class: 'vfio-reset-topology',
      width,
      height,
      viewBox: `0 0 ${width} ${height}`,
      'font-family': FONT,
      'font-size': 12,
      role: 'img',
      'data-host': inv.host,
    },
    title(
      `PCI topology of ${inv.host} (${inv.origin}): IOMMU groups, hot-reset domains, drivers and reset methods`,
    ),
    el('rect', { class: 'background', width, height, fill: '#ffffff' }),
    heading.svg,
    el(
      'g',
      { class: 'tree', transform: `translate(0,${heading.height})` },
      el('g', { class: 'boxes' }, ...lay.boxes.map((b) => drawBox(c, b))),
      el('g', { class: 'rows' }, ...lay.rows.map((g) => drawRow(c, g))),
    ),
  )}\n`;
}
