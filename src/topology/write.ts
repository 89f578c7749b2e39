/**
 * The inverse of `load.ts`: a `HostDesc` written as a topology file in the human format — the
 * nested tree of `lspci -tv`, one `kind` per function, and only what differs from that kind's
 * defaults (`DEVICE_KINDS`, `to-host.ts`). Reading the text back with `parseTopology` gives the
 * same description up to ordering (`normalizeHost`), so a captured host reproduces its config
 * images in the simulator.
 *
 * A few descriptions have no spelling in the format (a CardBus header, a PCIe port type on a
 * type-0 header, a slot object on a port without Slot Capabilities …). They are written as near
 * as the format allows and listed as `TopologyLoss`es: in a comment at the top of the file, or as
 * a `TopologyWriteError` with `strict`. Bus ranges that do not nest cannot be written at all.
 * @module
 */

import { Document, isMap, isScalar, isSeq, type Node, type ScalarTag, visit } from 'yaml';
import { formatBdf, hex } from '../pci/bdf.ts';
import {
  ACS_BITS,
  type AcsBit,
  type AcsCap,
  type FunctionDesc,
  type HostDesc,
  LINK_SPEEDS,
  type PcieCap,
  type PcieType,
} from '../pci/model.ts';
import { type PciBus, type PciFunction, Topology } from '../pci/topology.ts';
import { ACS_FULL, BUS_HOTPLUG, DEVICE_KINDS, type DeviceKind, LINK_WIDTHS, PORT_HOTPLUG } from './schema.ts';

export interface TopologyWriteOptions {
  /**
   * Comment at the top of the file, e.g. where and when the host was captured (`#` is added to
   * each line). The writer reads no clock, so the same host always gives the same text.
   */
  header?: string | readonly string[];
  /** The file's `description:`. */
  description?: string;
  /** Throw `TopologyWriteError` instead of writing what the format cannot express as a comment. */
  strict?: boolean;
}

/** Something of the description the file cannot say; the file describes a slightly different host there. */
export interface TopologyLoss {
  /** `pci_name()` of the function, `slot <name>`, or null for the host. */
  where: string | null;
  /** The description field, e.g. `header`, `acs.cap`, `pcie.linkSpeedsVector`. */
  field: string;
  message: string;
}

export class TopologyWriteError extends Error {
  readonly code = 'VFIO_RESET_E_TOPOLOGY_WRITE';
  readonly losses: TopologyLoss[];
  constructor(losses: TopologyLoss[]) {
    super(
      `the topology format cannot express ${losses.length === 1 ? 'one detail' : `${losses.length} details`} of this host:\n${losses.map(formatLoss).join('\n')}`,
    );
    this.name = 'TopologyWriteError';
    this.losses = losses;
  }
}

export function formatLoss(l: TopologyLoss): string {
  return `${l.where === null ? '' : `${l.where}: `}${l.field}: ${l.message}`;
}

/** The topology file text of `desc` (see the module comment for what cannot be written). */
export function hostToTopologyYaml(desc: HostDesc, opts: TopologyWriteOptions = {}): string {
  return writeTopology(desc, opts).yaml;
}

/**
 * Like `hostToTopologyYaml`, also returning what could not be written. Throws `TopologyError` for
 * a host `Topology.build` refuses, and `TopologyWriteError` when its bus ranges do not nest (no
 * tree can say that) or, with `strict`, when anything is lost.
 */
export function writeTopology(
  desc: HostDesc,
  opts: TopologyWriteOptions = {},
): { yaml: string; losses: TopologyLoss[] } {
  // Validates first: an invalid host (duplicate addresses, bus loops) has no tree to write.
  const topo = Topology.build(desc);
  const losses: TopologyLoss[] = [];
  const file: Record<string, unknown> = { name: desc.name === '' ? 'host' : desc.name };
  if (desc.name === '') losses.push({ where: null, field: 'name', message: 'empty; written as "host"' });
  if (opts.description !== undefined) file.description = opts.description;
  const fatal: TopologyLoss[] = [];
  const ranges = busRanges(topo, fatal);
  file.roots = topo.rootBuses.map((bus) => writeRoot(bus, losses, ranges));
  // Bus ranges that do not nest have no tree to write (the kernel would renumber such a host).
  if (fatal.length > 0) throw new TopologyWriteError(fatal);
  if (opts.strict && losses.length > 0) throw new TopologyWriteError(losses);
  return { yaml: render(file, opts, losses), losses };
}

