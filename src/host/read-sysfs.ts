/**
 * Reads a host from any `SysfsReader` (real `/sys`, a dump, the simulator's projection) into a
 * `HostDesc` plus what sysfs itself states about things the kernel computed — `reset_method`
 * lines and `iommu_group` links — kept apart so they can be compared with what the model
 * computes (never copied into the model).
 *
 * Config space is read only for what sysfs attributes do not say. Reading `config` resumes a
 * runtime-suspended device, so with `config: 'needed'` (what the inventory uses) it is read only
 * for bridges (no attribute gives a port's PCIe type, slot capabilities or bus numbers) and for
 * functions in a hotplug slot that list `bus` (the header's multifunction bit picks slot reset or
 * a plain bus reset, PH1) — unless
 * the host lacks `reset_method` attributes or some function lacks an `iommu_group` link, when the
 * model must compute methods or groups from every function's capabilities. A function whose
 * config was not read gets a description derived from its attributes (see `fromAttributes`).
 * `config: 'all'` (the default) reads every function's, as a snapshot or a simulation needs.
 * An unprivileged read returns 64 bytes, which is recorded, not treated as an error.
 * The inventory's read also leaves out the attributes it never uses (`ReadOptions.attributes`).
 * @module
 */

import { basename, joinPath, resolveLink, SysfsError, type SysfsReader } from '../kernel/sysfs.ts';
import { type Bdf, BdfError, formatBdf, parseBdf } from '../pci/bdf.ts';
import { applyConfigStructure, ConfigSpaceError, parseConfigSpace } from '../pci/config-space.ts';
import { type ModaliasIds, parseModalias } from '../pci/modalias.ts';
import {
  type FunctionDesc,
  functionDefaults,
  type HostDesc,
  SLOT_DRIVERS,
  type SlotDesc,
  type SlotDriver,
  slotDriverHasResetSlot,
} from '../pci/model.ts';
import { parseResetMethods } from '../pci/reset-methods.ts';
import { Topology, TopologyError } from '../pci/topology.ts';

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
  /** Whether `config` was read at all (see `ReadOptions.config`). */
  configRead: boolean;
  /** Bytes of `config` that could be read (64 unprivileged, 256 conventional, 4096 PCIe); 0 when not read. */
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
  /** Every function's config space was read, so the model can compute methods and groups for all. */
  configComplete: boolean;
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

/**
 * The PCI tree a sysfs read describes, built as the kernel enumerates one. A cut or edited dump can
 * describe a tree no kernel could have (two bridges claiming one bus): that is a SysfsReadError
 * naming the origin, not a bare TopologyError.
 */
export function sysfsTopology(read: SysfsHost, origin: string): Topology {
  try {
    return Topology.build(read.desc);
  } catch (e) {
    if (!(e instanceof TopologyError)) throw e;
    throw new SysfsReadError(
      origin,
      `the PCI tree it shows cannot be: ${e.message.replaceAll('\n', '; ')} (is the dump complete, or was it edited?)`,
    );
  }
}

/** `0x8086\n` → 0x8086; NaN for anything else (Number() reads `0x` hex and rejects stray characters). */
const hexAttr = (s: string) => {
  const t = s.trim();
  return t.length > 2 && t[0] === '0' && t[1] === 'x' ? Number(t) : Number.NaN;
};

export interface ReadOptions {
  /** `all`: read every function's config space; `needed`: only where attributes do not answer. */
  config: 'all' | 'needed';
  /**
   * `all`: every attribute a description holds. `inventory`: not `revision`, `resource` (BAR
   * sizes) and `driver_override`, which no inventory question uses — a snapshot, a dump, a
   * simulation and a bind record do (they read with `all`) — three files fewer per function.
   * Defaults to `all`: a read that leaves things out says so (`takeInventory` does).
   */
  attributes: 'all' | 'inventory';
}

/** One function found under bus/pci/devices, with what its attributes say. */
interface Found {
  bdf: Bdf;
  path: string;
  desc: FunctionDesc;
  obs: SysfsObservation;
  /** The function is a bridge (class, or a child bus directory): its config is always needed. */
  bridge: boolean;
  /** Sits on a root bus (its directory is directly below `devices/pciDDDD:BB`). */
  onRootBus: boolean;
  /**
   * The PCIe link attributes are there (`pcie_dev_attrs_are_visible`: PCIe functions only). Kept
   * instead of the directory listing, which thousands of functions would hold until the end.
   */
  linkAttrs: boolean;
}

