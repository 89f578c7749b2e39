/**
 * A valid topology file (`schema.ts`) to a `HostDesc`: bus numbers (given, taken from the
 * devices below a bridge, or allocated depth first as firmware does), defaults per kind, slots.
 * Problems that need the whole tree (a device on the wrong bus, bus ranges that do not nest)
 * come back as issues with the path of the node they concern; structural rules the kernel
 * applies (duplicates, function 0, only_one_child …) are left to `Topology.build`, and `index`
 * maps what it names (a BDF, a slot, a bus) back to a path in the file.
 * @module
 */

import { type Bdf, formatBdf, formatBus, hex, parseBdf } from '../pci/bdf.ts';
import {
  ACS_BITS,
  type AcsBit,
  type AcsCap,
  type FunctionDesc,
  type HostDesc,
  LINK_SPEEDS,
  type PcieCap,
  type QuirkFlag,
  type SlotDesc,
} from '../pci/model.ts';
import {
  ACS_FULL,
  DEVICE_KINDS,
  type DeviceInput,
  hexOrInt,
  type RootInput,
  type TopologyFile,
} from './schema.ts';

export type FilePath = (string | number)[];

/** A problem found while converting, located by its path in the file's data. */
export interface PathIssue {
  path: FilePath;
  message: string;
}

/** Where things named by `Topology.build` issues are written in the file. */
export interface HostIndex {
  /** `pci_name()` → the device entries with that address, in file order. */
  functions: Map<string, FilePath[]>;
  /** Slot name → the `slot` / `slots[i]` entries with that name, in file order. */
  slots: Map<string, FilePath[]>;
  /** `dddd:bb` → the bridge (or root) entry that provides that bus. */
  buses: Map<string, FilePath>;
}

export type ToHostResult =
  | { ok: true; host: HostDesc; index: HostIndex }
  | { ok: false; issues: PathIssue[]; index: HostIndex };

interface Node {
  dev: DeviceInput;
  path: FilePath;
  bdf: Bdf;
  children: Node[];
  /** Secondary bus for bridges once known. */
  secondary: number | null;
  subordinate: number;
}

interface RootNode {
  root: RootInput;
  path: FilePath;
  domain: number;
  bus: number;
  devices: Node[];
}

const b2 = (n: number) => hex(n, 2);
const byDevfn = (a: Node, b: Node) => a.bdf.device - b.bdf.device || a.bdf.fn - b.bdf.fn;

