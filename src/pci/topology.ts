/**
 * The linked PCI tree the kernel builds from what it enumerates: root buses, bridges with their
 * secondary buses, functions in scan order, slots. Built once from a `HostDesc`; every
 * computation in `pci/` (reset methods, scopes, IOMMU groups) reads this structure.
 *
 * Enumeration order matters to the kernel (rules M2/M3 and A4/A6): on each bus every function is
 * added in devfn order, and only then are the buses below its bridges scanned, depth first.
 * `Topology.functions` is exactly that order (the order of `pci_device_add`, which is also the
 * order devices are registered and so the order the IOMMU layer probes them).
 * @module
 */

import { type Bdf, compareBdf, devfn, formatBdf, formatBus } from './bdf.ts';
import {
  type FunctionDesc,
  type HostDesc,
  isBridge,
  isDownstreamPort,
  type QuirkFlag,
  type SlotDesc,
} from './model.ts';
import { tableQuirks } from './quirks.ts';

export interface PciBus {
  readonly domain: number;
  readonly number: number;
  /** `dddd:bb`. */
  readonly name: string;
  /** The bridge whose secondary bus this is; null for a root bus. */
  readonly self: PciFunction | null;
  readonly parent: PciBus | null;
  /** In devfn order, which is the kernel's `bus->devices` order after a boot-time scan. */
  readonly devices: PciFunction[];
  readonly slots: PciSlot[];
}

export interface PciSlot {
  readonly desc: SlotDesc;
  readonly bus: PciBus;
}

export interface PciFunction {
  readonly desc: FunctionDesc;
  /** `pci_name()`. */
  readonly name: string;
  readonly bdf: Bdf;
  readonly bus: PciBus;
  /** The bus below this bridge, or null. */
  readonly subordinate: PciBus | null;
  /** The slot whose device number matches on this bus, or null. */
  readonly slot: PciSlot | null;
  /** `dev->multifunction`: the header bit, forced true for every function at fn > 0. */
  readonly multifunction: boolean;
  /** Table quirks plus the description's own. */
  readonly quirks: ReadonlySet<QuirkFlag>;
  /** Position in `pci_device_add` order (0-based). */
  readonly addIndex: number;
}

/** One thing wrong with a description: the function (or bus) it concerns and what to do. */
export interface TopologyIssue {
  where: string;
  message: string;
}

export class TopologyError extends Error {
  readonly code = 'VFIO_RESET_E_TOPOLOGY';
  readonly issues: TopologyIssue[];
  constructor(issues: TopologyIssue[]) {
    super(issues.map((i) => `${i.where}: ${i.message}`).join('\n'));
    this.name = 'TopologyError';
    this.issues = issues;
  }
}

interface MutableBus {
  domain: number;
  number: number;
  name: string;
  self: MutableFunction | null;
  parent: MutableBus | null;
  devices: MutableFunction[];
  slots: PciSlot[];
}

interface MutableFunction {
  desc: FunctionDesc;
  name: string;
  bdf: Bdf;
  bus: MutableBus;
  subordinate: MutableBus | null;
  slot: PciSlot | null;
  multifunction: boolean;
  quirks: ReadonlySet<QuirkFlag>;
  addIndex: number;
}

const busKey = (domain: number, bus: number) => formatBus(domain, bus);

export class Topology {
  readonly name: string;
  /** Every function, in `pci_device_add` order. */
  readonly functions: readonly PciFunction[];
  readonly rootBuses: readonly PciBus[];
  readonly slots: readonly PciSlot[];
  private readonly byName: Map<string, PciFunction>;
  private readonly buses: Map<string, PciBus>;

  private constructor(
    name: string,
    functions: PciFunction[],
    rootBuses: PciBus[],
    buses: Map<string, PciBus>,
    slots: PciSlot[],
  ) {
    this.name = name;
    this.functions = functions;
    this.rootBuses = rootBuses;
    this.buses = buses;
    this.slots = slots;
    this.byName = new Map(functions.map((f) => [f.name, f]));
  }