// ---- one root, one device ----------------------------------------------------------------------

/** A number written in hex (`0x06`), which YAML 1.2 reads back as an integer. */
class HexInt {
  readonly value: number;
  readonly digits: number;
  constructor(value: number, digits: number) {
    this.value = value;
    this.digits = digits;
  }
}

const h = (n: number, digits: number) => hex(n & (16 ** digits - 1), digits);

function writeRoot(bus: PciBus, losses: TopologyLoss[], ranges: BusRanges): Record<string, unknown> {
  const root: Record<string, unknown> = {};
  if (bus.domain !== 0) root.domain = new HexInt(bus.domain, 4);
  if (bus.number !== 0) root.bus = new HexInt(bus.number, 2);
  root.devices = bus.devices.map((f) => writeDevice(f, losses, ranges));
  const slots = writeBusSlots(bus, losses);
  if (slots.length > 0) root.slots = slots;
  return root;
}

/** The kind that best names a function, and why it falls short when it does. */
function kindOf(d: FunctionDesc): { kind: DeviceKind; loss: string | null } {
  const type = d.pcie?.type;
  if (d.header === 'cardbus')
    return {
      kind: 'pci-bridge',
      loss: 'a CardBus bridge (header type 2) has no kind; written as a pci-bridge',
    };
  if (d.header === 'bridge') {
    const byType: Partial<Record<PcieType, DeviceKind>> = {
      'root-port': 'root-port',
      upstream: 'upstream-port',
      downstream: 'downstream-port',
      'pcie-to-pci': 'pcie-to-pci-bridge',
      'pci-to-pcie': 'pci-to-pcie-bridge',
    };
    if (type === undefined) return { kind: 'pci-bridge', loss: null };
    const kind = byType[type];
    if (kind) return { kind, loss: null };
    return {
      kind: 'pci-bridge',
      loss: `PCIe type ${type} on a bridge header has no kind; written as a pci-bridge without its PCIe capability`,
    };
  }
  if (type === undefined)
    return { kind: d.classCode === 0x060000 ? 'host-bridge' : 'conventional', loss: null };
  if (
    type === 'endpoint' ||
    type === 'legacy-endpoint' ||
    type === 'rc-endpoint' ||
    type === 'rc-event-collector'
  )
    return { kind: type, loss: null };
  return {
    kind: 'endpoint',
    loss: `PCIe type ${type} on a type-0 header has no kind; written as an endpoint`,
  };
}

