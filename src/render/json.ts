/**
 * JSON documents of the CLI. Each is one object with `schemaVersion` and `command`; field names
 * and shapes are documented in the README and stable within a schema version.
 * @module
 */

import {
  hotResetProblemsOf,
  type Inventory,
  type InventoryFunction,
  type ResetDomain,
} from '../host/inventory.ts';
import { formatDomainProblem, formatProblem } from './problems.ts';

export const SCHEMA_VERSION = 1;

/**
 * Version 2 of `scan`, `info` and `reset` (whose dry run carries a function): a function
 * names its reset domain (`resetDomain`), and each domain — its affected functions and the problems
 * a hot reset there meets — is written once. In version 1 every function repeated its domain and its
 * domain's problems, which made a scan grow with the square of the functions on a bus (66 MiB for
 * 4,096 functions where 64 VFs share one).
 */
export const INVENTORY_SCHEMA_VERSION = 2;

const hex = (n: number, w: number) => `0x${n.toString(16).padStart(w, '0')}`;

function fnJson(f: InventoryFunction) {
  return {
    bdf: f.bdf,
    vendor: hex(f.vendor, 4),
    device: hex(f.device, 4),
    class: hex(f.classCode, 6),
    className: f.className,
    kind: f.kind,
    label: f.label,
    parent: f.parent,
    children: f.children,
    driver: f.driver,
    iommuGroup: f.group,
    iommuGroupSource: f.groupSource,
    resetMethods: f.resetMethods,
    resetMethodsSource: f.resetMethodsSource,
    functionReset: f.functionReset,
    resetDomain: f.hotReset?.id ?? null,
    slot: f.slot,
    linkSpeed: f.linkSpeed,
    // Its own; the domain's problems are written with the domain.
    problems: f.problems.map((p) => ({ ...p, message: formatProblem(p) })),
  };
}

function domainJson(d: ResetDomain) {
  return { ...d, problems: d.problems.map((p) => ({ ...p, message: formatDomainProblem(d, p) })) };
}

/**
 * One function as `info` and `reset` show it: the function, its reset domain written out, and the
 * domain's problems that hold for a hot reset of this function, said of it (`hotResetProblemsOf`: a
 * `scope-not-vfio` naming the function itself is its state, not a blocker).
 */
export function functionParts(f: InventoryFunction) {
  return {
    function: fnJson(f),
    resetDomain: f.hotReset ? domainJson(f.hotReset) : null,
    hotResetProblems: hotResetProblemsOf(f).map((p) => ({ ...p, message: formatProblem(p) })),
  };
}

export function scanDocument(inv: Inventory) {
  return {
    schemaVersion: INVENTORY_SCHEMA_VERSION,
    command: 'scan',
    ok: true,
    host: inv.host,
    origin: inv.origin,
    era: inv.era,
    iommu: inv.iommu,
    functions: inv.functions.map(fnJson),
    resetDomains: inv.domains.map(domainJson),
    iommuGroups: inv.groups,
    slots: inv.slots,
    warnings: inv.warnings,
  };
}

export function infoDocument(inv: Inventory, f: InventoryFunction) {
  return {
    schemaVersion: INVENTORY_SCHEMA_VERSION,
    command: 'info',
    ok: true,
    host: inv.host,
    origin: inv.origin,
    era: inv.era,
    iommu: inv.iommu,
    ...functionParts(f),
    iommuGroupMembers: inv.groups.find((g) => g.id === f.group)?.members ?? [],
    mustOwn: f.hotReset ? { groups: f.hotReset.groups, bindToVfio: f.hotReset.bindToVfio } : null,
  };
}

export function errorDocument(command: string, code: string, message: string) {
  return { schemaVersion: SCHEMA_VERSION, command, ok: false, error: { code, message } };
}