export function readSysfsHost(
  sys: SysfsReader,
  name = sys.origin,
  opts: Partial<ReadOptions> = {},
): SysfsHost {
  if (sys.kind('bus/pci/devices') === null) {
    throw new SysfsReadError(
      `${sys.origin}/bus/pci/devices`,
      'not found; this is not a sysfs tree with PCI devices (point --host linux:<dir> at a sysfs root or a dump)',
    );
  }
  const mode = opts.config ?? 'all';
  const attributes = opts.attributes ?? 'all';
  const warnings: string[] = [];
  const found: Found[] = [];
  const guard = <T>(bdf: Bdf, path: string, f: () => T): T => {
    try {
      return f();
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
  };

  // Device directories already seen in a listing (a bridge's lists the functions below it), by name.
  const seen = new Map<string, string>();
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
    const path = seen.get(entry) ?? deviceDir(sys, entry);
    found.push(guard(bdf, path, () => readAttributes(sys, bdf, path, attributes, seen)));
  }
  const slots = readSlots(sys, warnings);
  // An empty kernel/iommu_groups (an IOMMU driver present but translating nothing) means no groups.
  const iommuOn = sys.kind('kernel/iommu_groups') === 'dir' && sys.list('kernel/iommu_groups').length > 0;

  // Y1: on kernels with `reset_method`, the attributes answer for every function; groups likewise
  // when every function has its link. Otherwise the model computes them, from every function's caps.
  const attributesAnswer =
    found.some((x) => x.obs.resetMethods !== null) &&
    (!iommuOn || found.every((x) => x.obs.iommuGroup !== null));
  const readAll = mode === 'all' || !attributesAnswer;
  // No attribute shows the header's multifunction bit, yet it decides whether a `bus` reset takes
  // the hotplug slot's reset_slot or a plain SBR of the parent bus (pci_dev_reset_slot_function
  // requires !dev->multifunction): read config for a function that lists `bus` and sits in a slot
  // whose driver can reset it (without reset_slot the slot path fails whatever the bit says).
  const inSlot = (b: Bdf) =>
    slots.some(
      (s) =>
        s.domain === b.domain && s.bus === b.bus && s.device === b.device && slotDriverHasResetSlot(s.driver),
    );
  const busInSlot = (x: Found) => x.obs.resetMethods?.includes('bus') === true && inSlot(x.bdf);
  for (const x of found) {
    if (readAll || x.bridge || busInSlot(x)) guard(x.bdf, x.path, () => readConfig(sys, x));
    else fromAttributes(x);
  }
  if (!readAll) inferMultifunction(found);
  const observed = new Map(found.map((x) => [formatBdf(x.bdf), x.obs]));
  return {
    desc: { name, functions: found.map((x) => x.desc), slots },
    observed,
    iommuOn,
    configComplete: found.every((x) => x.obs.configRead),
    warnings,
  };
}

/**
 * BAR0–BAR5 sizes from sysfs `resource` (`resource_show`: `0x%016llx 0x%016llx 0x%016llx` per
 * resource, start end flags; an unassigned one is all zeros, so its size is 0).
 */
export function barSizesOf(text: string, where: string): number[] {
  const lines = text.split('\n').filter((l) => l.trim() !== '');
  return Array.from({ length: Math.min(6, lines.length) }, (_, i) => {
    const m = /^\s*0x([0-9a-f]+)\s+0x([0-9a-f]+)\s+0x[0-9a-f]+\s*$/i.exec(lines[i]!);
    if (!m) throw new SysfsReadError(where, `line ${i + 1} is not "start end flags" in hex`);
    const [start, end] = [BigInt(`0x${m[1]}`), BigInt(`0x${m[2]}`)];
    return end === 0n && start === 0n ? 0 : Number(end - start + 1n);
  });
}

/**
 * Everything about one function that its attributes and links say; config space is read later.
 * Runs once per function of hosts with thousands: paths are built once, presence is answered by one
 * directory listing (instead of a stat or a failed open each), and `physfn` only by its presence.
 */
