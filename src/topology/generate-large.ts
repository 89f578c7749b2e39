/**
 * Large synthetic hosts for benchmarks: a server with exactly `functions` PCI functions (256,
 * 4,096, 100,000 …) built the way such machines look — several PCI segments (domains), root ports
 * feeding PCIe switches nested `switchDepth` deep, and behind the switch ports GPUs with their
 * audio function, NVMe drives, and NICs whose SR-IOV virtual functions make up most of the count.
 *
 * `generateHost` (generate.ts) draws small random hosts for property tests; this one draws only
 * the device mix from its seed and keeps the shape regular, so that every host size has the same
 * local structure (a GPU behind a switch port has the same reset bus at 256 and at 100,000
 * functions) and cost can be compared across sizes. The result always enumerates under Linux's
 * scan rules (`Topology.build` accepts it): device 0 only below PCIe ports except VFs, function 0
 * multifunction when others share its slot, bus numbers allocated depth first per segment.
 * @module
 */

import type { Bdf } from '../pci/bdf.ts';
import {
  type FunctionDesc,
  functionDefaults,
  type HostDesc,
  type PcieCap,
  type SlotDesc,
} from '../pci/model.ts';
import { prng } from './generate.ts';

export interface LargeHostOptions {
  /** Exact number of functions in the result (at least 1). */
  functions: number;
  seed: number;
  /** Root ports per segment (root-bus devices 1..n). */
  rootPorts: number;
  /** Downstream ports per switch. */
  switchPorts: number;
  /** Switches nested below a root port (1 = root port → switch → endpoints). */
  switchDepth: number;
  /** Virtual functions a NIC enables (the kernel places them after the PF, devfn 1, 2 …). */
  vfsPerNic: number;
}

export const LARGE_HOST_DEFAULTS: Omit<LargeHostOptions, 'functions'> = {
  seed: 1,
  rootPorts: 16,
  switchPorts: 4,
  switchDepth: 3,
  vfsPerNic: 63,
};

/** Highest bus number of a segment; a bridge needs one bus of its own below it. */
const MAX_BUS = 0xff;

// Vendor/device ids of common parts, so class names and quirk tables see realistic devices.
const ID = {
  hostBridge: [0x8086, 0x09a2],
  rootPort: [0x8086, 0x347a],
  switchUp: [0x10b5, 0x8796],
  switchDown: [0x10b5, 0x8796],
  gpu: [0x10de, 0x2684],
  gpuAudio: [0x10de, 0x22ba],
  nvme: [0x144d, 0xa80a],
  nic: [0x15b3, 0x101d],
  nicVf: [0x15b3, 0x101e],
  lpc: [0x8086, 0x7a84],
} as const;

const link = (speedCode: number, width: number): Omit<PcieCap, 'type' | 'flr'> => ({
  linkSpeedCode: speedCode,
  linkSpeedsVector: (1 << speedCode) - 1,
  linkWidth: width,
  dllActiveReporting: true,
  linkActive: true,
});

const ACS_ON = { cap: 0x1f, ctrl: 0x1d }; // SV RR CR UF enabled: every port isolates its children

