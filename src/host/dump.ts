/**
 * Writes a sysfs dump: the subset of sysfs that vfio-reset reads, copied file for file with the
 * symlinks kept as relative links, so `--host linux:<dir>` (and the simulator) read the dump as
 * they read `/sys`. Nothing is written outside the target directory, and an existing non-empty
 * directory is refused rather than mixed into.
 * @module
 */

import { existsSync, mkdirSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { resolveLink, type SysfsReader } from '../kernel/sysfs.ts';

/**
 * Device attributes copied when present (what the inventory and simulator read). `modalias` states
 * the ids and class again, and readers take them from it (one file instead of five): whoever edits
 * a dump's `vendor`, `device`, `subsystem_*` or `class` edits its `modalias` too, or deletes it.
 */
export const DEVICE_ATTRS = [
  'vendor',
  'device',
  'subsystem_vendor',
  'subsystem_device',
  'class',
  'revision',
  'modalias',
  'config',
  'resource',
  'driver_override',
  'reset_method',
  'reset',
  'max_link_speed',
  'max_link_width',
  'current_link_speed',
  'current_link_width',
  'sriov_totalvfs',
  'sriov_numvfs',
  'd3cold_allowed',
  'power_state',
] as const;

const DEVICE_LINKS = ['driver', 'iommu_group', 'physfn'] as const;

export interface DumpSummary {
  dir: string;
  functions: number;
  files: number;
  links: number;
  /** Functions whose `config` was shorter than 256 bytes (unprivileged read: capabilities unknown). */
  partialConfig: string[];
}

export class DumpError extends Error {
  readonly code = 'VFIO_RESET_E_DUMP';
  constructor(message: string) {
    super(message);
    this.name = 'DumpError';
  }
}

export function writeSysfsDump(sys: SysfsReader, outDir: string): DumpSummary {
  if (existsSync(outDir) && readdirSync(outDir).length > 0) {
    throw new DumpError(`${outDir}: directory is not empty; choose a new or empty directory for the dump`);
  }
  if (sys.kind('bus/pci/devices') === null) {
    throw new DumpError(`${sys.origin}/bus/pci/devices: not found; nothing to dump`);
  }
  const summary: DumpSummary = { dir: outDir, functions: 0, files: 0, links: 0, partialConfig: [] };
  const written = new Set<string>();
  const copyFile = (path: string) => {
    if (written.has(path) || sys.kind(path) !== 'file') return;
    const target = join(outDir, path);
    mkdirSync(dirname(target), { recursive: true });
    let data: Uint8Array;
    try {
      data = sys.readBytes(path);
    } catch {
      return; // write-only attributes (`reset`) and unreadable ones: keep their presence only
    }
    writeFileSync(target, data);
    written.add(path);
    summary.files++;
  };
  const touch = (path: string) => {
    const target = join(outDir, path);
    mkdirSync(dirname(target), { recursive: true });
    if (!existsSync(target)) writeFileSync(target, '');
    written.add(path);
    summary.files++;
  };
  const copyLink = (path: string): string | null => {
    if (sys.kind(path) !== 'link') return null;
    const t = sys.readLink(path);
    const target = join(outDir, path);
    mkdirSync(dirname(target), { recursive: true });
    if (!written.has(path)) {
      symlinkSync(t, target);
      written.add(path);
      summary.links++;
    }
    return resolveLink(path, t);
  };
  const mkdir = (path: string) => mkdirSync(join(outDir, path), { recursive: true });

  mkdir('bus/pci/devices');
  for (const name of sys.list('bus/pci/devices')) {
    const dev = copyLink(`bus/pci/devices/${name}`) ?? `bus/pci/devices/${name}`;
    mkdir(dev);
    summary.functions++;
    for (const a of DEVICE_ATTRS) {
      const p = `${dev}/${a}`;
      if (sys.kind(p) !== 'file') continue;
      if (a === 'reset') touch(p);
      else copyFile(p);
      if (a === 'config' && sys.readBytes(p).length < 256) summary.partialConfig.push(name);
    }
    for (const l of DEVICE_LINKS) {
      const resolved = copyLink(`${dev}/${l}`);
      if (resolved) mkdir(resolved);
    }
    if (sys.kind(`${dev}/pci_bus`) === 'dir')
      for (const b of sys.list(`${dev}/pci_bus`)) mkdir(`${dev}/pci_bus/${b}`);
  }

  if (sys.kind('kernel/iommu_groups') === 'dir') {
    mkdir('kernel/iommu_groups');
    for (const g of sys.list('kernel/iommu_groups')) {
      copyFile(`kernel/iommu_groups/${g}/type`);
      const devs = `kernel/iommu_groups/${g}/devices`;
      if (sys.kind(devs) !== 'dir') continue;
      mkdir(devs);
      for (const d of sys.list(devs)) copyLink(`${devs}/${d}`);
    }
  }

  if (sys.kind('bus/pci/slots') === 'dir') {
    mkdir('bus/pci/slots');
    for (const s of sys.list('bus/pci/slots')) {
      copyFile(`bus/pci/slots/${s}/address`);
      const mod = copyLink(`bus/pci/slots/${s}/module`);
      if (mod) mkdir(mod);
    }
  }
  for (const d of sys.kind('bus/pci/drivers') === 'dir' ? sys.list('bus/pci/drivers') : []) {
    mkdir(`bus/pci/drivers/${d}`);
  }
  return summary;
}