function writeDevice(f: PciFunction, losses: TopologyLoss[], ranges: BusRanges): Record<string, unknown> {
  const d = f.desc;
  const lose = (field: string, message: string) => losses.push({ where: f.name, field, message });
  const { kind, loss } = kindOf(d);
  if (loss) lose('header', loss);
  const k = DEVICE_KINDS[kind];
  const out: Record<string, unknown> = {};

  out.bdf = d.bdf.domain === 0 ? `${h(d.bdf.bus, 2)}:${h(d.bdf.device, 2)}.${d.bdf.fn}` : formatBdf(d.bdf);
  out.kind = kind;
  if (d.vendor > 0xffff || d.device > 0xffff || d.vendor < 0 || d.device < 0)
    lose('vendor', 'vendor and device ids are 16 bits; written masked');
  out.id = `${h(d.vendor, 4)}:${h(d.device, 4)}`;
  if (k.classCode === null || d.classCode !== k.classCode) out.class = `0x${h(d.classCode, 6)}`;
  if (d.subsystemVendor !== 0 || d.subsystemDevice !== 0)
    out.subsystem = `${h(d.subsystemVendor, 4)}:${h(d.subsystemDevice, 4)}`;
  if (d.revision !== 0) out.revision = `0x${h(d.revision, 2)}`;
  if (d.label !== undefined) out.label = d.label;
  if (d.bars !== undefined) out.bars = [...d.bars];
  const driver = d.driver === '' ? null : d.driver;
  if (d.driver === '') lose('driver', 'an empty driver name is written as no driver');
  if (driver !== k.driver) out.driver = driver;
  if (d.driverOverride === '') lose('driverOverride', 'an empty driver_override is written as unset');
  else if (d.driverOverride !== null) out.driver_override = d.driverOverride;

  // The loader's default: function 0 sets the bit when non-VF functions share its slot.
  const siblings = f.bus.devices.some(
    (s) => s !== f && s.bdf.device === d.bdf.device && s.bdf.fn > 0 && !s.desc.virtfn,
  );
  const mfDefault = d.bdf.fn === 0 && siblings && !d.virtfn;
  if (d.multifunctionBit !== mfDefault) {
    if (d.virtfn && d.multifunctionBit)
      lose('multifunctionBit', 'a virtual function with the multi-function bit cannot be written; dropped');
    else out.multifunction = d.multifunctionBit;
  }
  if (d.virtfn) out.virtfn = true;

  const pcie = k.pcie === null ? undefined : d.pcie;
  if (k.pcie === null && d.pcie && !loss) lose('pcie', `kind ${kind} has no PCIe capability; dropped`);
  if (pcie?.flr) out.flr = true;
  if (d.pm) out.pm = d.pm.noSoftReset ? { no_soft_reset: true } : true;
  if (d.af) {
    if (d.af.tp && d.af.flr) out.af_flr = true;
    else out.af_flr = { ...(d.af.tp ? {} : { tp: false }), ...(d.af.flr ? {} : { flr: false }) };
  }
  const acs = writeAcs(d.acs, pcie !== undefined, k.acs, lose);
  if (acs !== undefined) out.acs = acs;
  if (pcie) {
    const link = writeLink(pcie, lose);
    if (link) out.link = link;
  }
  if (k.slot === 'port' && f.subordinate) {
    const slot = writePortSlot(f, pcie, losses);
    if (slot) out.slot = slot;
  } else if (pcie?.slot) {
    lose('pcie.slot', `kind ${kind} has no slot; its Slot Capabilities are dropped`);
  }
  if (k.slot === 'bus' && f.subordinate) {
    const slots = writeBusSlots(f.subordinate, losses);
    if (slots.length > 0) out.slots = slots;
  } else if (k.slot === 'none' && f.subordinate) {
    for (const s of f.subordinate.slots)
      losses.push({
        where: `slot ${s.desc.name}`,
        field: 'slot',
        message: `on bus ${f.subordinate.name} below ${kind} ${f.name}, where the format has no slots; dropped`,
      });
  }
  if (d.sriov) {
    if (!pcie) lose('sriov', 'SR-IOV needs a PCIe kind; dropped');
    else {
      const { totalVfs } = d.sriov;
      let numVfs = d.sriov.numVfs;
      if (numVfs > totalVfs) {
        lose('sriov.numVfs', `${numVfs} VFs enabled of ${totalVfs}; written as ${totalVfs}`);
        numVfs = totalVfs;
      }
      out.sriov = {
        total_vfs: totalVfs,
        ...(numVfs !== 0 ? { num_vfs: numVfs } : {}),
        vf_device: h(d.sriov.vfDeviceId, 4),
      };
    }
  }
  if (d.quirks.length > 0) out.quirks = [...new Set(d.quirks)].sort();
  if (d.acpiReset) out.acpi_reset = true;

  if (k.bridge) {
    const below = f.subordinate;
    if (!below) lose('bridge', 'a bridge without a secondary bus cannot be written');
    else {
      if (below.devices.length === 0) out.bus = new HexInt(below.number, 2);
      const r = ranges.of(f);
      if (r.written !== r.fallback) out.subordinate = new HexInt(r.written, 2);
      if (r.loss) lose('bridge.subordinate', r.loss);
      if (below.devices.length > 0) out.below = below.devices.map((c) => writeDevice(c, losses, ranges));
    }
  } else if (d.bridge) {
    lose('bridge', `kind ${kind} has no secondary bus; bus numbers dropped`);
  }
  return out;
}

