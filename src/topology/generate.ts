/**
 * Random but well-formed hosts from a seed: the input of property tests (invariants of
 * kernel-semantics.md over many topologies) and of large synthetic hosts for benchmarks.
 * Deterministic: the same seed and options always give the same host, so a failing seed is a
 * regression case.
 *
 * What it produces always enumerates under Linux's scan rules (Topology.build accepts it):
 * only device 0 below PCIe downstream ports, function 0 present and multifunction when others
 * are, bus numbers allocated depth first as firmware does.
 * @module
 */

import type { Bdf } from '../pci/bdf.ts';
import {
  ACS_BITS,
  type FunctionDesc,
  functionDefaults,
  type HostDesc,
  type PcieCap,
  type PcieType,
  type QuirkFlag,
  type SlotDesc,
  type SlotDriver,
} from '../pci/model.ts';

/** A small fast PRNG (mulberry32); good enough for shapes, and the same on every machine. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface GenerateOptions {
  /** Upper bound on functions (the generator stops adding devices once reached). */
  maxFunctions: number;
  /** Maximum bridge nesting below a root port. */
  maxDepth: number;
  /** Root-bus slots used for root ports / integrated devices. */
  rootSlots: number;
  /** Drivers to draw from for endpoints (null = no driver). */
  drivers: readonly (string | null)[];
  /** Probability that an endpoint carries a quirk flag. */
  quirkRate: number;
}

export const DEFAULT_GENERATE: GenerateOptions = {
  maxFunctions: 24,
  maxDepth: 3,
  rootSlots: 5,
  drivers: ['vfio-pci', 'vfio-pci', 'vfio-pci', null, 'nvme', 'e1000e', 'pci-stub', 'snd_hda_intel'],
  quirkRate: 0.05,
};