function readAttributes(
  sys: SysfsReader,
  bdf: Bdf,
  path: string,
  attributes: ReadOptions['attributes'],
  seen: Map<string, string>,
): Found {
  const dir = `${path}/`;
  const names = sys.list(path);
  noteChildDirs(seen, dir, names);
  const entries = new Set(names);
  const num = (attr: string, fallback: number) => {
    if (!entries.has(attr)) return fallback;
    const v = hexAttr(sys.readText(dir + attr));
    if (Number.isNaN(v))
      throw new SysfsReadError(`${sys.origin}/${dir}${attr}`, 'expected a hex number like 0x8086');
    return v;
  };

  const f = functionDefaults(bdf);
  // `modalias` states the ids and class the five attributes state, from the same fields: one read
  // instead of five. Dumps written before it was copied have only the five.
  const ids = entries.has('modalias') ? modaliasIds(sys, `${dir}modalias`) : null;
  f.vendor = ids?.vendor ?? num('vendor', 0xffff);
  f.device = ids?.device ?? num('device', 0xffff);
  f.classCode = ids?.classCode ?? num('class', 0);
  f.subsystemVendor = ids?.subsystemVendor ?? num('subsystem_vendor', 0);
  f.subsystemDevice = ids?.subsystemDevice ?? num('subsystem_device', 0);
  if (entries.has('driver')) {
    const driver = linkTarget(sys, `${dir}driver`);
    if (driver !== null) f.driver = basename(driver);
  }
  // sysfs makes `physfn` for every VF and for nothing else (pci_iov_sysfs_link): its presence answers.
  f.virtfn = entries.has('physfn');
  if (attributes === 'all') {
    // A full read (snapshot, simulation) also reads the five and holds modalias to them: an edited
    // dump whose ids disagree with its modalias is reported, not simulated as something else.
    if (ids) {
      const five = [
        ['vendor', f.vendor],
        ['device', f.device],
        ['class', f.classCode],
        ['subsystem_vendor', f.subsystemVendor],
        ['subsystem_device', f.subsystemDevice],
      ] as const;
      for (const [attr, fromModalias] of five) {
        const v = num(attr, fromModalias);
        if (v !== fromModalias)
          throw new SysfsReadError(
            `${sys.origin}/${dir}${attr}`,
            `0x${v.toString(16)}, but ${dir}modalias says 0x${fromModalias.toString(16)} (an edited dump? edit modalias too, or delete it)`,
          );
      }
    }
    f.revision = num('revision', 0);
    if (entries.has('driver_override'))
      f.driverOverride = parseDriverOverride(sys.readText(`${dir}driver_override`));
    if (entries.has('resource'))
      f.bars = barSizesOf(sys.readText(`${dir}resource`), `${sys.origin}/${dir}resource`);
  }

  const resetMethods = entries.has('reset_method')
    ? parseResetMethods(sys.readText(`${dir}reset_method`))
    : null;
  const groupLink = entries.has('iommu_group') ? linkTarget(sys, `${dir}iommu_group`) : null;
  const iommuGroup = groupLink === null ? null : Number(basename(groupLink));
  const childBuses = entries.has('pci_bus') ? sys.list(`${dir}pci_bus`) : [];
  const end = path.lastIndexOf('/');
  const parent = end < 0 ? '' : path.slice(path.lastIndexOf('/', end - 1) + 1, end);
  return {
    bdf,
    path,
    desc: f,
    obs: {
      path,
      resetMethods,
      hasResetFile: entries.has('reset'),
      iommuGroup: iommuGroup !== null && Number.isInteger(iommuGroup) ? iommuGroup : null,
      configRead: false,
      configBytes: 0,
      capsKnown: false,
      extendedCapsKnown: false,
    },
    bridge: childBuses.length > 0 || BRIDGE_CLASSES.has(f.classCode >> 8),
    onRootBus: parent.startsWith('pci'),
    linkAttrs: entries.has('max_link_speed') || entries.has('current_link_speed'),
  };
}

function modaliasIds(sys: SysfsReader, path: string): ModaliasIds {
  const ids = parseModalias(sys.readText(path));
  if (ids === null)
    throw new SysfsReadError(
      `${sys.origin}/${path}`,
      'expected pci:v<8 hex>d<8 hex>sv<8 hex>sd<8 hex>bc<2 hex>sc<2 hex>i<2 hex>, as the kernel prints it',
    );
  return ids;
}

/** A device's directory: where its `bus/pci/devices` link points (the link itself if it is none). */
function deviceDir(sys: SysfsReader, name: string): string {
  const link = `bus/pci/devices/${name}`;
  const target = linkTarget(sys, link);
  return target === null ? joinPath(link) : resolveLink(link, target);
}

/**
 * Records the names in a device directory that can be functions below it (`DDDD:BB:DD.F`), so that
 * they need no readlink of their `bus/pci/devices` link: a PCI device's name is unique (that
 * directory holds one link per name), so the directory below a bridge named by an address is that
 * function's. Cheap on purpose: a name is only looked up by an address, so whatever else it notes
 * is never asked for.
 */