/**
 * Subordinate bus numbers as the file can give them. The loader takes the highest bus below a
 * bridge unless `subordinate:` says more, and requires every bridge's range to hold only buses
 * below it; so a larger subordinate (buses firmware reserved) is written up to the next bus that
 * belongs elsewhere, and a smaller one (a range that does not cover its own buses) cannot be.
 */
interface BusRanges {
  of(f: PciFunction): { fallback: number; written: number; loss: string | null };
}

function busRanges(topo: Topology, fatal: TopologyLoss[]): BusRanges {
  const owned = new Map<number, Set<number>>();
  for (const b of topo.allBuses()) {
    const set = owned.get(b.domain) ?? new Set<number>();
    set.add(b.number);
    owned.set(b.domain, set);
  }
  const memo = new Map<PciFunction, { fallback: number; written: number; loss: string | null }>();
  const of = (f: PciFunction) => {
    const known = memo.get(f);
    if (known) return known;
    const below = f.subordinate!;
    const mine = new Set<number>();
    Topology.walkBelow(below, (g) => {
      if (g.subordinate) mine.add(g.subordinate.number);
    });
    mine.add(below.number);
    const foreign = (b: number) => owned.get(f.bdf.domain)!.has(b) && !mine.has(b);
    let fallback = below.number;
    for (const c of below.devices) fallback = Math.max(fallback, c.subordinate ? of(c).written : c.bdf.bus);
    for (let b = below.number; b <= fallback; b++)
      if (foreign(b)) {
        fatal.push({
          where: f.name,
          field: 'bridge',
          message: `the buses behind it (${h(below.number, 2)}-${h(fallback, 2)}) include bus ${h(b, 2)} from elsewhere in the tree; a file needs bus ranges that nest`,
        });
        break;
      }
    const sub = f.desc.bridge?.subordinate ?? below.number;
    let written = Math.max(sub, fallback);
    let loss: string | null = null;
    if (sub < fallback)
      loss = `${h(sub, 2)} is below bus ${h(fallback, 2)} behind this bridge; written as ${h(fallback, 2)}`;
    for (let b = fallback + 1; b <= written; b++)
      if (foreign(b)) {
        loss = `${h(sub, 2)} reaches bus ${h(b, 2)}, which is elsewhere in the tree; written as ${h(b - 1, 2)}`;
        written = b - 1;
        break;
      }
    const r = { fallback, written, loss };
    memo.set(f, r);
    return r;
  };
  return { of };
}

const ACS_NAMES = Object.keys(ACS_BITS) as AcsBit[];
const acsNames = (mask: number) => ACS_NAMES.filter((b) => mask & ACS_BITS[b]);
const acsMask = (bits: readonly AcsBit[]) => bits.reduce((m, b) => m | ACS_BITS[b], 0);
const NAMED_ACS = acsMask(ACS_NAMES);

function writeAcs(
  acs: AcsCap | undefined,
  pcie: boolean,
  byDefault: boolean,
  lose: (field: string, message: string) => void,
): unknown {
  if (!pcie) {
    if (acs) lose('acs', 'ACS is a PCIe extended capability and this kind is conventional PCI; dropped');
    return undefined;
  }
  if (!acs) return byDefault ? 'none' : undefined;
  if (acs.cap & ~NAMED_ACS)
    lose(
      'acs.cap',
      `bits 0x${h(acs.cap & ~NAMED_ACS, 4)} (e.g. the egress control vector size) have no name; dropped`,
    );
  if (acs.ctrl & ~NAMED_ACS) lose('acs.ctrl', `bits 0x${h(acs.ctrl & ~NAMED_ACS, 4)} have no name; dropped`);
  const cap = acs.cap & NAMED_ACS;
  let ctrl = acs.ctrl & NAMED_ACS;
  if (ctrl & ~cap) {
    lose(
      'acs.ctrl',
      `enables ${acsNames(ctrl & ~cap).join(', ')}, which the capability register lacks; dropped`,
    );
    ctrl &= cap;
  }
  const full = acsMask(ACS_FULL);
  if (cap === full && ctrl === full) return byDefault ? undefined : 'full';
  return ctrl === cap ? { cap: acsNames(cap) } : { cap: acsNames(cap), ctrl: acsNames(ctrl) };
}