export function generateHost(seed: number, opts: Partial<GenerateOptions> = {}): HostDesc {
  const o = { ...DEFAULT_GENERATE, ...opts };
  const rnd = prng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const chance = (p: number) => rnd() < p;

  const functions: FunctionDesc[] = [];
  const slots: SlotDesc[] = [];
  let nextBus = 1;
  const full = () => functions.length >= o.maxFunctions;

  const link = (): Omit<PcieCap, 'type' | 'flr'> => {
    const speed = pick([0, 1, 2, 3, 4, 5]);
    const vector = speed === 0 ? 0 : chance(0.8) ? (1 << speed) - 1 : 0;
    return {
      linkSpeedCode: speed,
      linkSpeedsVector: vector,
      linkWidth: pick([1, 4, 8, 16]),
      dllActiveReporting: chance(0.6),
      linkActive: chance(0.9),
    };
  };
  const acs = (p: number) =>
    chance(p)
      ? {
          cap: ACS_BITS.sv | ACS_BITS.rr | ACS_BITS.cr | ACS_BITS.uf,
          ctrl: chance(0.9) ? 0x1d : pick([0, 0x05, 0x1c]),
        }
      : undefined;
  const quirks = (): QuirkFlag[] =>
    chance(o.quirkRate) ? [pick(['NO_BUS_RESET', 'NO_FLR_RESET', 'NO_PM_RESET'] as const)] : [];

  const add = (f: FunctionDesc) => {
    functions.push(f);
    return f;
  };

  const endpointFns = (domain: number, bus: number, device: number, pcie: boolean, maxFns: number) => {
    const n = Math.min(maxFns, chance(0.3) ? 1 + Math.floor(rnd() * 4) : 1);
    for (let fn = 0; fn < n && !full(); fn++) {
      const bdf: Bdf = { domain, bus, device, fn };
      const f = functionDefaults(bdf);
      f.vendor = pick([0x8086, 0x10de, 0x1022, 0x15b3, 0x144d, 0x1b36]);
      f.device = Math.floor(rnd() * 0xffff);
      f.classCode = pick([0x020000, 0x010802, 0x030000, 0x040300, 0x0c0330]);
      f.multifunctionBit = fn === 0 && n > 1;
      if (pcie) {
        f.pcie = { type: 'endpoint', flr: chance(0.5), ...link() };
        if (n > 1) {
          const a = acs(0.4);
          if (a) f.acs = a;
        }
      }
      if (chance(0.7)) f.pm = { noSoftReset: chance(0.3) };
      if (!pcie && chance(0.2)) f.af = { tp: true, flr: chance(0.8) };
      f.quirks = quirks();
      f.driver = pick(o.drivers);
      add(f);
    }
  };

  /** A bus below `bridge` (or a root bus): fills it and returns the highest bus number used below. */
  const fillBus = (
    domain: number,
    bus: number,
    kind: 'pcie-port' | 'switch-internal' | 'conventional' | 'root',
    depth: number,
  ): number => {
    let max = bus;
    if (kind === 'pcie-port') {
      // Below a downstream port: one device (device 0), an endpoint or a switch upstream port.
      if (depth < o.maxDepth && chance(0.3) && !full()) {
        const up = functionDefaults({ domain, bus, device: 0, fn: 0 });
        up.vendor = 0x10b5;
        up.classCode = 0x060400;
        up.header = 'bridge';
        up.pcie = { type: 'upstream', flr: false, ...link() };
        up.driver = 'pcieport';
        const sec = nextBus++;
        add(up);
        const sub = fillBus(domain, sec, 'switch-internal', depth + 1);
        up.bridge = { secondary: sec, subordinate: sub };
        return Math.max(max, sub);
      }
      if (!full()) endpointFns(domain, bus, 0, true, 8);
      return max;
    }
    const devices = kind === 'root' ? o.rootSlots : 1 + Math.floor(rnd() * 4);
    for (let dev = 0; dev < devices && !full(); dev++) {
      const device = kind === 'root' ? dev + 1 : dev;
      const bridgeHere =
        depth < o.maxDepth && (kind === 'switch-internal' || chance(kind === 'root' ? 0.75 : 0.25));
      if (!bridgeHere) {
        endpointFns(domain, bus, device, kind !== 'conventional', kind === 'root' ? 8 : 4);
        continue;
      }
      const br = functionDefaults({ domain, bus, device, fn: 0 });
      br.header = 'bridge';
      br.classCode = 0x060400;
      br.driver = 'pcieport';
      let childKind: 'pcie-port' | 'conventional';
      let type: PcieType | null;
      if (kind === 'conventional') {
        type = null;
        br.driver = null;
        childKind = 'conventional';
      } else if (chance(0.15)) {
        type = 'pcie-to-pci';
        br.driver = null;
        childKind = 'conventional';
      } else {
        type = kind === 'root' ? 'root-port' : 'downstream';
        childKind = 'pcie-port';
        const a = acs(kind === 'root' ? 0.85 : 0.6);
        if (a) br.acs = a;
      }
      if (type) {
        br.pcie = { type, flr: false, ...link() };
        if (childKind === 'pcie-port') br.pm = { noSoftReset: true };
      }
      const sec = nextBus++;
      let slotDriver: SlotDriver | null = null;
      if (childKind === 'pcie-port' && chance(0.5))
        slotDriver = pick(['pciehp', 'pciehp', 'acpiphp', 'pci_slot'] as const);
      if (br.pcie && slotDriver) {
        br.pcie.slot = {
          physicalNumber: slots.length + 1,
          hotplugCapable: slotDriver !== 'pci_slot',
          attentionButton: chance(0.3),
          powerController: chance(0.5),
          surprise: chance(0.3),
          noCommandCompleted: chance(0.2),
        };
        slots.push({ domain, bus: sec, device: 0, name: String(slots.length + 1), driver: slotDriver });
      }
      add(br);
      const sub = fillBus(domain, sec, childKind, depth + 1);
      br.bridge = { secondary: sec, subordinate: sub };
      if (childKind === 'conventional' && chance(0.3)) {
        // Per-device SHPC/ACPI slots on a conventional bus.
        for (const f of functions) {
          if (f.bdf.bus === sec && f.bdf.fn === 0 && chance(0.5)) {
            slots.push({
              domain,
              bus: sec,
              device: f.bdf.device,
              name: String(slots.length + 1),
              driver: pick(['shpchp', 'acpiphp'] as const),
            });
          }
        }
      }
      max = Math.max(max, sub);
    }
    return max;
  };

  const host = functionDefaults({ domain: 0, bus: 0, device: 0, fn: 0 });
  host.vendor = 0x8086;
  host.device = 0x29c0;
  host.classCode = 0x060000;
  add(host);
  fillBus(0, 0, 'root', 0);
  return { name: `generated-${seed}`, functions, slots };
}