export function toHost(file: TopologyFile): ToHostResult {
  const issues: PathIssue[] = [];
  const index: HostIndex = { functions: new Map(), slots: new Map(), buses: new Map() };
  const add = (path: FilePath, message: string) => issues.push({ path, message });

  // 1. The tree as written, with every device checked against the bus its parent provides.
  const roots: RootNode[] = file.roots.map((root, i) => {
    const path: FilePath = ['roots', i];
    const domain = hexOrInt(root.domain ?? 0);
    const bus = hexOrInt(root.bus ?? 0);
    const devices = nodes(root.devices, [...path, 'devices'], domain);
    for (const d of devices) {
      if (d.bdf.bus !== bus)
        add(
          [...d.path, 'bdf'],
          `${d.dev.bdf} is on bus ${b2(d.bdf.bus)}, but it is listed on root bus ${formatBus(domain, bus)} (move it below the bridge whose secondary bus is ${b2(d.bdf.bus)}, or set bus: 0x${b2(d.bdf.bus)} on this root)`,
        );
    }
    return { root, path, domain, bus, devices };
  });

  function nodes(list: readonly DeviceInput[], base: FilePath, domain: number): Node[] {
    return list.map((dev, j) => {
      const path = [...base, j];
      const written = parseBdf(dev.bdf);
      if ((dev.bdf.trim().match(/:/g) ?? []).length === 2 && written.domain !== domain)
        add(
          [...path, 'bdf'],
          `${dev.bdf} is in domain ${hex(written.domain, 4)}, but its root is domain ${hex(domain, 4)} (write bb:dd.f, or fix the domain)`,
        );
      const bdf: Bdf = { domain, bus: written.bus, device: written.device, fn: written.fn };
      const node: Node = { dev, path, bdf, children: [], secondary: null, subordinate: 0 };
      if (dev.below) node.children = nodes(dev.below, [...path, 'below'], domain);
      if (DEVICE_KINDS[dev.kind].bridge) {
        const explicit = dev.bus === undefined ? null : hexOrInt(dev.bus);
        const first = node.children[0];
        node.secondary = explicit ?? first?.bdf.bus ?? null;
        for (const c of node.children) {
          if (c.bdf.bus === node.secondary) continue;
          const name = formatBdf(bdf);
          add(
            [...c.path, 'bdf'],
            explicit !== null
              ? `${c.dev.bdf} is on bus ${b2(c.bdf.bus)}, but its bridge ${name} has bus: 0x${b2(explicit)} (fix the address or the bridge's bus)`
              : `${c.dev.bdf} is on bus ${b2(c.bdf.bus)}, but the devices before it below ${name} are on bus ${b2(node.secondary!)} (everything below one bridge is on its secondary bus)`,
          );
        }
      }
      return node;
    });
  }

  // 2. Bus numbers for bridges with neither `bus:` nor children: the next free number, depth first.
  const used = new Map<number, Set<number>>();
  const usedIn = (domain: number) => {
    const s = used.get(domain) ?? new Set<number>();
    used.set(domain, s);
    return s;
  };
  const everyNode = (list: Node[], visit: (n: Node) => void) => {
    for (const n of list) {
      visit(n);
      everyNode(n.children, visit);
    }
  };
  for (const r of roots) {
    usedIn(r.domain).add(r.bus);
    everyNode(r.devices, (n) => {
      usedIn(r.domain).add(n.bdf.bus);
      if (n.secondary !== null) usedIn(r.domain).add(n.secondary);
    });
  }
  const highest = new Map<number, number>();
  const allocate = (r: RootNode, list: Node[]) => {
    for (const n of [...list].sort(byDevfn)) {
      if (!DEVICE_KINDS[n.dev.kind].bridge) continue;
      let top = highest.get(r.domain) ?? 0;
      if (n.secondary === null) {
        let next = top + 1;
        while (usedIn(r.domain).has(next)) next++;
        if (next > 0xff) {
          add(
            n.path,
            `no free bus number is left for the bus below ${formatBdf(n.bdf)} (give it bus: explicitly)`,
          );
          continue;
        }
        n.secondary = next;
        usedIn(r.domain).add(next);
      }
      top = Math.max(top, n.secondary);
      highest.set(r.domain, top);
      allocate(r, n.children);
      // Buses reserved by an explicit subordinate are not free for the bridges after this one.
      if (n.dev.subordinate !== undefined)
        highest.set(r.domain, Math.max(highest.get(r.domain) ?? 0, hexOrInt(n.dev.subordinate)));
    }
  };
  for (const r of roots) {
    highest.set(r.domain, Math.max(highest.get(r.domain) ?? 0, r.bus));
    allocate(r, r.devices);
  }

  // 3. Subordinate numbers and the owner of each bus.
  const subordinate = (n: Node): number => {
    let max = n.secondary ?? n.bdf.bus;
    for (const c of n.children) max = Math.max(max, c.bdf.bus, subordinate(c));
    const explicit = n.dev.subordinate === undefined ? null : hexOrInt(n.dev.subordinate);
    if (explicit !== null && explicit < max)
      add(
        [...n.path, 'subordinate'],
        `subordinate bus ${b2(explicit)} is below bus ${b2(max)}, which is below ${formatBdf(n.bdf)} (the subordinate bus is the highest bus number below the bridge; drop it or raise it)`,
      );
    n.subordinate = explicit ?? max;
    return n.subordinate;
  };
  for (const r of roots) for (const n of r.devices) subordinate(n);

  const owners = new Map<string, number>(); // bus name → how many claim it
  const rootBuses = new Set(roots.map((r) => formatBus(r.domain, r.bus)));
  for (const r of roots) {
    const k = formatBus(r.domain, r.bus);
    owners.set(k, (owners.get(k) ?? 0) + 1);
    if (index.buses.has(k))
      add(r.path, `root bus ${k} is listed twice (put all of its devices under one root)`);
    else index.buses.set(k, r.path);
  }
  for (const r of roots) {
    everyNode(r.devices, (n) => {
      if (n.secondary === null) return;
      const key = formatBus(r.domain, n.secondary);
      owners.set(key, (owners.get(key) ?? 0) + 1);
      if (rootBuses.has(key))
        add(
          n.dev.bus === undefined ? n.path : [...n.path, 'bus'],
          `the bus below ${formatBdf(n.bdf)} is ${key}, which is also a root bus (give it another number)`,
        );
      if (!index.buses.has(key)) index.buses.set(key, n.dev.bus === undefined ? n.path : [...n.path, 'bus']);
    });
  }

  // 4. Bus ranges must nest: everything in [secondary, subordinate] is below the bridge. Left to
  //    Topology.build when two bridges claim one bus, which it reports more precisely.
  if (issues.length === 0 && [...owners.values()].every((c) => c === 1)) {
    for (const r of roots) {
      const domainBuses = new Set<number>();
      for (const [k] of owners)
        if (k.startsWith(`${hex(r.domain, 4)}:`)) domainBuses.add(Number.parseInt(k.slice(5), 16));
      const check = (n: Node): Set<number> => {
        const below = new Set<number>();
        const foreignBelow = new Set<number>();
        const collect = (m: Node) => {
          if (m.secondary !== null) below.add(m.secondary);
          for (const c of m.children) collect(c);
        };
        collect(n);
        for (const c of n.children) for (const f of check(c)) foreignBelow.add(f);
        if (n.secondary === null) return foreignBelow;
        const foreign = new Set<number>();
        for (let b = n.secondary; b <= n.subordinate; b++)
          if (domainBuses.has(b) && !below.has(b)) foreign.add(b);
        const fresh = [...foreign].filter((b) => !foreignBelow.has(b));
        if (fresh.length > 0)
          add(
            n.path,
            `the buses below ${formatBdf(n.bdf)} span ${b2(n.secondary)}-${b2(n.subordinate)}, which includes bus ${fresh.map(b2).join(', ')} from elsewhere in the tree (number buses depth first, or give bus: explicitly)`,
          );
        return foreign;
      };
      for (const n of r.devices) check(n);
    }
  }

  // 5. Functions and slots.
  const functions: FunctionDesc[] = [];
  const slots: SlotDesc[] = [];
  const busSlots = (list: RootInput['slots'], base: FilePath, domain: number, bus: number) => {
    (list ?? []).forEach((s, i) => {
      const name = s.name ?? String(s.number);
      slots.push({ domain, bus, device: hexOrInt(s.device), name, driver: s.hotplug });
      index.slots.set(name, [...(index.slots.get(name) ?? []), [...base, i]]);
    });
  };
  const emit = (list: Node[]) => {
    for (const n of list) {
      const f = describe(n, list);
      functions.push(f);
      const name = formatBdf(n.bdf);
      const paths = index.functions.get(name) ?? [];
      paths.push(n.path);
      index.functions.set(name, paths);
      const d = n.dev;
      if (n.secondary !== null) {
        if (d.slot && d.slot.hotplug !== 'none') {
          const sname = d.slot.name ?? String(d.slot.number);
          slots.push({
            domain: n.bdf.domain,
            bus: n.secondary,
            device: 0,
            name: sname,
            driver: d.slot.hotplug,
          });
          index.slots.set(sname, [...(index.slots.get(sname) ?? []), [...n.path, 'slot']]);
        }
        busSlots(d.slots, [...n.path, 'slots'], n.bdf.domain, n.secondary);
      }
      emit(n.children);
    }
  };
  for (const r of roots) {
    busSlots(r.root.slots, [...r.path, 'slots'], r.domain, r.bus);
    emit(r.devices);
  }

  if (issues.length > 0) return { ok: false, issues, index };
  return { ok: true, host: { name: file.name, functions, slots }, index };
}

