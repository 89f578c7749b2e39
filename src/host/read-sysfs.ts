/**
 * Reads a host from any `SysfsReader` (real `/sys`, a dump, the simulator's projection) into a
 * `HostDesc` plus what sysfs itself states about things the kernel computed — `reset_method`
 * lines and `iommu_group` links — kept apart so they can be compared with what the model
 * computes (never copied into the model).
 *
 * Config space is read only for what sysfs attributes do not say (capabilities); an unprivileged
 * read returns 64 bytes, which is recorded, not treated as an error.
 * @module
 */

import { basename, joinPath, resolveLink, SysfsError, type SysfsReader } from '../kernel/sysfs.ts';
import { type Bdf, BdfError, formatBdf, parseBdf } from '../pci/bdf.ts';
import { ConfigSpaceError, parseConfigSpace } from '../pci/config-space.ts';
import {
  type FunctionDesc,
  functionDefaults,
  type HostDesc,
  SLOT_DRIVERS,
  type SlotDesc,
  type SlotDriver,
} from '../pci/model.ts';

/** What sysfs says about one function beyond its description. */
export interface SysfsObservation {
  /** sysfs path of the device directory, e.g. `devices/pci0000:00/0000:00:01.0/0000:01:00.0`. */
  path: string;
  /** `reset_method` entries, or null when the file is absent (no method at registration, Y1). */
  resetMethods: string[] | null;
  /** `reset` attribute present. */
  hasResetFile: boolean;
  /** `iommu_group` link target basename, or null. */
  iommuGroup: number | null;
  /** Bytes of `config` that could be read (64 unprivileged, 256 conventional, 4096 PCIe). */
  configBytes: number;
  /** True when capabilities were parsed from config space; false when they are unknown. */
  capsKnown: boolean;
  /** True when extended capabilities (ACS, SR-IOV) were readable. */
  extendedCapsKnown: boolean;
}

export interface SysfsHost {
  desc: HostDesc;
  observed: Map<string, SysfsObservation>;
  /** `kernel/iommu_groups` holds groups (the IOMMU is on and translating). */
  iommuOn: boolean;
  /** Non-fatal oddities found while reading (each names the path). */
  warnings: string[];
}

/** The one error reading can end in; names the sysfs origin and path and says what to do. */
export class SysfsReadError extends Error {
  readonly code = 'VFIO_RESET_E_SYSFS_READ';
  readonly where: string;
  constructor(where: string, message: string) {
    super(`${where}: ${message}`);
    this.name = 'SysfsReadError';
    this.where = where;
  }
}

const hexAttr = (s: string) => {
  const t = s.trim();
  return /^0x[0-9a-fA-F]+$/.test(t) ? Number.parseInt(t, 16) : Number.NaN;
};

export function readSysfsHost(sys: SysfsReader, name = sys.origin): SysfsHost {
  if (sys.kind('bus/pci/devices') === null) {
    throw new SysfsReadError(
      `${sys.origin}/bus/pci/devices`,
      'not found; this is not a sysfs tree with PCI devices (point --host linux:<dir> at a sysfs root or a dump)',
    );
  }
  const warnings: string[] = [];
  const functions: FunctionDesc[] = [];
  const observed = new Map<string, SysfsObservation>();

  for (const entry of sys.list('bus/pci/devices')) {
    let bdf: Bdf;
    try {
      bdf = parseBdf(entry);
    } catch (e) {
      if (e instanceof BdfError) {
        warnings.push(`${sys.origin}/bus/pci/devices/${entry}: not a PCI address, skipped`);
        continue;
      }
      throw e;
    }
    const link = `bus/pci/devices/${entry}`;
    const path = sys.kind(link) === 'link' ? resolveLink(link, sys.readLink(link)) : joinPath(link);
    try {
      const { desc, obs } = readFunction(sys, bdf, path);
      functions.push(desc);
      observed.set(formatBdf(bdf), obs);
    } catch (e) {
      if (e instanceof SysfsError) {
        throw new SysfsReadError(
          `${e.origin}/${e.path}`,
          `${e.errno} while reading ${formatBdf(bdf)} (is the dump complete?)`,
        );
      }
      if (e instanceof ConfigSpaceError) throw new SysfsReadError(`${sys.origin}/${path}/config`, e.message);
      throw e;
    }
  }
  const slots = readSlots(sys, warnings);
  // An empty kernel/iommu_groups (an IOMMU driver present but translating nothing) means no groups.
  const iommuOn = sys.kind('kernel/iommu_groups') === 'dir' && sys.list('kernel/iommu_groups').length > 0;
  return { desc: { name, functions, slots }, observed, iommuOn, warnings };
}

