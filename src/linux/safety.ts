/**
 * Checks before anything destructive (bind to vfio-pci, function reset, hot reset) on a real
 * host: the IOMMU is on, the device is where the user said, nothing the host itself depends on
 * would be hit, and we are root. The answer is data — a list of refusals, each naming the
 * device in the way by BDF with its driver and IOMMU group — and an empty list means "go".
 *
 * "Would be hit" covers the target, every member of its IOMMU group (they are bound, unbound
 * and owned together), and — unless `busScope: false` — every function below the target's
 * parent bridge, which a secondary bus reset resets whatever the groups say. In use by the
 * host means: the boot/console GPU (`boot_vga` = 1); the controller of a disk that holds a
 * mounted filesystem or active swap, also through device-mapper/md stacking (`slaves/`); the
 * NIC of an interface that is up and carries a default route (IPv4 or IPv6), also through
 * bonds, bridges and VLANs (`lower_*`).
 *
 * Everything is read from two roots (`/sys` and `/proc` by default), so fixture trees built
 * with real symlinks test it. Where the mount table cannot be read the answer is a refusal
 * (`cannot-check`): this fails closed. Missing routing tables mean no default route.
 * @module
 */

import { existsSync, lstatSync, readdirSync, readFileSync, readlinkSync, realpathSync } from 'node:fs';
import { basename, dirname, join, relative, sep } from 'node:path';

/** A PCI function by BDF with its driver and IOMMU group (the shape of `host/`'s DeviceRef). */
export interface DeviceRef {
  bdf: string;
  driver: string | null;
  group: number | null;
}

/** Why a device would be hit: it is the target, shares its IOMMU group, or sits below the same bridge. */
export type Reach = 'target' | 'group' | 'bus';

export interface MountUse {
  /** As the mount table shows it: `/dev/sda1`, `/dev/mapper/vg-root`, `/dev/root`. */
  source: string;
  /** Mount point, or `[swap]`. */
  target: string;
}

export type Refusal =
  /** Destructive operations need root (sysfs binds, /dev/vfio). */
  | { code: 'not-root'; device: DeviceRef; euid: number }
  /** The BDF given is not a PCI address. */
  | { code: 'bad-bdf'; device: DeviceRef; input: string }
  /** No IOMMU groups: the IOMMU is off (intel_iommu=on / amd_iommu=on missing), VFIO cannot work. */
  | { code: 'no-iommu'; device: DeviceRef }
  /** Nothing at that BDF. */
  | { code: 'no-device'; device: DeviceRef }
  /** A device is there, but not the one the user named. */
  | { code: 'id-mismatch'; device: DeviceRef; expected: string; found: string }
  /** The IOMMU is on but this device has no group. */
  | { code: 'no-iommu-group'; device: DeviceRef }
  /** The boot/console GPU would be hit. */
  | { code: 'boot-vga'; device: DeviceRef; target: string; reach: Reach }
  /** A disk with mounted filesystems or active swap sits behind this controller. */
  | {
      code: 'mounted-storage';
      device: DeviceRef;
      target: string;
      reach: Reach;
      disk: string;
      mounts: MountUse[];
    }
  /** This NIC carries the interface with the default route. */
  | {
      code: 'default-route';
      device: DeviceRef;
      target: string;
      reach: Reach;
      iface: string;
      via: string;
      family: 'ipv4' | 'ipv6';
    }
  /** Something needed to prove safety could not be read. */
  | { code: 'cannot-check'; device: DeviceRef; what: string; path: string };

export type RefusalCode = Refusal['code'];

export interface SafetyOptions {
  /** `vvvv:dddd` (hex, `0x` optional): the vendor:device the user expects at the BDF. */
  expectId?: string;
  /** Effective uid to check (default: this process's). */
  euid?: number;
  /** Also check what a bus reset would hit: every function below the parent bridge (default true). */
  busScope?: boolean;
}

const BDF_INPUT = /^(?:([0-9a-f]{4,8}):)?([0-9a-f]{2}):([01][0-9a-f])\.([0-7])$/i;
const BDF_NAME = /^[0-9a-f]{4,8}:[0-9a-f]{2}:[01][0-9a-f]\.[0-7]$/;

/** `01:00.0` or `0000:01:00.0` (any case) → `0000:01:00.0`; null when not a BDF. */
export function normalizeBdf(input: string): string | null {
  const m = BDF_INPUT.exec(input.trim());
  if (!m) return null;
  return `${(m[1] ?? '0000').toLowerCase()}:${m[2]!.toLowerCase()}:${m[3]!.toLowerCase()}.${m[4]}`;
}