export function generateLargeHost(opts: Partial<LargeHostOptions> & { functions: number }): HostDesc {
  const o: LargeHostOptions = { ...LARGE_HOST_DEFAULTS, ...opts };
  if (!Number.isInteger(o.functions) || o.functions < 1)
    throw new RangeError(`generateLargeHost: functions must be a positive integer, not ${o.functions}`);
  if (o.rootPorts < 1 || o.rootPorts > 30) throw new RangeError('generateLargeHost: rootPorts must be 1..30');
  if (o.switchPorts < 1 || o.switchPorts > 32)
    throw new RangeError('generateLargeHost: switchPorts must be 1..32');
  if (o.vfsPerNic < 0 || o.vfsPerNic > 255)
    throw new RangeError('generateLargeHost: vfsPerNic must be 0..255');
  const rnd = prng(o.seed);
  const functions: FunctionDesc[] = [];
  const slots: SlotDesc[] = [];
  const left = () => o.functions - functions.length;

  const fn = (bdf: Bdf, id: readonly [number, number], classCode: number): FunctionDesc => {
    const f = functionDefaults(bdf);
    [f.vendor, f.device] = id;
    f.classCode = classCode;
    functions.push(f);
    return f;
  };
  const port = (bdf: Bdf, type: 'root-port' | 'downstream' | 'upstream', secondary: number) => {
    const f = fn(
      bdf,
      type === 'root-port' ? ID.rootPort : type === 'upstream' ? ID.switchUp : ID.switchDown,
      0x060400,
    );
    f.header = 'bridge';
    f.driver = 'pcieport';
    f.pcie = { type, flr: false, ...link(type === 'upstream' ? 4 : 5, 16) };
    if (type !== 'upstream') {
      f.acs = ACS_ON;
      f.pm = { noSoftReset: true };
    }
    f.bridge = { secondary, subordinate: secondary };
    return f;
  };
  /** A hotplug slot on a port: pciehp, so the kernel's hot reset is a slot reset. */
  const slotOn = (f: FunctionDesc) => {
    const n = slots.length + 1;
    f.pcie!.slot = {
      physicalNumber: n,
      hotplugCapable: true,
      attentionButton: false,
      powerController: true,
      surprise: false,
      noCommandCompleted: false,
    };
    slots.push({
      domain: f.bdf.domain,
      bus: f.bridge!.secondary,
      device: 0,
      name: String(n),
      driver: 'pciehp',
    });
  };

  /** One endpoint device on `bus` device 0 (below a port): a GPU, an NVMe drive or a NIC with VFs. */
  const endpoint = (domain: number, bus: number) => {
    const at = (device: number, f: number): Bdf => ({ domain, bus, device, fn: f });
    const r = rnd();
    if (r < 0.2 && left() >= 2) {
      const gpu = fn(at(0, 0), ID.gpu, 0x030000);
      gpu.multifunctionBit = true;
      gpu.pcie = { type: 'endpoint', flr: false, ...link(4, 16) };
      gpu.pm = { noSoftReset: true };
      gpu.driver = rnd() < 0.5 ? 'vfio-pci' : 'nvidia';
      const audio = fn(at(0, 1), ID.gpuAudio, 0x040300);
      audio.pcie = { type: 'endpoint', flr: false, ...link(4, 16) };
      audio.pm = { noSoftReset: true };
      audio.driver = gpu.driver === 'vfio-pci' ? 'vfio-pci' : 'snd_hda_intel';
    } else if (r < 0.45 || left() < 2 || o.vfsPerNic === 0) {
      const nvme = fn(at(0, 0), ID.nvme, 0x010802);
      nvme.pcie = { type: 'endpoint', flr: true, ...link(4, 4) };
      nvme.pm = { noSoftReset: true };
      nvme.driver = rnd() < 0.8 ? 'nvme' : 'vfio-pci';
    } else {
      const vfs = Math.min(o.vfsPerNic, left() - 1);
      const pf = fn(at(0, 0), ID.nic, 0x020000);
      pf.pcie = { type: 'endpoint', flr: true, ...link(4, 16) };
      pf.pm = { noSoftReset: true };
      pf.sriov = { totalVfs: o.vfsPerNic, numVfs: vfs, vfDeviceId: ID.nicVf[1] };
      pf.driver = 'mlx5_core';
      // ARI: VF n sits at devfn n (first VF offset 1, stride 1), beyond device 0 as ARI allows.
      for (let v = 1; v <= vfs; v++) {
        const vf = fn(at(v >> 3, v & 7), ID.nicVf, 0x020000);
        vf.pcie = { type: 'endpoint', flr: true, ...link(4, 16) };
        vf.virtfn = true;
        vf.driver = rnd() < 0.75 ? 'vfio-pci' : 'mlx5_core';
      }
    }
  };

  let domain = 0;
  let nextBus = 1;
  /** Depth-first bus allocation; returns the subordinate bus number of the subtree. */
  const belowPort = (bridge: FunctionDesc, depth: number): number => {
    const bus = bridge.bridge!.secondary;
    if (depth < o.switchDepth && left() >= 2 && nextBus + 1 + o.switchPorts <= MAX_BUS) {
      const internal = nextBus++;
      const up = port({ domain, bus, device: 0, fn: 0 }, 'upstream', internal);
      let sub = internal;
      for (let d = 0; d < o.switchPorts && left() > 0 && nextBus <= MAX_BUS; d++) {
        const dsp = port({ domain, bus: internal, device: d, fn: 0 }, 'downstream', nextBus++);
        if (depth + 1 === o.switchDepth) slotOn(dsp);
        sub = belowPort(dsp, depth + 1);
        dsp.bridge!.subordinate = sub;
      }
      up.bridge!.subordinate = sub;
      return sub;
    }
    if (left() > 0) endpoint(domain, bus);
    return bus;
  };

  while (left() > 0) {
    fn({ domain, bus: 0, device: 0, fn: 0 }, ID.hostBridge, 0x060000);
    // Chipset functions without ACS share one slot, and so one IOMMU group (A4.4).
    for (let f = 0; f < 4 && left() > 0; f++) {
      const lpc = fn(
        { domain, bus: 0, device: 0x1f, fn: f },
        ID.lpc,
        [0x060100, 0x0c0500, 0x0c8000, 0x040300][f]!,
      );
      lpc.multifunctionBit = f === 0;
      lpc.driver = f === 3 ? 'snd_hda_intel' : null;
    }
    nextBus = 1;
    for (let p = 1; p <= o.rootPorts && left() > 0 && nextBus <= MAX_BUS; p++) {
      const rp = port({ domain, bus: 0, device: p, fn: 0 }, 'root-port', nextBus++);
      rp.bridge!.subordinate = belowPort(rp, 0);
    }
    domain++;
  }
  return { name: `large-${o.functions}-seed${o.seed}`, functions, slots };
}