function readFunction(
  sys: SysfsReader,
  bdf: Bdf,
  path: string,
): { desc: FunctionDesc; obs: SysfsObservation } {
  const at = (attr: string) => `${path}/${attr}`;
  const has = (attr: string) => sys.kind(at(attr)) !== null;
  const num = (attr: string, fallback: number) => {
    if (!has(attr)) return fallback;
    const v = hexAttr(sys.readText(at(attr)));
    if (Number.isNaN(v))
      throw new SysfsReadError(`${sys.origin}/${at(attr)}`, 'expected a hex number like 0x8086');
    return v;
  };

  const f = functionDefaults(bdf);
  f.vendor = num('vendor', 0xffff);
  f.device = num('device', 0xffff);
  f.classCode = num('class', 0);
  f.revision = num('revision', 0);
  f.subsystemVendor = num('subsystem_vendor', 0);
  f.subsystemDevice = num('subsystem_device', 0);

  let configBytes = 0;
  let capsKnown = false;
  let extendedCapsKnown = false;
  if (has('config')) {
    const bytes = sys.readBytes(at('config'));
    configBytes = bytes.length;
    const cfg = parseConfigSpace(bytes, bdf);
    f.header = cfg.header;
    f.multifunctionBit = cfg.multifunctionBit;
    if (cfg.bridge) f.bridge = cfg.bridge;
    capsKnown = cfg.complete;
    extendedCapsKnown = cfg.extendedKnown;
    if (cfg.pcie) f.pcie = cfg.pcie;
    if (cfg.pm) f.pm = cfg.pm;
    if (cfg.af) f.af = cfg.af;
    if (cfg.acs) f.acs = cfg.acs;
    if (cfg.sriov) f.sriov = cfg.sriov;
  } else if (f.classCode >> 8 === 0x0604 || f.classCode >> 8 === 0x0609) {
    f.header = 'bridge';
  }
  if (f.header !== 'normal' && !f.bridge) {
    // No readable config: the child bus directory names the secondary bus.
    const buses = has('pci_bus') ? sys.list(at('pci_bus')) : [];
    const sec = buses[0]?.split(':')[1];
    if (sec !== undefined) {
      const n = Number.parseInt(sec, 16);
      f.bridge = { secondary: n, subordinate: n };
    }
  }

  if (sys.kind(at('driver')) === 'link') f.driver = basename(sys.readLink(at('driver')));
  if (has('driver_override')) {
    const o = sys.readText(at('driver_override')).trim();
    f.driverOverride = o === '' || o === '(null)' ? null : o;
  }
  f.virtfn = sys.kind(at('physfn')) === 'link';

  const resetMethods = has('reset_method')
    ? sys
        .readText(at('reset_method'))
        .split(/\s+/)
        .filter((s) => s !== '')
    : null;
  const iommuGroup =
    sys.kind(at('iommu_group')) === 'link' ? Number(basename(sys.readLink(at('iommu_group')))) : null;

  return {
    desc: f,
    obs: {
      path,
      resetMethods,
      hasResetFile: has('reset'),
      iommuGroup: iommuGroup !== null && Number.isInteger(iommuGroup) ? iommuGroup : null,
      configBytes,
      capsKnown,
      extendedCapsKnown,
    },
  };
}

function readSlots(sys: SysfsReader, warnings: string[]): SlotDesc[] {
  if (sys.kind('bus/pci/slots') === null) return [];
  const out: SlotDesc[] = [];
  for (const name of sys.list('bus/pci/slots')) {
    const dir = `bus/pci/slots/${name}`;
    if (sys.kind(`${dir}/address`) === null) continue;
    const addr = sys.readText(`${dir}/address`).trim();
    const m = /^([0-9a-f]{4}):([0-9a-f]{2}):([0-9a-f]{2})$/i.exec(addr);
    if (!m) {
      // `dddd:bb` alone is a slot with no device number (0xff): it cannot be matched to functions.
      warnings.push(`${sys.origin}/${dir}/address: '${addr}' has no device number, slot ignored`);
      continue;
    }
    let driver: SlotDriver = 'pci_slot';
    if (sys.kind(`${dir}/module`) === 'link') {
      const mod = basename(sys.readLink(`${dir}/module`));
      const known = (SLOT_DRIVERS as readonly string[]).includes(mod);
      if (known) driver = mod as SlotDriver;
      else
        warnings.push(
          `${sys.origin}/${dir}/module: unknown hotplug driver '${mod}', treated as one without reset_slot`,
        );
    }
    out.push({
      domain: Number.parseInt(m[1]!, 16),
      bus: Number.parseInt(m[2]!, 16),
      device: Number.parseInt(m[3]!, 16),
      name,
      driver,
    });
  }
  return out;
}