/** Reads a root-relative tree; every miss is null, never a throw. */
class Tree {
  readonly root: string;
  private readonly real: string | null;
  constructor(root: string) {
    this.root = root;
    this.real = tryDo(() => realpathSync(root));
  }
  path(rel: string): string {
    return join(this.root, rel);
  }
  text(rel: string): string | null {
    return tryDo(() => readFileSync(this.path(rel), 'utf8').trim());
  }
  list(rel: string): string[] {
    return tryDo(() => readdirSync(this.path(rel)).sort()) ?? [];
  }
  exists(rel: string): boolean {
    return existsSync(this.path(rel));
  }
  isDir(rel: string): boolean {
    return tryDo(() => lstatSync(this.path(rel)).isDirectory()) ?? false;
  }
  linkBase(rel: string): string | null {
    return tryDo(() => basename(readlinkSync(this.path(rel))));
  }
  /** The fully resolved path, relative to the (resolved) root, with `/` separators. */
  resolved(rel: string): string | null {
    const real = this.real;
    if (real === null) return null;
    const abs = tryDo(() => realpathSync(this.path(rel)));
    if (abs === null) return null;
    const r = relative(real, abs);
    return r.startsWith('..') ? null : r.split(sep).join('/');
  }
}

function tryDo<T>(f: () => T): T | null {
  try {
    return f();
  } catch {
    return null;
  }
}

/** The PCI function closest to a resolved device path (its last BDF-named component). */
function nearestPci(resolved: string | null): string | null {
  if (resolved === null) return null;
  return (
    resolved
      .split('/')
      .filter((c) => BDF_NAME.test(c))
      .at(-1) ?? null
  );
}

function ref(sys: Tree, bdf: string): DeviceRef {
  const dev = `bus/pci/devices/${bdf}`;
  const g = sys.linkBase(`${dev}/iommu_group`);
  const group = g !== null && /^\d+$/.test(g) ? Number(g) : null;
  return { bdf, driver: sys.linkBase(`${dev}/driver`), group };
}

/** Every function a reset of `bdf` may hit, with why; the target first. */
function scope(sys: Tree, bdf: string, group: number | null, busScope: boolean): Map<string, Reach> {
  const out = new Map<string, Reach>([[bdf, 'target']]);
  if (group !== null)
    for (const m of sys.list(`kernel/iommu_groups/${group}/devices`)) addOnce(out, m, 'group');
  if (busScope) {
    const real = sys.resolved(`bus/pci/devices/${bdf}`);
    const parent = real === null ? null : dirname(real);
    // A device on a root bus has no parent bridge, hence no bus reset.
    if (parent !== null && BDF_NAME.test(basename(parent))) {
      const walk = (dir: string): void => {
        for (const name of sys.list(dir).filter((n) => BDF_NAME.test(n) && sys.isDir(`${dir}/${n}`))) {
          addOnce(out, name, 'bus');
          walk(`${dir}/${name}`);
        }
      };
      walk(parent);
    }
  }
  return out;
}

function addOnce(m: Map<string, Reach>, bdf: string, reach: Reach): void {
  if (!m.has(bdf)) m.set(bdf, reach);
}

/** `\040`-style escapes of the mount tables. */
function unescapeMount(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(Number.parseInt(o, 8)));
}

interface MountEntry extends MountUse {
  /** `major:minor` from mountinfo, when it was the source. */
  dev: string | null;
}

/** Mounts (mountinfo, else mounts) and active swap partitions; null when no mount table is readable. */
function readMounts(proc: Tree): MountEntry[] | null {
  const out: MountEntry[] = [];
  const info = proc.text('self/mountinfo');
  if (info !== null) {
    for (const line of info.split('\n')) {
      const f = line.split(' ');
      const dash = f.indexOf('-');
      if (dash < 6 || f.length < dash + 3) continue;
      out.push({ source: unescapeMount(f[dash + 2]!), target: unescapeMount(f[4]!), dev: f[2]! });
    }
  } else {
    const mounts = proc.text('self/mounts');
    if (mounts === null) return null;
    for (const line of mounts.split('\n')) {
      const f = line.split(' ');
      if (f.length < 2) continue;
      out.push({ source: unescapeMount(f[0]!), target: unescapeMount(f[1]!), dev: null });
    }
  }
  for (const line of (proc.text('swaps') ?? '').split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f[1] === 'partition') out.push({ source: unescapeMount(f[0]!), target: '[swap]', dev: null });
  }
  return out;
}

