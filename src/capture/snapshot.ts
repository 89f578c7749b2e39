/**
 * Capture a host, simulate it: read a host through any `SysfsReader`, write it as a topology file,
 * load that file into the simulated kernel and compare what the simulator computes with what the
 * host's own sysfs says — IOMMU group membership (as partitions) and ids, `reset_method` lines, the
 * presence of `reset` / `reset_method`, the bound driver. Each difference is data; an empty list
 * means the model reproduces this host.
 *
 * Both sides are read by the same `readSysfsHost`, so only what the kernels computed can differ.
 * @module
 */

import { readSysfsHost, type SysfsHost, type SysfsObservation } from '../host/read-sysfs.ts';
import type { SysfsReader } from '../kernel/sysfs.ts';
import { formatBdf } from '../pci/bdf.ts';
import type { Era } from '../pci/era.ts';
import { compareHostDescs } from '../pci/host-compare.ts';
import type { HostDesc } from '../pci/model.ts';
import { SimKernel } from '../sim/kernel.ts';
import { parseTopology } from '../topology/load.ts';
import { type TopologyLoss, writeTopology } from '../topology/write.ts';

export interface SnapshotOptions {
  /** Kernel rules the simulator follows (default '6.1'). */
  era: Era;
  /** The host's name in the file (default: the reader's origin). */
  name: string;
  /** Where it was captured, for the header comment (default: the reader's origin). */
  from: string;
  /** When, as the caller words it (e.g. an ISO time); nothing here reads a clock. */
  at: string;
  /** The file's `description:`. */
  description: string;
}

/** What differs, in the order they are reported for one function. */
export const SNAPSHOT_DIFFERENCE_KINDS = [
  'function',
  'description',
  'group',
  'group-id',
  'reset-method-file',
  'reset-methods',
  'reset-file',
  'driver',
] as const;
export type SnapshotDifferenceKind = (typeof SNAPSHOT_DIFFERENCE_KINDS)[number];

/**
 * One difference between the host (`host`) and the simulation of its snapshot (`simulated`):
 * - `function`: present on one side only (true/false);
 * - `description`: a field the topology file could not carry (`field` names it);
 * - `group`: the other members of the IOMMU group differ — sorted BDFs of the whole group, or null
 *   for none (partitions, so renumbered groups are not a difference);
 * - `group-id`: the same function's group number differs (both have one);
 * - `reset-method-file` / `reset-file`: whether the attribute exists;
 * - `reset-methods`: the `reset_method` lines, where both have the file;
 * - `driver`: the bound driver (the simulator refuses some binds, e.g. vfio-pci without a group).
 */
export interface SnapshotDifference {
  /** `pci_name()` of the function; for `description`, `slot <name>` or null for the host. */
  bdf: string | null;
  what: SnapshotDifferenceKind;
  host: unknown;
  simulated: unknown;
  /** For `description`: the field, e.g. `pcie.linkSpeedsVector`. */
  field?: string;
}

export interface Snapshot {
  /** The topology file: a header comment (where, when, what was inferred), then the host. */
  yaml: string;
  /** The host as captured (what the file was written from). */
  desc: HostDesc;
  differences: SnapshotDifference[];
  /** What the file cannot say about this host (also listed in its header). */
  losses: TopologyLoss[];
  /** Oddities met reading the host, and what was inferred. */
  warnings: string[];
}

export function snapshotHost(sys: SysfsReader, opts: Partial<SnapshotOptions> = {}): Snapshot {
  const era = opts.era ?? '6.1';
  const read = readSysfsHost(sys, opts.name ?? sys.origin);
  const warnings = [...read.warnings];
  const desc = captured(read, warnings);

  const header = [
    `Captured from ${opts.from ?? sys.origin}${opts.at !== undefined ? ` at ${opts.at}` : ''} by vfio-reset snapshot.`,
    'IOMMU groups and reset methods are not written here: the simulator computes them from this file.',
  ];
  const partial = [...read.observed].filter(([, o]) => o.configBytes > 0 && !o.capsKnown).map(([n]) => n);
  if (partial.length > 0) {
    const w = `config space of ${partial.length} function(s) was cut to 64 bytes (not read as root): their capabilities are missing from this file (${partial.slice(0, 4).join(', ')}${partial.length > 4 ? ' …' : ''})`;
    warnings.push(w);
    header.push(`Warning: ${w}.`);
  }
  const { yaml, losses } = writeTopology(desc, {
    header,
    ...(opts.description !== undefined ? { description: opts.description } : {}),
  });

  const fromFile = parseTopology(yaml, '<snapshot>');
  const differences: SnapshotDifference[] = compareHostDescs(desc, fromFile).map((d) => ({
    bdf: d.where,
    what: 'description',
    field: d.field,
    host: d.a,
    simulated: d.b,
  }));
  const kernel = new SimKernel(fromFile, { era, iommu: read.iommuOn });
  const simulated = readSysfsHost(kernel.sysfs, fromFile.name);
  differences.push(...compareObservations(read, simulated));
  return { yaml, desc, differences: sortDifferences(differences), losses, warnings };
}