  /** Links a description into a tree, or throws `TopologyError` listing every problem found. */
  static build(host: HostDesc): Topology {
    const issues: TopologyIssue[] = [];
    const descs = [...host.functions].sort((a, b) => compareBdf(a.bdf, b.bdf));

    const seen = new Set<string>();
    for (const d of descs) {
      const n = formatBdf(d.bdf);
      if (seen.has(n))
        issues.push({ where: n, message: 'appears twice; every function needs its own address' });
      seen.add(n);
    }

    // Which bridge owns which secondary bus.
    const bridgeOf = new Map<string, FunctionDesc>();
    for (const d of descs) {
      if (!isBridge(d)) continue;
      if (!d.bridge) {
        issues.push({ where: formatBdf(d.bdf), message: 'is a bridge but has no secondary bus number' });
        continue;
      }
      const k = busKey(d.bdf.domain, d.bridge.secondary);
      const other = bridgeOf.get(k);
      if (other) {
        issues.push({
          where: formatBdf(d.bdf),
          message: `claims secondary bus ${k}, which ${formatBdf(other.bdf)} already owns`,
        });
        continue;
      }
      if (d.bridge.secondary <= d.bdf.bus) {
        issues.push({
          where: formatBdf(d.bdf),
          message: `secondary bus ${d.bridge.secondary.toString(16)} must be above its own bus ${d.bdf.bus.toString(16)}`,
        });
        continue;
      }
      if (d.bridge.subordinate < d.bridge.secondary) {
        issues.push({
          where: formatBdf(d.bdf),
          message: 'subordinate bus number is below the secondary bus number',
        });
        continue;
      }
      bridgeOf.set(k, d);
    }

    // Buses: every bus that holds a function or is a bridge's secondary.
    const buses = new Map<string, MutableBus>();
    const busFor = (domain: number, number: number): MutableBus => {
      const k = busKey(domain, number);
      let b = buses.get(k);
      if (!b) {
        b = { domain, number, name: k, self: null, parent: null, devices: [], slots: [] };
        buses.set(k, b);
      }
      return b;
    };
    const fns = new Map<string, MutableFunction>();
    for (const d of descs) {
      const name = formatBdf(d.bdf);
      if (fns.has(name)) continue;
      const bus = busFor(d.bdf.domain, d.bdf.bus);
      const f: MutableFunction = {
        desc: d,
        name,
        bdf: d.bdf,
        bus,
        subordinate: null,
        slot: null,
        // pci_scan_slot forces it for fn > 0; pci_iov_add_virtfn clears it for VFs, which are never scanned.
        multifunction: !d.virtfn && (d.multifunctionBit || d.bdf.fn > 0),
        quirks: new Set<QuirkFlag>([...tableQuirks(d), ...d.quirks]),
        addIndex: -1,
      };
      fns.set(name, f);
      bus.devices.push(f);
    }
    for (const d of bridgeOf.values()) {
      const self = fns.get(formatBdf(d.bdf));
      if (!self) continue;
      const child = busFor(d.bdf.domain, d.bridge!.secondary);
      child.self = self;
      child.parent = self.bus;
      self.subordinate = child;
    }

    // Enumeration rules the kernel applies while scanning (pci_scan_slot / only_one_child).
    for (const bus of buses.values()) {
      const devs = bus.devices;
      for (const f of devs) {
        if (f.bdf.fn === 0) continue;
        const fn0 = devs.find((o) => o.bdf.device === f.bdf.device && o.bdf.fn === 0);
        if (!fn0) {
          issues.push({
            where: f.name,
            message: 'has no function 0 in its slot; Linux would not enumerate it',
          });
        } else if (!fn0.desc.multifunctionBit && !fn0.desc.virtfn && !f.desc.virtfn) {
          issues.push({
            where: f.name,
            message: `function 0 (${fn0.name}) does not set the multi-function header bit; Linux would not enumerate it (set multifunction on ${fn0.name})`,
          });
        }
      }
      const self = bus.self;
      if (self && isDownstreamPort(self.desc)) {
        for (const f of devs) {
          if (f.bdf.device !== 0 && !f.desc.virtfn) {
            issues.push({
              where: f.name,
              message: `sits at device ${f.bdf.device} below PCIe port ${self.name}; Linux scans only device 0 there (only_one_child)`,
            });
          }
        }
      }
    }

    // Cycles: a bridge whose secondary bus is an ancestor of its own bus.
    for (const bus of buses.values()) {
      const chain = new Set<MutableBus>();
      let b: MutableBus | null = bus;
      while (b) {
        if (chain.has(b)) {
          issues.push({ where: bus.name, message: 'bridges form a loop above this bus' });
          break;
        }
        chain.add(b);
        b = b.parent;
      }
    }

    // Slots.
    const slots: PciSlot[] = [];
    const slotNames = new Set<string>();
    for (const s of host.slots) {
      const bus = buses.get(busKey(s.domain, s.bus));
      const where = `slot ${s.name}`;
      if (!bus) {
        issues.push({
          where,
          message: `is on bus ${busKey(s.domain, s.bus)}, which no bridge or function provides`,
        });
        continue;
      }
      if (slotNames.has(s.name)) {
        issues.push({
          where,
          message: 'name is used twice; slot names are directory names under /sys/bus/pci/slots',
        });
        continue;
      }
      if (bus.slots.some((o) => o.desc.device === s.device)) {
        issues.push({ where, message: `bus ${bus.name} already has a slot at device ${s.device}` });
        continue;
      }
      slotNames.add(s.name);
      const slot: PciSlot = { desc: s, bus };
      bus.slots.push(slot);
      slots.push(slot);
      for (const f of bus.devices) if (f.bdf.device === s.device) f.slot = slot;
    }

    if (issues.length > 0) throw new TopologyError(issues);

    for (const bus of buses.values()) bus.devices.sort((a, b) => devfn(a.bdf) - devfn(b.bdf));
    const roots = [...buses.values()]
      .filter((b) => b.self === null)
      .sort((a, b) => a.domain - b.domain || a.number - b.number);

    // pci_scan_child_bus: all of a bus's functions first, then each bridge's bus, depth first.
    const order: MutableFunction[] = [];
    const scan = (bus: MutableBus) => {
      for (const f of bus.devices) {
        f.addIndex = order.length;
        order.push(f);
      }
      for (const f of bus.devices) if (f.subordinate) scan(f.subordinate);
    };
    for (const r of roots) scan(r);

    return new Topology(
      host.name,
      order as PciFunction[],
      roots as PciBus[],
      buses as unknown as Map<string, PciBus>,
      slots,
    );
  }

  get(bdf: Bdf | string): PciFunction | undefined {
    return this.byName.get(typeof bdf === 'string' ? bdf : formatBdf(bdf));
  }

  bus(domain: number, number: number): PciBus | undefined {
    return this.buses.get(busKey(domain, number));
  }

  allBuses(): PciBus[] {
    return [...this.buses.values()];
  }

  /** The bridges from `f`'s own bus up to the root, nearest first. */
  static upstreamBridges(f: PciFunction): PciFunction[] {
    const out: PciFunction[] = [];
    for (let b: PciBus | null = f.bus; b?.self; b = b.parent) out.push(b.self);
    return out;
  }

  /** Depth-first pre-order of everything on `bus` and below it (kernel-semantics Q3). */
  static walkBelow(bus: PciBus, visit: (f: PciFunction) => void): void {
    for (const f of bus.devices) {
      visit(f);
      if (f.subordinate) Topology.walkBelow(f.subordinate, visit);
    }
  }
}