/** Disks in use: PCI function → disk → the mounts that use it (through partitions and dm/md stacking). */
function storageInUse(sys: Tree, mounts: MountEntry[]): Map<string, Map<string, MountUse[]>> {
  const byDev = new Map<string, string>();
  const byName = new Map<string, string>();
  for (const disk of sys.list('block')) {
    byName.set(disk, disk);
    const dev = sys.text(`block/${disk}/dev`);
    if (dev !== null) byDev.set(dev, disk);
    const dm = sys.text(`block/${disk}/dm/name`);
    if (dm !== null) byName.set(dm, disk);
    for (const part of sys.list(`block/${disk}`)) {
      if (!sys.exists(`block/${disk}/${part}/partition`)) continue;
      byName.set(part, disk);
      const pdev = sys.text(`block/${disk}/${part}/dev`);
      if (pdev !== null) byDev.set(pdev, disk);
    }
  }
  const physical = (disk: string, seen: Set<string>): string[] => {
    if (seen.has(disk)) return [];
    seen.add(disk);
    const slaves = sys.list(`block/${disk}/slaves`);
    if (slaves.length === 0) return [disk];
    return slaves.flatMap((s) => {
      const d = byName.get(s);
      return d === undefined ? [] : physical(d, seen);
    });
  };
  const out = new Map<string, Map<string, MountUse[]>>();
  for (const m of mounts) {
    const disks = new Set<string>();
    if (m.dev !== null) {
      const d = byDev.get(m.dev);
      if (d !== undefined) disks.add(d);
    }
    if (m.source.startsWith('/dev/')) {
      const d = byName.get(basename(m.source));
      if (d !== undefined) disks.add(d);
    }
    for (const disk of [...disks].flatMap((d) => physical(d, new Set()))) {
      const pci = nearestPci(sys.resolved(`block/${disk}/device`));
      if (pci === null) continue;
      const perDisk = out.get(pci) ?? new Map<string, MountUse[]>();
      out.set(pci, perDisk);
      const uses = perDisk.get(disk) ?? [];
      perDisk.set(disk, uses);
      if (!uses.some((u) => u.source === m.source && u.target === m.target))
        uses.push({ source: m.source, target: m.target });
    }
  }
  return out;
}

interface RouteUse {
  iface: string;
  via: string;
  family: 'ipv4' | 'ipv6';
}

/** Interfaces carrying a default route, by family. */
function defaultRouteIfaces(proc: Tree): { iface: string; family: 'ipv4' | 'ipv6' }[] {
  const out: { iface: string; family: 'ipv4' | 'ipv6' }[] = [];
  for (const line of (proc.text('net/route') ?? '').split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    // Iface Destination Gateway Flags RefCnt Use Metric Mask …; RTF_UP = 1.
    if (f.length >= 8 && f[1] === '00000000' && f[7] === '00000000' && (Number.parseInt(f[3]!, 16) & 1) === 1)
      out.push({ iface: f[0]!, family: 'ipv4' });
  }
  for (const line of (proc.text('net/ipv6_route') ?? '').split('\n')) {
    const f = line.trim().split(/\s+/);
    // dest prefixlen src srcprefixlen nexthop metric refcnt use flags iface; RTF_UP = 1.
    if (f.length >= 10 && /^0{32}$/.test(f[0]!) && f[1] === '00' && f[9] !== 'lo') {
      if ((Number.parseInt(f[8]!, 16) & 1) === 1) out.push({ iface: f[9]!, family: 'ipv6' });
    }
  }
  return out;
}

/** NICs (nearest PCI function) under up interfaces carrying a default route, through `lower_*` links. */
function networkInUse(sys: Tree, proc: Tree): Map<string, RouteUse[]> {
  const out = new Map<string, RouteUse[]>();
  const isUp = (iface: string): boolean => {
    const flags = sys.text(`class/net/${iface}/flags`);
    if (flags !== null) return (Number.parseInt(flags, 16) & 1) === 1; // IFF_UP
    return sys.text(`class/net/${iface}/operstate`) === 'up';
  };
  const visit = (iface: string, top: string, family: 'ipv4' | 'ipv6', seen: Set<string>): void => {
    if (seen.has(iface) || !isUp(iface)) return;
    seen.add(iface);
    const pci = nearestPci(sys.resolved(`class/net/${iface}/device`));
    if (pci !== null) {
      const uses = out.get(pci) ?? [];
      out.set(pci, uses);
      if (!uses.some((u) => u.iface === iface && u.family === family)) uses.push({ iface, via: top, family });
    }
    for (const e of sys.list(`class/net/${iface}`))
      if (e.startsWith('lower_')) visit(e.slice('lower_'.length), top, family, seen);
  };
  for (const r of defaultRouteIfaces(proc)) visit(r.iface, r.iface, r.family, new Set());
  return out;
}

/**
 * Everything that makes a destructive operation on `bdf` unsafe on the host whose sysfs and
 * procfs are at the given roots; an empty list means it may go ahead.
 */