function noteChildDirs(seen: Map<string, string>, dir: string, names: readonly string[]): void {
  for (const n of names) if (n.length >= 12 && n[n.length - 2] === '.') seen.set(n, dir + n);
}

/** `driver_override` as the kernel shows it: `(null)` when none is set. */
export function parseDriverOverride(text: string): string | null {
  const o = text.trim();
  return o === '' || o === '(null)' ? null : o;
}

/** The target of a symlink, or null when `path` is not one (one readlink instead of lstat + readlink). */
function linkTarget(sys: SysfsReader, path: string): string | null {
  try {
    return sys.readLink(path);
  } catch (e) {
    if (e instanceof SysfsError && (e.errno === 'EINVAL' || e.errno === 'ENOENT')) return null;
    throw e;
  }
}

/** PCI-to-PCI, CardBus and semi-transparent bridges (class 0x0604, 0x0607, 0x0609). */
const BRIDGE_CLASSES = new Set([0x0604, 0x0607, 0x0609]);

/** Header, bus numbers and capabilities from `config` (what no attribute says). */
function readConfig(sys: SysfsReader, x: Found): void {
  const at = (attr: string) => `${x.path}/${attr}`;
  const f = x.desc;
  if (sys.kind(at('config')) !== null) {
    const bytes = sys.readBytes(at('config'));
    const cfg = parseConfigSpace(bytes, x.bdf);
    applyConfigStructure(f, cfg);
    x.obs.configRead = true;
    x.obs.configBytes = bytes.length;
    x.obs.capsKnown = cfg.complete;
    x.obs.extendedCapsKnown = cfg.extendedKnown;
  } else if (f.classCode >> 8 === 0x0604 || f.classCode >> 8 === 0x0609) {
    f.header = 'bridge';
  }
  if (f.header !== 'normal' && !f.bridge) {
    // No readable config: the child bus directory names the secondary bus.
    const buses = sys.kind(at('pci_bus')) !== null ? sys.list(at('pci_bus')) : [];
    const sec = buses[0]?.split(':')[1];
    if (sec !== undefined) {
      const n = Number.parseInt(sec, 16);
      f.bridge = { secondary: n, subordinate: n };
    }
  }
}

/**
 * An endpoint whose config space is not read: what its attributes say about it. The PCIe link
 * attributes exist only for PCIe functions (`pcie_dev_attrs_are_visible`); a PCIe function on a
 * root bus is taken as a root-complex integrated endpoint. The capabilities the kernel's reset
 * probes test (M1) are set from the `reset_method` list it made with them — `flr` (DEVCAP FLR),
 * `af_flr` (AF TP+FLR), `pm` (PM without No_Soft_Reset), `acpi` (_RST) — so that what a reset
 * would do now (M4) comes out as with the full capabilities. ACS and SR-IOV stay unknown: the
 * `iommu_group` links answer grouping.
 */
function fromAttributes(x: Found): void {
  const f = x.desc;
  const listed = new Set(x.obs.resetMethods ?? []);
  // The link attributes' presence says PCIe; their values are left unknown (0): the kernel's
  // show functions read LNKCAP/LNKSTA from config space, which is what is being avoided.
  if (x.linkAttrs) {
    f.pcie = {
      type: x.onRootBus ? 'rc-endpoint' : 'endpoint',
      flr: listed.has('flr'),
      linkSpeedCode: 0,
      linkSpeedsVector: 0,
      linkWidth: 0,
      dllActiveReporting: false,
      linkActive: true,
    };
  }
  if (listed.has('pm')) f.pm = { noSoftReset: false };
  if (listed.has('af_flr')) f.af = { tp: true, flr: true };
  f.acpiReset = listed.has('acpi');
}

/**
 * Without config space, the Multi-Function header bit of function 0 is known from enumeration:
 * Linux scans functions 1–7 of a slot only when function 0 sets it (VFs are never scanned).
 */
function inferMultifunction(found: Found[]): void {
  const slots = new Map<string, Found[]>();
  for (const x of found) {
    const k = `${x.bdf.domain}:${x.bdf.bus}:${x.bdf.device}`;
    const list = slots.get(k);
    if (list) list.push(x);
    else slots.set(k, [x]);
  }
  for (const list of slots.values()) {
    const fn0 = list.find((x) => x.bdf.fn === 0);
    if (fn0 && !fn0.obs.configRead && !fn0.desc.virtfn && list.some((x) => x.bdf.fn > 0 && !x.desc.virtfn))
      fn0.desc.multifunctionBit = true;
  }
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
