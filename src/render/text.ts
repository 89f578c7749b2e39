/**
 * Human text for `scan` and `info`: a tree like `lspci -t` with group, driver, reset methods
 * and hot-reset scope per function, then the problems in the way. Pure string building.
 * @module
 */

import { hotResetProblemsOf, type Inventory, type InventoryFunction, problemsOf } from '../host/inventory.ts';
import { bySeverity, isVfioDriver } from '../host/problems.ts';
import { deviceTitle, type Namer, subsystemTitle } from '../names/namer.ts';
import { isBridgeKind } from '../pci/class-names.ts';
import { formatDomainProblem, formatProblem, SEVERITY_MARK } from './problems.ts';
import { formatTable } from './table.ts';

const hex4 = (n: number) => n.toString(16).padStart(4, '0');

function eraText(inv: Inventory): string {
  return inv.era === '2013' ? 'Linux 3.13 (2013)' : `Linux ${inv.era}`;
}

function hotResetCell(f: InventoryFunction): string {
  if (isBridgeKind(f.kind)) return '';
  if (!f.hotReset) {
    const p = f.problems.find((x) => x.code === 'no-hot-reset');
    return p && p.code === 'no-hot-reset' ? `none (${p.reason.code})` : 'none';
  }
  const h = f.hotReset;
  const blocked = hotResetProblemsOf(f).some(
    (p) => p.code === 'scope-not-vfio' || p.code === 'scope-has-bridge',
  );
  const n = h.affected.length;
  // A bus of VFs spans dozens of groups: past a few, the count (`info` lists them).
  const groups =
    h.groups.length > 4
      ? `${h.groups.length} groups`
      : `group${h.groups.length === 1 ? '' : 's'} ${h.groups.join(',') || '-'}`;
  return `${h.kind} ${h.target}: ${n} fn${n === 1 ? '' : 's'}, ${groups}${blocked ? ' (blocked)' : ''}`;
}

function methodsCell(f: InventoryFunction): string {
  if (f.resetMethodsSource === 'unknown') return '?';
  const list = f.resetMethods.length === 0 ? '-' : f.resetMethods.join(' ');
  return f.resetMethodsSource === 'computed' ? `${list} (computed)` : list;
}

/** The tree rows in the kernel's bus order, with box-drawing prefixes in the BDF column. */
function treeRows(inv: Inventory): { f: InventoryFunction; prefix: string }[] {
  const byBdf = new Map(inv.functions.map((f) => [f.bdf, f]));
  const out: { f: InventoryFunction; prefix: string }[] = [];
  const visit = (f: InventoryFunction, lead: string, last: boolean, top: boolean) => {
    out.push({ f, prefix: top ? '' : `${lead}${last ? '└─ ' : '├─ '}` });
    const kids = f.children.map((c) => byBdf.get(c)!).filter(Boolean);
    const childLead = top ? '' : `${lead}${last ? '   ' : '│  '}`;
    for (const [i, k] of kids.entries()) visit(k, childLead, i === kids.length - 1, false);
  };
  for (const f of inv.functions) if (f.parent === null) visit(f, '', true, true);
  return out;
}

/** `namer`: device names (pci.ids) in a last column; without it the table has none. */
export function renderScan(inv: Inventory, namer?: Namer): string {
  const lines: string[] = [];
  lines.push(
    `Host ${inv.host} (${inv.origin}) · IOMMU ${inv.iommu ? 'on' : 'off'} · rules of ${eraText(inv)}`,
  );
  lines.push('');
  const rows = treeRows(inv).map(({ f, prefix }) => [
    prefix + f.bdf,
    `${hex4(f.vendor)}:${hex4(f.device)}`,
    f.className,
    f.group === null ? '-' : String(f.group),
    f.driver ?? '-',
    methodsCell(f),
    hotResetCell(f),
    ...(namer ? [deviceTitle(namer, f)] : []),
  ]);
  const header = ['FUNCTION', 'ID', 'CLASS', 'GROUP', 'DRIVER', 'RESET METHODS', 'HOT RESET'];
  lines.push(formatTable(namer ? [...header, 'NAME'] : header, rows));

  // Problems matter for functions handed to VFIO; any other function's are one `info` away. A reset
  // domain's problems hold for each of its functions, so they are said once, of the domain.
  const vfio = inv.functions.filter((f) => isVfioDriver(f.driver));
  const vfioDomains = new Set(vfio.map((f) => f.hotReset?.id));
  const shown = [
    ...vfio.flatMap((f) =>
      f.problems
        .filter((p) => p.severity !== 'info')
        .map((p) => ({ severity: p.severity, text: formatProblem(p) })),
    ),
    ...inv.domains
      .filter((d) => vfioDomains.has(d.id))
      .flatMap((d) =>
        d.problems
          .filter((p) => p.severity !== 'info')
          .map((p) => ({ severity: p.severity, text: formatDomainProblem(d, p) })),
      ),
  ].sort(bySeverity);
  const plural = (n: number, w: string) => `${n} ${w}${n === 1 ? '' : 's'}`;
  lines.push('');
  if (vfio.length === 0) lines.push('No function is bound to vfio-pci.');
  else if (shown.length === 0)
    lines.push(`No blockers or warnings for the ${plural(vfio.length, 'function')} bound to vfio-pci.`);
  else {
    const blockers = shown.filter((p) => p.severity === 'blocker').length;
    lines.push(
      `For the functions bound to vfio-pci: ${plural(blockers, 'blocker')}, ${plural(shown.length - blockers, 'warning')}:`,
    );
    for (const p of shown) lines.push(`  ${SEVERITY_MARK[p.severity]} ${p.text}`);
  }
  lines.push(
    "'vfio-reset info <bdf>' explains any function: reset methods, hot-reset scope, what must be owned.",
  );
  if (inv.warnings.length > 0) {
    lines.push('');
    for (const w of inv.warnings) lines.push(`note: ${w}`);
  }
  return `${lines.join('\n')}\n`;
}

