/**
 * JSON documents of the CLI. Each is one object with `schemaVersion` and `command`; field names
 * and shapes are documented in the README and stable within a schema version.
 * @module
 */

import type { Inventory, InventoryFunction } from '../host/inventory.ts';
import { formatProblem } from './problems.ts';

export const SCHEMA_VERSION = 1;

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
    hotReset: f.hotReset,
    slot: f.slot,
    linkSpeed: f.linkSpeed,
    problems: f.problems.map((p) => ({ ...p, message: formatProblem(p) })),
  };
}

export function scanDocument(inv: Inventory) {
  return {
    schemaVersion: SCHEMA_VERSION,
    command: 'scan',
    ok: true,
    host: inv.host,
    origin: inv.origin,
    era: inv.era,
    iommu: inv.iommu,
    functions: inv.functions.map(fnJson),
    iommuGroups: inv.groups,
    slots: inv.slots,
    warnings: inv.warnings,
  };
}

export function infoDocument(inv: Inventory, f: InventoryFunction) {
  return {
    schemaVersion: SCHEMA_VERSION,
    command: 'info',
    ok: true,
    host: inv.host,
    origin: inv.origin,
    era: inv.era,
    iommu: inv.iommu,
    function: fnJson(f),
    iommuGroupMembers: inv.groups.find((g) => g.id === f.group)?.members ?? [],
    mustOwn: f.hotReset ? { groups: f.hotReset.groups, bindToVfio: f.hotReset.bindToVfio } : null,
  };
}

export function errorDocument(command: string, code: string, message: string) {
  return { schemaVersion: SCHEMA_VERSION, command, ok: false, error: { code, message } };
}