function ids(text: string): [number, number] {
  const [a, b] = text.split(':');
  return [Number.parseInt(a!, 16), Number.parseInt(b!, 16)];
}

function acsMask(bits: readonly AcsBit[]): number {
  return bits.reduce((m, b) => m | ACS_BITS[b], 0);
}

function describe(n: Node, siblings: readonly Node[]): FunctionDesc {
  const d = n.dev;
  const k = DEVICE_KINDS[d.kind];
  const [vendor, device] = ids(d.id);
  const [subsystemVendor, subsystemDevice] = d.subsystem ? ids(d.subsystem) : [0, 0];
  const hasSiblings = siblings.some(
    (s) => s !== n && s.bdf.device === n.bdf.device && s.bdf.fn > 0 && !s.dev.virtfn,
  );
  const quirks: QuirkFlag[] = [...new Set(d.quirks ?? [])];
  const f: FunctionDesc = {
    bdf: n.bdf,
    vendor,
    device,
    classCode: d.class !== undefined ? Number.parseInt(d.class.replace(/^0x/i, ''), 16) : (k.classCode ?? 0),
    revision: d.revision !== undefined ? hexOrInt(d.revision) : 0,
    subsystemVendor,
    subsystemDevice,
    header: k.bridge ? 'bridge' : 'normal',
    multifunctionBit: d.multifunction ?? (n.bdf.fn === 0 && hasSiblings && !d.virtfn),
    quirks,
    acpiReset: d.acpi_reset ?? false,
    driver: d.driver !== undefined ? d.driver : k.driver,
    driverOverride: d.driver_override ?? null,
    virtfn: d.virtfn ?? false,
  };
  if (d.label !== undefined) f.label = d.label;
  if (d.bars !== undefined) f.bars = [...d.bars];
  if (k.bridge && n.secondary !== null) f.bridge = { secondary: n.secondary, subordinate: n.subordinate };
  if (k.pcie !== null) {
    const link = d.link ?? {};
    const speed = String(link.speed ?? '2.5');
    const code = speed === 'unknown' ? 0 : LINK_SPEEDS[speed as keyof typeof LINK_SPEEDS];
    const vector = code === 0 || link.lnkcap2 === false ? 0 : (1 << code) - 1;
    const pcie: PcieCap = {
      type: k.pcie,
      flr: d.flr ?? false,
      linkSpeedCode: code,
      linkSpeedsVector: vector,
      linkWidth: link.width ?? 1,
      dllActiveReporting: link.active_reporting ?? false,
      linkActive: link.active ?? true,
    };
    if (d.slot) {
      pcie.slot = {
        physicalNumber: d.slot.number,
        hotplugCapable:
          d.slot.hotplug_capable ?? (d.slot.hotplug !== 'none' && d.slot.hotplug !== 'pci_slot'),
        attentionButton: d.slot.attention_button ?? false,
        powerController: d.slot.power_controller ?? false,
        surprise: d.slot.surprise ?? false,
        noCommandCompleted: d.slot.no_command_completed ?? false,
      };
    }
    f.pcie = pcie;
  }
  if (d.pm === true) f.pm = { noSoftReset: false };
  else if (typeof d.pm === 'object') f.pm = { noSoftReset: d.pm.no_soft_reset ?? false };
  if (d.af_flr === true) f.af = { tp: true, flr: true };
  else if (typeof d.af_flr === 'object') f.af = { tp: d.af_flr.tp ?? true, flr: d.af_flr.flr ?? true };
  const acs = acsOf(d, k.acs);
  if (acs) f.acs = acs;
  if (d.sriov) {
    f.sriov = {
      totalVfs: d.sriov.total_vfs,
      numVfs: d.sriov.num_vfs ?? 0,
      vfDeviceId: Number.parseInt(d.sriov.vf_device.replace(/^0x/i, ''), 16),
    };
  }
  return f;
}

function acsOf(d: DeviceInput, byDefault: boolean): AcsCap | null {
  const a = d.acs ?? (byDefault ? 'full' : 'none');
  if (a === 'none') return null;
  if (a === 'full') return { cap: acsMask(ACS_FULL), ctrl: acsMask(ACS_FULL) };
  return { cap: acsMask(a.cap), ctrl: acsMask(a.ctrl ?? a.cap) };
}