export function checkDestructive(
  sysfsRoot: string,
  procRoot: string,
  bdfInput: string,
  options: SafetyOptions = {},
): Refusal[] {
  const sys = new Tree(sysfsRoot);
  const proc = new Tree(procRoot);
  const out: Refusal[] = [];
  const bdf = normalizeBdf(bdfInput);
  const target = bdf === null ? { bdf: bdfInput, driver: null, group: null } : ref(sys, bdf);

  const euid = options.euid ?? process.geteuid?.() ?? -1;
  if (euid !== 0) out.push({ code: 'not-root', device: target, euid });
  if (bdf === null) {
    out.push({ code: 'bad-bdf', device: target, input: bdfInput });
    return out;
  }
  const iommu = sys.list('kernel/iommu_groups').length > 0;
  if (!iommu) out.push({ code: 'no-iommu', device: target });
  if (!sys.exists(`bus/pci/devices/${bdf}`)) {
    out.push({ code: 'no-device', device: target });
    return out;
  }
  if (options.expectId !== undefined) {
    const hex = (s: string | null) => (s ?? '????').replace(/^0x/i, '').toLowerCase();
    const [ev, ed] = options.expectId.split(':').map((p) => hex(p.trim()));
    const found = `${hex(sys.text(`bus/pci/devices/${bdf}/vendor`))}:${hex(sys.text(`bus/pci/devices/${bdf}/device`))}`;
    const expected = `${ev ?? ''}:${ed ?? ''}`;
    if (found !== expected) out.push({ code: 'id-mismatch', device: target, expected, found });
  }
  if (iommu && target.group === null) out.push({ code: 'no-iommu-group', device: target });

  const hit = scope(sys, bdf, target.group, options.busScope ?? true);
  const mounts = readMounts(proc);
  if (mounts === null)
    out.push({ code: 'cannot-check', device: target, what: 'mount table', path: proc.path('self/mounts') });
  if (!sys.isDir('block'))
    out.push({ code: 'cannot-check', device: target, what: 'block devices', path: sys.path('block') });
  const storage = storageInUse(sys, mounts ?? []);
  const network = networkInUse(sys, proc);

  for (const [b, reach] of hit) {
    const device = ref(sys, b);
    if (sys.text(`bus/pci/devices/${b}/boot_vga`) === '1')
      out.push({ code: 'boot-vga', device, target: bdf, reach });
    for (const [disk, uses] of storage.get(b) ?? [])
      out.push({ code: 'mounted-storage', device, target: bdf, reach, disk, mounts: uses });
    for (const r of network.get(b) ?? [])
      out.push({ code: 'default-route', device, target: bdf, reach, ...r });
  }
  return out;
}

function refText(d: DeviceRef): string {
  return `${d.bdf} (driver ${d.driver ?? 'none'}, IOMMU group ${d.group ?? 'none'})`;
}

/** Where a device in the way stands relative to the target. */
function where(r: { device: DeviceRef; target: string; reach: Reach }): string {
  if (r.reach === 'target') return '';
  return r.reach === 'group'
    ? `, in the IOMMU group of ${r.target}`
    : `, below the same bridge as ${r.target} (a bus reset resets it too)`;
}

/** One line of advice per refusal. */
export function refusalText(r: Refusal): string {
  const who = refText(r.device);
  switch (r.code) {
    case 'not-root':
      return `refusing to touch ${r.device.bdf}: not running as root (euid ${r.euid})`;
    case 'bad-bdf':
      return `"${r.input}" is not a PCI address (expected dddd:bb:dd.f, e.g. 0000:01:00.0)`;
    case 'no-iommu':
      return `no IOMMU groups on this host: enable the IOMMU (intel_iommu=on or amd_iommu=on) before using VFIO on ${r.device.bdf}`;
    case 'no-device':
      return `there is no PCI device at ${r.device.bdf}`;
    case 'id-mismatch':
      return `${who} is ${r.found}, not the ${r.expected} you named: check the address`;
    case 'no-iommu-group':
      return `${who} has no IOMMU group, so VFIO cannot own it`;
    case 'boot-vga':
      return `${who} is the boot/console GPU${where(r)}`;
    case 'mounted-storage':
      return `${who} holds disk ${r.disk}, in use (${r.mounts.map((m) => `${m.source} on ${m.target}`).join(', ')})${where(r)}`;
    case 'default-route':
      return `${who} carries ${r.iface}${r.via !== r.iface ? ` (under ${r.via})` : ''} with the ${r.family} default route${where(r)}`;
    case 'cannot-check':
      return `cannot prove ${r.device.bdf} is safe to touch: the ${r.what} at ${r.path} is unreadable`;
  }
}

/** Thrown by callers that refuse to go on (the CLI's `--yes` path). */
export class UnsafeOperationError extends Error {
  readonly code = 'VFIO_RESET_E_UNSAFE';
  readonly refusals: Refusal[];
  constructor(refusals: Refusal[]) {
    super(refusals.map(refusalText).join('; '));
    this.name = 'UnsafeOperationError';
    this.refusals = refusals;
  }
}