/** Speed names by code (object key order would put "2.5" last). */
const SPEED_NAMES = (Object.entries(LINK_SPEEDS) as [keyof typeof LINK_SPEEDS, number][])
  .sort((a, b) => a[1] - b[1])
  .map(([name]) => name);

function writeLink(
  p: PcieCap,
  lose: (field: string, message: string) => void,
): Record<string, unknown> | null {
  const out: Record<string, unknown> = {};
  const vector = p.linkSpeedsVector;
  let code = p.linkSpeedCode;
  if (code > SPEED_NAMES.length) {
    const fromVector = vector === 0 ? 0 : 32 - Math.clz32(vector);
    lose(
      'pcie.linkSpeedCode',
      `LNKCAP speed code ${code} is reserved; written as ${fromVector === 0 ? 'unknown' : `${SPEED_NAMES[fromVector - 1]} GT/s`}`,
    );
    code = Math.min(fromVector, SPEED_NAMES.length);
  }
  if (code === 0) {
    if (vector !== 0)
      lose(
        'pcie.linkSpeedsVector',
        'a LNKCAP2 speed vector without a LNKCAP speed cannot be written; dropped',
      );
    out.speed = 'unknown';
  } else {
    if (code !== 1) out.speed = SPEED_NAMES[code - 1];
    const full = (1 << code) - 1;
    if (vector === 0) out.lnkcap2 = false;
    else if (vector !== full)
      lose(
        'pcie.linkSpeedsVector',
        `LNKCAP2 vector 0x${h(vector, 2)} is not every speed up to the LNKCAP speed; written as 0x${h(full, 2)}`,
      );
  }
  if (p.linkWidth !== 1) {
    if ((LINK_WIDTHS as readonly number[]).includes(p.linkWidth)) out.width = p.linkWidth;
    else lose('pcie.linkWidth', `x${p.linkWidth} is not a link width the format knows; written as x1`);
  }
  if (p.dllActiveReporting) out.active_reporting = true;
  if (!p.linkActive) out.active = false;
  return Object.keys(out).length > 0 ? out : null;
}

function writePortSlot(f: PciFunction, pcie: PcieCap | undefined, losses: TopologyLoss[]): unknown {
  const below = f.subordinate!;
  const obj = below.slots.find((s) => s.desc.device === 0);
  for (const s of below.slots)
    if (s !== obj)
      losses.push({
        where: `slot ${s.desc.name}`,
        field: 'slot',
        message: `at device ${h(s.desc.device, 2)} below port ${f.name}; a port's slot is at device 0; dropped`,
      });
  const cap = pcie?.slot;
  if (!cap) {
    if (obj)
      losses.push({
        where: `slot ${obj.desc.name}`,
        field: 'slot',
        message: `below ${f.name}, whose PCIe capability has no Slot Capabilities; the format ties a port's slot to them; dropped`,
      });
    return undefined;
  }
  let hotplug: (typeof PORT_HOTPLUG)[number] = 'none';
  if (obj) {
    if ((PORT_HOTPLUG as readonly string[]).includes(obj.desc.driver))
      hotplug = obj.desc.driver as typeof hotplug;
    else {
      losses.push({
        where: `slot ${obj.desc.name}`,
        field: 'driver',
        message: `${obj.desc.driver} does not drive PCIe port slots; written as pci_slot`,
      });
      hotplug = 'pci_slot';
    }
  }
  const out: Record<string, unknown> = { number: cap.physicalNumber };
  if (obj && obj.desc.name !== String(cap.physicalNumber)) out.name = obj.desc.name;
  out.hotplug = hotplug;
  if (cap.hotplugCapable !== (hotplug !== 'none' && hotplug !== 'pci_slot'))
    out.hotplug_capable = cap.hotplugCapable;
  if (cap.attentionButton) out.attention_button = true;
  if (cap.powerController) out.power_controller = true;
  if (cap.surprise) out.surprise = true;
  if (cap.noCommandCompleted) out.no_command_completed = true;
  return out;
}