export function renderInfo(inv: Inventory, f: InventoryFunction, namer?: Namer): string {
  const L: string[] = [];
  const kv = (k: string, v: string) => L.push(`  ${k.padEnd(15)}${v}`);
  L.push(`${f.bdf}  ${hex4(f.vendor)}:${hex4(f.device)}  ${f.className}${f.label ? `  "${f.label}"` : ''}`);
  if (namer) {
    kv('name', deviceTitle(namer, f));
    const sub = subsystemTitle(namer, f);
    if (sub) kv('subsystem', sub);
  }
  kv('kind', f.kind);
  kv('driver', f.driver ?? 'none');
  if (f.group === null) kv('IOMMU group', 'none');
  else {
    const members = inv.groups.find((g) => g.id === f.group)?.members ?? [];
    kv(
      'IOMMU group',
      `${f.group} (${f.groupSource}): ${members.map((m) => `${m.bdf} ${m.driver ?? 'no driver'}`).join(', ')}`,
    );
  }
  if (f.slot)
    kv(
      'slot',
      `${f.slot.name} (${f.slot.driver}${inv.slots.find((s) => s.name === f.slot!.name)?.resetSlot ? ', can reset the slot' : ', no reset_slot'})`,
    );
  if (f.linkSpeed) kv('link', f.linkSpeed);
  kv(
    'reset methods',
    `${f.resetMethods.length === 0 ? '(none)' : f.resetMethods.join(' ')}  [${f.resetMethodsSource}]`,
  );
  const fr = f.functionReset;
  kv(
    'function reset',
    fr.ok
      ? `works now, by ${fr.method}${fr.via ? ` (${fr.via} path)` : ''}`
      : `fails now with ${fr.errno ?? 'ENOTTY'}${fr.method ? ` (${fr.method})` : ''}`,
  );
  if (f.hotReset) {
    const h = f.hotReset;
    kv(
      'hot reset',
      `${h.kind} reset of ${h.kind === 'slot' ? `slot ${h.target}` : `bus ${h.target}`} below ${h.bridge}; resets ${h.affected.length} function${h.affected.length === 1 ? '' : 's'}:`,
    );
    const rows = h.affected.map((a) => [
      `    ${a.bdf}`,
      `group ${a.group ?? '-'}`,
      a.driver ?? 'no driver',
      a.bdf === f.bdf ? '(this function)' : '',
    ]);
    L.push(formatTable(['', '', '', ''], rows).split('\n').slice(1).join('\n'));
    const notVfio = h.bindToVfio;
    const own = `${h.groups.length === 0 ? 'no groups' : `group${h.groups.length === 1 ? '' : 's'} ${h.groups.join(', ')}`} (group mode: ${h.groups.length} fd${h.groups.length === 1 ? '' : 's'})`;
    kv(
      'must own',
      notVfio.length === 0
        ? own
        : `${own}, after binding to vfio-pci: ${notVfio.map((a) => `${a.bdf} (now ${a.driver ?? 'no driver'})`).join(', ')}`,
    );
  } else if (!isBridgeKind(f.kind)) {
    kv('hot reset', 'not possible');
  }
  const problems = problemsOf(f);
  if (problems.length > 0) {
    L.push('  problems');
    for (const p of problems) L.push(`    ${SEVERITY_MARK[p.severity]} ${formatProblem(p)}`);
  }
  return `${L.join('\n')}\n`;
}