/**
 * What sysfs says that the model takes as input: `acpi` in a `reset_method` list proves firmware
 * `_RST` (the kernel lists only methods whose probe passed). Its absence proves nothing (the list
 * can be narrowed by writing to it), and quirk flags cannot be seen at all.
 */
function captured(read: SysfsHost, warnings: string[]): HostDesc {
  const functions = read.desc.functions.map((f) => {
    const obs = read.observed.get(formatBdf(f.bdf));
    if (!f.acpiReset && obs?.resetMethods?.includes('acpi')) {
      warnings.push(
        `${formatBdf(f.bdf)}: reset_method lists acpi, so firmware _RST is present (acpi_reset: true)`,
      );
      return { ...f, acpiReset: true };
    }
    return f;
  });
  return { ...read.desc, functions };
}

/** Differences between what two sysfs trees say the kernel computed (groups, reset attributes, drivers). */
export function compareObservations(host: SysfsHost, simulated: SysfsHost): SnapshotDifference[] {
  const out: SnapshotDifference[] = [];
  const driverOf = (h: SysfsHost) => new Map(h.desc.functions.map((f) => [formatBdf(f.bdf), f.driver]));
  const hostDrivers = driverOf(host);
  const simDrivers = driverOf(simulated);
  const hostGroups = partition(host.observed);
  const simGroups = partition(simulated.observed);
  const names = [...new Set([...host.observed.keys(), ...simulated.observed.keys()])].sort();
  for (const bdf of names) {
    const h = host.observed.get(bdf);
    const s = simulated.observed.get(bdf);
    if (!h || !s) {
      out.push({ bdf, what: 'function', host: h !== undefined, simulated: s !== undefined });
      continue;
    }
    const hm = hostGroups.get(bdf) ?? null;
    const sm = simGroups.get(bdf) ?? null;
    if (JSON.stringify(hm) !== JSON.stringify(sm)) out.push({ bdf, what: 'group', host: hm, simulated: sm });
    if (h.iommuGroup !== null && s.iommuGroup !== null && h.iommuGroup !== s.iommuGroup)
      out.push({ bdf, what: 'group-id', host: h.iommuGroup, simulated: s.iommuGroup });
    const hf = h.resetMethods !== null;
    const sf = s.resetMethods !== null;
    if (hf !== sf) out.push({ bdf, what: 'reset-method-file', host: hf, simulated: sf });
    else if (hf && h.resetMethods!.join(' ') !== s.resetMethods!.join(' '))
      out.push({ bdf, what: 'reset-methods', host: h.resetMethods, simulated: s.resetMethods });
    if (h.hasResetFile !== s.hasResetFile)
      out.push({ bdf, what: 'reset-file', host: h.hasResetFile, simulated: s.hasResetFile });
    const hd = hostDrivers.get(bdf) ?? null;
    const sd = simDrivers.get(bdf) ?? null;
    if (hd !== sd) out.push({ bdf, what: 'driver', host: hd, simulated: sd });
  }
  return out;
}

/** Each function's whole group as sorted BDFs (itself included); functions without a group are absent. */
function partition(observed: ReadonlyMap<string, SysfsObservation>): Map<string, string[]> {
  const byId = new Map<number, string[]>();
  for (const [bdf, o] of observed) {
    if (o.iommuGroup === null) continue;
    byId.set(o.iommuGroup, [...(byId.get(o.iommuGroup) ?? []), bdf]);
  }
  const out = new Map<string, string[]>();
  for (const members of byId.values()) {
    members.sort();
    for (const m of members) out.set(m, members);
  }
  return out;
}

function sortDifferences(ds: SnapshotDifference[]): SnapshotDifference[] {
  const rank = (k: SnapshotDifferenceKind) => SNAPSHOT_DIFFERENCE_KINDS.indexOf(k);
  const key = (d: SnapshotDifference) => d.bdf ?? '';
  return ds
    .map((d, i) => ({ d, i }))
    .sort(
      (a, b) =>
        (key(a.d) < key(b.d) ? -1 : key(a.d) > key(b.d) ? 1 : 0) ||
        rank(a.d.what) - rank(b.d.what) ||
        a.i - b.i,
    )
    .map((x) => x.d);
}