function writeBusSlots(bus: PciBus, losses: TopologyLoss[]): unknown[] {
  const out: unknown[] = [];
  for (const s of [...bus.slots].sort((a, b) => a.desc.device - b.desc.device)) {
    if (s.desc.device > 0x1f) {
      losses.push({
        where: `slot ${s.desc.name}`,
        field: 'device',
        message: `device ${h(s.desc.device, 2)} is above 1f; dropped`,
      });
      continue;
    }
    let driver = s.desc.driver as string;
    if (!(BUS_HOTPLUG as readonly string[]).includes(driver)) {
      losses.push({
        where: `slot ${s.desc.name}`,
        field: 'driver',
        message: `${driver} does not drive slots on a conventional bus; written as pci_slot`,
      });
      driver = 'pci_slot';
    }
    // `number` is the physical slot number the name usually is; a non-numeric name is kept as is.
    const number = /^(0|[1-9][0-9]{0,4})$/.test(s.desc.name) ? Number(s.desc.name) : 0;
    const slot: Record<string, unknown> = {
      device: new HexInt(s.desc.device, 2),
      number: number <= 0xffff ? number : 0,
    };
    if (s.desc.name !== String(slot.number)) slot.name = s.desc.name;
    slot.hotplug = driver;
    out.push(slot);
  }
  return out;
}

// ---- text ------------------------------------------------------------------------------------------

const hexTag: ScalarTag = {
  identify: (v) => v instanceof HexInt,
  tag: 'tag:yaml.org,2002:int',
  default: true,
  resolve: (s) => Number.parseInt(s, 16),
  stringify: (item) => {
    const v = item.value as HexInt;
    return `0x${h(v.value, v.digits)}`;
  },
};

/** Values quoted as in the examples (hex text that must stay text). */
const QUOTED = new Set(['bdf', 'id', 'class', 'subsystem', 'revision', 'vf_device', 'speed']);
/** Small maps and lists written on one line. */
const FLOW = new Set(['pm', 'af_flr', 'acs', 'link', 'slot', 'sriov', 'quirks', 'cap', 'ctrl']);

function render(file: Record<string, unknown>, opts: TopologyWriteOptions, losses: TopologyLoss[]): string {
  const doc = new Document(file, { customTags: [hexTag] });
  visit(doc, {
    Pair(_, pair) {
      const key = isScalar(pair.key) ? String(pair.key.value) : '';
      const v = pair.value as Node | null;
      if (QUOTED.has(key) && isScalar(v) && typeof v.value === 'string' && key !== 'speed')
        v.type = 'QUOTE_DOUBLE';
      if (key === 'speed' && isScalar(v) && v.value !== 'unknown') v.type = 'QUOTE_DOUBLE';
      if (FLOW.has(key) && (isMap(v) || isSeq(v))) v.flow = true;
      if (key === 'slots' && isSeq(v)) for (const s of v.items) if (isMap(s)) s.flow = true;
    },
  });
  // A blank line between the devices of a root bus, as in the examples.
  const roots = doc.get('roots', true);
  if (isSeq(roots))
    for (const r of roots.items) {
      const devices = isMap(r) ? r.get('devices', true) : null;
      if (isSeq(devices))
        devices.items.forEach((d, i) => {
          if (i > 0 && isMap(d)) d.spaceBefore = true;
        });
    }
  const header = typeof opts.header === 'string' ? opts.header.split('\n') : [...(opts.header ?? [])];
  if (losses.length > 0) {
    if (header.length > 0) header.push('');
    header.push('Not expressible in this format (the file describes a slightly different host there):');
    for (const l of losses) header.push(`  ${formatLoss(l)}`);
  }
  if (header.length > 0) doc.commentBefore = header.map((l) => (l === '' ? '' : ` ${l}`)).join('\n');
  return doc.toString({ lineWidth: 0 });
}
