/**
 * Comparing two host descriptions as descriptions: the order of `functions`, `slots` and
 * `quirks` carries no meaning (model.ts), and absent optional fields equal missing ones. Used to
 * check that a written topology file, an lspci import or a snapshot describes the same host.
 * @module
 */

import { compareBdf, formatBdf } from './bdf.ts';
import type { FunctionDesc, HostDesc, SlotDesc } from './model.ts';

/** A canonical copy: functions by BDF, slots by address then name, quirks sorted and unique, no undefined fields. */
export function normalizeHost(h: HostDesc): HostDesc {
  return {
    name: h.name,
    functions: [...h.functions].sort((a, b) => compareBdf(a.bdf, b.bdf)).map(normalizeFunction),
    slots: [...h.slots].sort(compareSlots).map((s) => ({ ...s })),
  };
}

function compareSlots(a: SlotDesc, b: SlotDesc): number {
  return (
    a.domain - b.domain ||
    a.bus - b.bus ||
    a.device - b.device ||
    (a.name < b.name ? -1 : a.name > b.name ? 1 : 0) ||
    (a.driver < b.driver ? -1 : a.driver > b.driver ? 1 : 0)
  );
}

/** Drops undefined fields recursively (JSON-shaped data only). */
function clean<T>(v: T): T {
  if (Array.isArray(v)) return v.map(clean) as T;
  if (v !== null && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) if (x !== undefined) out[k] = clean(x);
    return out as T;
  }
  return v;
}

export function normalizeFunction(f: FunctionDesc): FunctionDesc {
  const c = clean(f);
  c.bdf = { domain: f.bdf.domain, bus: f.bdf.bus, device: f.bdf.device, fn: f.bdf.fn };
  c.quirks = [...new Set(f.quirks)].sort();
  return c;
}

/** One field that differs; `a`/`b` are the values (undefined = absent). */
export interface DescDifference {
  /** `pci_name()` of the function, `slot <name>` for a slot, or null for the host itself. */
  where: string | null;
  /** Dotted field path, e.g. `pcie.linkWidth`; `function` / `slot` when one side lacks it entirely. */
  field: string;
  a: unknown;
  b: unknown;
}

/** Every field in which two descriptions differ, functions in BDF order. Empty = the same host up to ordering. */
export function compareHostDescs(a: HostDesc, b: HostDesc, opts: { name?: boolean } = {}): DescDifference[] {
  const na = normalizeHost(a);
  const nb = normalizeHost(b);
  const out: DescDifference[] = [];
  if ((opts.name ?? true) && na.name !== nb.name)
    out.push({ where: null, field: 'name', a: na.name, b: nb.name });
  const byName = (h: HostDesc) => new Map(h.functions.map((f) => [formatBdf(f.bdf), f]));
  const fa = byName(na);
  const fb = byName(nb);
  const names = [...new Set([...fa.keys(), ...fb.keys()])].sort();
  for (const n of names) {
    const x = fa.get(n);
    const y = fb.get(n);
    if (!x || !y) {
      out.push({ where: n, field: 'function', a: x !== undefined, b: y !== undefined });
      continue;
    }
    diffValues(x, y, '', (field, va, vb) => out.push({ where: n, field, a: va, b: vb }));
  }
  const slotKey = (s: SlotDesc) => s.name;
  const sa = new Map(na.slots.map((s) => [slotKey(s), s]));
  const sb = new Map(nb.slots.map((s) => [slotKey(s), s]));
  for (const n of [...new Set([...sa.keys(), ...sb.keys()])].sort()) {
    const x = sa.get(n);
    const y = sb.get(n);
    if (!x || !y) out.push({ where: `slot ${n}`, field: 'slot', a: x, b: y });
    else diffValues(x, y, '', (field, va, vb) => out.push({ where: `slot ${n}`, field, a: va, b: vb }));
  }
  return out;
}

function diffValues(
  a: unknown,
  b: unknown,
  path: string,
  report: (field: string, a: unknown, b: unknown) => void,
): void {
  const isObj = (v: unknown): v is Record<string, unknown> =>
    v !== null && typeof v === 'object' && !Array.isArray(v);
  if (isObj(a) && isObj(b)) {
    for (const k of [...new Set([...Object.keys(a), ...Object.keys(b)])].sort())
      diffValues(a[k], b[k], path === '' ? k : `${path}.${k}`, report);
    return;
  }
  if (JSON.stringify(a) !== JSON.stringify(b)) report(path, a, b);
}
