/**
 * A random world for the invariants of issue 8: a generated host in one era, two user processes
 * making random VFIO syscalls (containers, groups, device fds, function and hot resets, cdev binds,
 * driver changes, lock contention, closes, a process dying), and after every syscall the checks of
 * the kernel's promise:
 *
 * - ownership: a call touches (resets) only functions the caller owns — a function reset its device,
 *   a hot reset the functions whose groups it passed (or, cdev mode, its iommufd ctx owns), a close the
 *   vfio-pci functions nobody has open; a function bound to a DMA-using host driver is never touched;
 *   a refused call changes nothing (kernel state, resets) unless the kernel ran the reset and only its
 *   wait failed (the pass-through rules H9.*, D3.*);
 * - INFO agrees with the reset's scope: its entries are the reset scope in walk order, its group ids
 *   are the sysfs groups, and a hot reset that succeeds resets exactly the INFO entries;
 * - IOMMU groups (sysfs) partition the functions that have one;
 * - fds: the kernel's fd table is exactly what the processes hold; a new fd is the lowest free one and
 *   names the file just opened; a closed fd answers EBADF; nothing is left once every process exited;
 * - open counts: a device's open count is the number of files that opened it, and every dev_set's
 *   count is back to zero when the processes are gone;
 * - the virtual clock and the kernel log only move forward.
 *
 * A world is a pure function of its case (seeds, era, sizes), so a failing case is a regression case.
 */
import assert from 'node:assert/strict';
import { KernelError } from '../../src/kernel/syscalls.ts';
import { isDmaNeutralDriver, isVfioDriver } from '../../src/pci/drivers.ts';
import type { Era } from '../../src/pci/era.ts';
import { hotResetScope } from '../../src/pci/reset-scope.ts';
import { SimKernel, type VfioStateView } from '../../src/sim/kernel.ts';
import { SimDeadlockError } from '../../src/sim/pci-exec.ts';
import { generateHost, prng } from '../../src/topology/generate.ts';
import { VFIO, VFIO_EXTENSION } from '../../src/uapi/ioctl.ts';
import {
  encodeBindIommufd,
  encodeCString,
  encodeDeviceInfo,
  encodeHotReset,
  VFIO_PCI_DEVID,
} from '../../src/uapi/vfio-structs.ts';
import * as io from '../../src/vfio/ioctls.ts';
import { groupMembers, iommuGroupOf } from '../../src/vfio/locate.ts';
import type { SuiteFigures } from './figures.ts';
import { SimProcess } from './process.ts';

export interface WorldCase {
  hostSeed: number;
  progSeed: number;
  era: Era;
  /** Upper bound on functions of the generated host. */
  size: number;
  /** Random actions (each one or a few syscalls). */
  steps: number;
}

/** Mostly vfio-pci, so that scopes are often all-VFIO; a DMA-using host driver in every other host. */
const DRIVERS = ['vfio-pci', 'vfio-pci', 'vfio-pci', 'vfio-pci', null, 'pci-stub', 'e1000e', 'nvme'];

type Kind = 'container' | 'group' | 'device' | 'cdev' | 'iommufd';
interface Handle {
  fd: number;
  kind: Kind;
  group?: number;
  bdf?: string;
}

interface Proc {
  p: SimProcess;
  handles: Map<number, Handle>;
}

/** What one syscall may touch, judged on the state before it. */
type Allowed = { kind: 'nothing' } | { kind: 'only'; functions: Set<string> } | { kind: 'closed' };

interface Observation {
  view: VfioStateView;
  /** `view` as JSON, to compare whole states. */
  state: string;
  resets: Map<string, number>;
  drivers: Map<string, string | null>;
  internal: Map<string, number>;
  present: Map<string, boolean>;
  now: number;
}

/** Errors whose rule says the kernel ran the reset and reports what the PCI core returned. */
const PASS_RULE = /^(D3|D3_2013|H9|Y4)\./;

export class World {
  readonly k: SimKernel;
  readonly c: WorldCase;
  private readonly fig: SuiteFigures;
  private readonly rnd: () => number;
  private readonly procs: Proc[];
  private readonly names: string[];
  private lastNow = 0;
  /** The observation after the last syscall: faults change nothing it holds, so it is the next one's 'before'. */
  private last: Observation | null = null;
  /** INFO entries last seen per device, to compare with what its next hot reset touches. */
  private readonly infoSeen = new Map<string, string[]>();

  constructor(c: WorldCase, fig: SuiteFigures) {
    this.c = c;
    this.fig = fig;
    const desc = generateHost(c.hostSeed, { maxFunctions: c.size, maxDepth: 2, drivers: DRIVERS });
    this.k = new SimKernel(desc, { era: c.era });
    this.rnd = prng(c.progSeed);
    this.names = this.k.host.topology.functions.map((f) => f.name);
    // Every function starts with state of its own that any reset (or power loss) would clear.
    this.names.forEach((bdf, i) => {
      this.k.inject({ bdf, kind: 'dirty', value: i + 1 });
    });
    this.procs = [this.newProc('A'), this.newProc('B')];
  }

  run(): void {
    this.checkGroupPartition();
    for (let i = 0; i < this.c.steps; i++) this.step();
    this.finish();
  }

  // -------------------------------------------------------------------------------------------
  // Actions

  private step(): void {
    const who = this.procs[this.rnd() < 0.7 ? 0 : 1]!;
    const modern = this.c.era === '6.6+';
    const actions: [number, () => void][] = [
      [3, () => this.openContainer(who)],
      [4, () => this.openGroup(who)],
      [4, () => this.setContainer(who)],
      [3, () => this.setIommu(who)],
      [5, () => this.getDevice(who)],
      [6, () => this.vmmOpen(who)],
      [2, () => this.bindScope(who)],
      [2, () => this.deviceInfo(who)],
      [3, () => this.functionReset(who)],
      [6, () => this.hotReset(who)],
      [3, () => this.closeOne(who)],
      [1, () => this.exitProcess(who)],
      [2, () => this.changeDriver(who)],
      [1, () => this.lockFault()],
      [1, () => this.readinessFault()],
      [modern ? 2 : 0, () => this.openIommufd(who)],
      [modern ? 4 : 0, () => this.cdevBind(who)],
    ];
    const total = actions.reduce((n, [w]) => n + w, 0);
    let r = this.rnd() * total;
    for (const [w, f] of actions) {
      r -= w;
      if (r < 0) {
        f();
        return;
      }
    }
  }

  private openContainer(who: Proc): void {
    this.open(who, '/dev/vfio/vfio', { kind: 'container' });
  }

  private openGroup(who: Proc): void {
    const ids = this.view().groups.map((g) => g.id);
    const id = ids.length > 0 && this.rnd() < 0.9 ? this.pick(ids) : Math.floor(this.rnd() * 40);
    this.open(who, `/dev/vfio/${id}`, { kind: 'group', group: id });
  }

  private setContainer(who: Proc): void {
    const g = this.handleOf(who, 'group');
    const c = this.rnd() < 0.85 ? this.handleOf(who, 'container') : this.anyHandle(who);
    if (!g || !c) return;
    this.act(who, 'nothing', () => io.setContainer(who.p.sys, g.fd, c.fd));
  }

  private setIommu(who: Proc): void {
    const c = this.handleOf(who, 'container');
    if (!c) return;
    const type = this.pick([VFIO_EXTENSION.TYPE1v2_IOMMU, VFIO_EXTENSION.TYPE1_IOMMU, 3, 3, 0x7777]);
    this.act(who, 'nothing', () => who.p.sys.ioctl(c.fd, VFIO.SET_IOMMU, type));
  }

  private getDevice(who: Proc): void {
    const g = this.handleOf(who, 'group');
    if (!g || g.group === undefined) return;
    const members = groupMembers(this.k.sysfs, g.group);
    const bdf = members.length > 0 && this.rnd() < 0.9 ? this.pick(members) : this.pick(this.names);
    const fd = this.act(who, { only: [bdf] }, () =>
      who.p.sys.ioctl(g.fd, VFIO.GROUP_GET_DEVICE_FD, encodeCString(bdf)),
    );
    if (typeof fd === 'number') this.adopt(who, fd, { kind: 'device', bdf }, 'device');
  }

  /** What a VMM does for one device (Appendix A): container, group, SET_CONTAINER, SET_IOMMU, device fd. */
  private vmmOpen(who: Proc): void {
    const devices = this.view().devices;
    if (devices.length === 0) return;
    const bdf = this.pick(devices).bdf;
    const id = iommuGroupOf(this.k.sysfs, bdf);
    if (id === null) return;
    let g = [...who.handles.values()].find((h) => h.kind === 'group' && h.group === id);
    if (!g) {
      const fd = this.open(who, `/dev/vfio/${id}`, { kind: 'group', group: id });
      if (fd === null) return;
      g = who.handles.get(fd)!;
    }
    const attached = this.view().groups.find((x) => x.id === id)?.container ?? null;
    if (attached === null) {
      let c = this.handleOf(who, 'container');
      if (!c) {
        const fd = this.open(who, '/dev/vfio/vfio', { kind: 'container' });
        if (fd === null) return;
        c = who.handles.get(fd)!;
      }
      const cfd = c.fd;
      this.act(who, 'nothing', () => io.setContainer(who.p.sys, g.fd, cfd));
      const container = this.view().containers.find((x) => x.fds.includes(cfd));
      if (container?.iommu === null)
        this.act(who, 'nothing', () => who.p.sys.ioctl(cfd, VFIO.SET_IOMMU, VFIO_EXTENSION.TYPE1v2_IOMMU));
    }
    const gfd = g.fd;
    const fd = this.act(who, { only: [bdf] }, () =>
      who.p.sys.ioctl(gfd, VFIO.GROUP_GET_DEVICE_FD, encodeCString(bdf)),
    );
    if (typeof fd === 'number') this.adopt(who, fd, { kind: 'device', bdf }, 'device');
  }

  /** An administrator binds every endpoint of a function's reset scope to vfio-pci (what a hot reset needs). */
  private bindScope(who: Proc): void {
    const fn = this.k.host.topology.get(this.pick(this.names))!;
    const scope = hotResetScope(fn, this.c.era);
    if (scope.kind === 'none') return;
    for (const f of scope.functions) {
      if (f.desc.header !== 'normal' || isVfioDriver(this.k.host.state(f.name)!.driver)) continue;
      this.setDriver(who, f.name, 'vfio-pci');
    }
  }

  private deviceInfo(who: Proc): void {
    const d = this.deviceHandle(who);
    if (!d) return;
    const buf = encodeDeviceInfo({ argsz: 24, flags: 0, numRegions: 0, numIrqs: 0, capOffset: 0 });
    this.act(who, 'nothing', () => who.p.sys.ioctl(d.fd, VFIO.DEVICE_GET_INFO, buf));
  }

  private functionReset(who: Proc): void {
    const d = this.deviceHandle(who);
    if (!d?.bdf) return;
    const err = this.act(who, { only: [d.bdf] }, () => who.p.sys.ioctl(d.fd, VFIO.DEVICE_RESET));
    this.fig.add(err instanceof KernelError ? 'functionResetsRefused' : 'functionResetsDone');
  }

  /**
   * INFO (checked against the reset scope and sysfs), then HOT_RESET with the groups INFO names —
   * held, opened for the call, or some left out — or, in cdev mode, the empty array.
   */
  private hotReset(who: Proc): void {
    const d = this.deviceHandle(who);
    if (!d?.bdf) return;
    const bdf = d.bdf;
    const info = this.act(who, 'nothing', () => io.hotResetInfo(who.p.sys, d.fd));
    if (info instanceof KernelError || info === undefined) {
      if (info instanceof KernelError) this.checkInfoRefusal(d, info);
      return;
    }
    this.checkInfo(d, info as io.HotResetInfoResult);
    const entries = (info as io.HotResetInfoResult).entries;
    const fds: number[] = [];
    const temporary: number[] = [];
    const cdevMode = d.kind === 'cdev' && this.c.era === '6.6+';
    if (!cdevMode || this.rnd() < 0.1) {
      const ids = [...new Set(entries.map((e) => iommuGroupOf(this.k.sysfs, e.bdf)))];
      for (const id of ids) {
        if (id === null || this.rnd() < 0.1) continue; // sometimes a group is left out
        const held = [...who.handles.values()].find((h) => h.kind === 'group' && h.group === id);
        if (held) fds.push(held.fd);
        else {
          const fd = this.open(who, `/dev/vfio/${id}`, { kind: 'group', group: id });
          if (fd !== null) {
            fds.push(fd);
            temporary.push(fd);
          }
        }
      }
      if (this.rnd() < 0.1) {
        const other = this.anyHandle(who);
        if (other) fds.splice(Math.floor(this.rnd() * (fds.length + 1)), 0, other.fd);
      }
      if (this.rnd() < 0.05 && fds.length > 0) fds.push(fds[0]!);
    }
    const before = this.last ?? this.observe();
    const owned = this.ownedForHotReset(d, fds, before);
    const err = this.act(who, { only: [...owned] }, () =>
      who.p.sys.ioctl(
        d.fd,
        VFIO.DEVICE_PCI_HOT_RESET,
        encodeHotReset({ argsz: 12 + 4 * fds.length, flags: 0, count: fds.length, fds }),
      ),
    );
    if (!(err instanceof KernelError)) {
      // INFO agrees with the reset's scope: exactly its entries were reset (those still present:
      // a function that was hot-removed is disconnected and nothing happens to it).
      const after = this.last ?? this.observe();
      const touched = this.touched(before, after);
      assert.deepEqual(
        [...touched].sort(),
        entries
          .map((e) => e.bdf)
          .filter((n) => before.present.get(n))
          .sort(),
        `${this.where()} hot reset of ${bdf} touched what INFO listed`,
      );
      this.fig.add('checks');
      this.fig.add('hotResetsDone');
    } else this.fig.add(err.rule?.startsWith('H9.') ? 'hotResetsFailedAfterReset' : 'hotResetsRefused');
    for (const fd of temporary) this.close(who, fd);
  }

  private closeOne(who: Proc): void {
    const h = this.anyHandle(who);
    if (h) this.close(who, h.fd);
  }

  /** The process dies: the kernel closes all it held; a new process takes its place. */
  private exitProcess(who: Proc): void {
    const i = this.procs.indexOf(who);
    const before = this.last ?? this.observe();
    const closed = who.p.exit();
    const after = this.observe();
    this.last = after;
    this.checkTouched('exit', { kind: 'closed' }, before, after, null);
    for (const fd of closed) this.checkClosedFd(fd);
    this.checkFdTable(after.view);
    this.checkOpenCounts(after.view);
    this.fig.add('processesKilled');
    this.fig.add('fdsClosedByExit', closed.length);
    this.procs[i] = this.newProc(`${who.p.name}'`);
  }

  /** A function changes driver: vfio-pci, pci-stub, its host driver, or none. */
  private changeDriver(who: Proc): void {
    const bdf = this.pick(this.names);
    const fn = this.k.host.topology.get(bdf)!;
    const host = fn.desc.driver && !isVfioDriver(fn.desc.driver) ? fn.desc.driver : 'e1000e';
    this.setDriver(who, bdf, this.pick(['vfio-pci', 'vfio-pci', 'pci-stub', host, '']));
  }

  /** driver_override + unbind + drivers_probe, as an administrator does it ('' clears the override). */
  private setDriver(who: Proc, bdf: string, driver: string): void {
    const sysfs = this.k.sysfs;
    this.act(who, 'nothing', () => {
      who.p.sys.writeSysfs(`bus/pci/devices/${bdf}/driver_override`, driver === '' ? '\n' : driver);
      const link = `bus/pci/devices/${bdf}/driver`;
      if (sysfs.kind(link) === 'link') {
        const current = sysfs.readLink(link).split('/').pop()!;
        who.p.sys.writeSysfs(`bus/pci/drivers/${current}/unbind`, bdf);
      }
      who.p.sys.writeSysfs('bus/pci/drivers_probe', bdf);
    });
  }

  /** Another thread takes or drops a device lock (EAGAIN for trylocks); the 2013 era blocks instead. */
  private lockFault(): void {
    if (this.c.era === '2013') return;
    const bdf = this.pick(this.names);
    const held = !this.k.pci.state(bdf).deviceLockHeld;
    this.k.inject({ bdf, kind: 'hold-device-lock', held });
    this.fig.add('faultsInjected');
  }

  private readinessFault(): void {
    const bdf = this.pick(this.names);
    const readiness = this.pick([
      { kind: 'ready' as const },
      { kind: 'late' as const, afterMs: Math.floor(this.rnd() * 3000) },
      { kind: 'never' as const },
    ]);
    this.k.inject({ bdf, kind: 'readiness', readiness });
    this.fig.add('faultsInjected');
  }

  private openIommufd(who: Proc): void {
    this.open(who, '/dev/iommu', { kind: 'iommufd' });
  }

  private cdevBind(who: Proc): void {
    const devices = this.view().devices;
    if (devices.length === 0) return;
    const dev = this.pick(devices);
    const fd = this.open(who, `/dev/vfio/devices/vfio${dev.index}`, { kind: 'cdev', bdf: dev.bdf });
    if (fd === null) return;
    const ictx = this.rnd() < 0.9 ? this.handleOf(who, 'iommufd') : this.anyHandle(who);
    if (!ictx) return;
    const buf = encodeBindIommufd({ argsz: 16, flags: 0, iommufd: ictx.fd, outDevid: 0 });
    this.act(who, { only: [dev.bdf] }, () => who.p.sys.ioctl(fd, VFIO.DEVICE_BIND_IOMMUFD, buf));
  }

  // -------------------------------------------------------------------------------------------
  // Syscalls with their checks

  /** open(2) through the process; checks the fd is the lowest free one and names the new file. */
  private open(who: Proc, path: string, h: Omit<Handle, 'fd'>): number | null {
    const fd = this.act(who, 'nothing', () => who.p.sys.open(path));
    if (typeof fd !== 'number') return null;
    this.adopt(who, fd, h, h.kind);
    return fd;
  }

  private close(who: Proc, fd: number): void {
    const err = this.act(who, { closed: true }, () => who.p.sys.close(fd));
    assert.equal(err, undefined, `${this.where()} close(${fd}) of a held fd failed: ${String(err)}`);
    who.handles.delete(fd);
    this.checkClosedFd(fd);
  }

  /** A new fd: the lowest one free before the call, and the kernel says it is the file just made. */
  private adopt(who: Proc, fd: number, h: Omit<Handle, 'fd'>, kind: Kind): void {
    const view = this.view().fds.find((f) => f.fd === fd);
    assert.equal(view?.kind, kind, `${this.where()} fd ${fd} is the ${kind} just opened`);
    const lower = [...this.allFds()].filter((x) => x < fd);
    for (let x = 3; x < fd; x++)
      assert.ok(lower.includes(x), `${this.where()} fd ${fd} handed out while ${x} was free`);
    who.handles.set(fd, { ...h, fd });
    this.fig.add('checks', 2);
  }

  /**
   * Runs one syscall (or a few that touch nothing) and checks everything that must hold after it.
   * Returns the call's value, or the KernelError it failed with.
   */
  private act<T>(
    who: Proc,
    allowed: 'nothing' | { only: string[] } | { closed: true },
    run: () => T,
  ): T | KernelError | undefined {
    const before = this.last ?? this.observe();
    let value: T | undefined;
    let err: KernelError | null = null;
    try {
      value = run();
    } catch (e) {
      if (e instanceof KernelError) err = e;
      else if (e instanceof SimDeadlockError) {
        // The call would sleep on a lock another thread holds; it has not changed anything yet.
        assert.equal(this.observe().state, before.state, `${this.where()} a blocked call changed state`);
        this.last = null;
        this.fig.add('blockedCalls');
        return undefined;
      } else throw e;
    }
    this.fig.add('syscalls');
    const after = this.observe();
    this.last = after;
    const a: Allowed =
      allowed === 'nothing'
        ? { kind: 'nothing' }
        : 'only' in allowed
          ? { kind: 'only', functions: new Set(allowed.only) }
          : { kind: 'closed' };
    this.checkTouched(who.p.name, a, before, after, err);
    this.checkFdTable(after.view);
    this.checkOpenCounts(after.view);
    return err ?? value;
  }

  // -------------------------------------------------------------------------------------------
  // Invariants

  private observe(): Observation {
    const resets = new Map<string, number>();
    const internal = new Map<string, number>();
    const drivers = new Map<string, string | null>();
    const present = new Map<string, boolean>();
    for (const bdf of this.names) {
      const s = this.k.pci.state(bdf);
      present.set(bdf, s.present);
      resets.set(bdf, s.resets);
      internal.set(bdf, s.internalState);
      drivers.set(bdf, this.k.host.state(bdf)!.driver);
    }
    const view = this.k.vfioState();
    return { view, state: JSON.stringify(view), resets, drivers, internal, present, now: this.k.clock.now() };
  }

  private touched(before: Observation, after: Observation): Set<string> {
    return new Set(this.names.filter((n) => before.resets.get(n) !== after.resets.get(n)));
  }

  private checkTouched(
    who: string,
    allowed: Allowed,
    before: Observation,
    after: Observation,
    err: KernelError | null,
  ): void {
    const at = `${this.where()} ${who}`;
    assert.ok(after.now >= before.now && after.now >= this.lastNow, `${at}: the clock went back`);
    this.lastNow = after.now;
    const touched = this.touched(before, after);
    // A function bound to a DMA-using host driver is never reset, nor loses its state, through VFIO.
    for (const n of this.names) {
      if (isDmaNeutralDriver(before.drivers.get(n) ?? null)) continue;
      if (before.drivers.get(n) !== after.drivers.get(n)) continue;
      assert.ok(!touched.has(n), `${at}: reset ${n}, bound to host driver ${before.drivers.get(n)}`);
      assert.equal(after.internal.get(n), before.internal.get(n), `${at}: ${n} (host driver) lost its state`);
    }
    if (err !== null && !PASS_RULE.test(err.rule ?? '')) {
      assert.equal(touched.size, 0, `${at}: refused (${err.message}) but reset ${[...touched]}`);
      assert.equal(after.state, before.state, `${at}: refused (${err.message}) but kernel state changed`);
      this.fig.add('refusals');
    }
    if (allowed.kind === 'nothing') assert.equal(touched.size, 0, `${at}: reset ${[...touched]} unasked`);
    else if (allowed.kind === 'only') {
      for (const n of touched)
        assert.ok(allowed.functions.has(n), `${at}: reset ${n}, which it does not own`);
    } else {
      // A close (or exit) resets only vfio-pci functions nobody has open any more (O3/O4).
      const views = new Map(after.view.devices.map((d) => [d.bdf, d]));
      for (const n of touched) {
        const v = views.get(n);
        assert.ok(v !== undefined && isVfioDriver(before.drivers.get(n) ?? null), `${at}: close reset ${n}`);
        assert.equal(v.openCount, 0, `${at}: close reset ${n}, which is still open`);
      }
    }
    this.fig.add('checks', 4 + touched.size);
    this.fig.add('functionsTouched', touched.size);
  }

  /** The functions a HOT_RESET from `d` with `fds` may reset, from the state before the call. */
  private ownedForHotReset(d: Handle, fds: number[], before: Observation): Set<string> {
    const state = before.view;
    const groupFiles = new Set(
      fds.flatMap((fd) => {
        const f = state.fds.find((x) => x.fd === fd);
        return f?.kind === 'group' && typeof f.target === 'number' ? [f.target] : [];
      }),
    );
    const groupOf = (n: string) => this.k.host.groups.groupOf(n);
    const vfio = (n: string) => isVfioDriver(before.drivers.get(n) ?? null);
    if (d.kind === 'cdev' && this.c.era === '6.6+' && fds.length === 0) {
      const ctx = state.devices.find((v) => v.bdf === d.bdf)?.iommufd?.ctx;
      const bound = state.devices.filter((v) => v.iommufd?.ctx === ctx && ctx !== undefined);
      return new Set(
        this.names.filter((n) => vfio(n) && bound.some((b) => b.bdf === n || b.group === groupOf(n))),
      );
    }
    if (this.c.era === '2013') return new Set(this.names.filter((n) => groupFiles.has(groupOf(n) ?? -1)));
    return new Set(this.names.filter((n) => vfio(n) && groupFiles.has(groupOf(n) ?? -1)));
  }

  /** INFO lists the reset scope in walk order; group ids are the sysfs groups; devids are the ctx's. */
  private checkInfo(d: Handle, info: io.HotResetInfoResult): void {
    const fn = this.k.host.topology.get(d.bdf!)!;
    const scope = hotResetScope(fn, this.c.era);
    assert.notEqual(scope.kind, 'none', `${this.where()} INFO answered for ${d.bdf} without a scope`);
    assert.deepEqual(
      info.entries.map((e) => e.bdf),
      scope.kind === 'none' ? [] : scope.functions.map((f) => f.name),
      `${this.where()} INFO of ${d.bdf} lists its reset scope in walk order`,
    );
    const views = new Map(this.view().devices.map((v) => [v.bdf, v]));
    const me = views.get(d.bdf!);
    for (const e of info.entries) {
      if (!info.devIdMode) {
        assert.equal(e.id, iommuGroupOf(this.k.sysfs, e.bdf), `${this.where()} INFO group of ${e.bdf}`);
        continue;
      }
      const v = views.get(e.bdf);
      if (v?.iommufd && me?.iommufd && v.iommufd.ctx === me.iommufd.ctx && v.devSet === me.devSet)
        assert.equal(e.id, v.iommufd.devid, `${this.where()} INFO devid of ${e.bdf}`);
      if (v === undefined) assert.equal(e.id, VFIO_PCI_DEVID.NOT_OWNED, `${this.where()} ${e.bdf} not owned`);
    }
    this.infoSeen.set(
      d.bdf!,
      info.entries.map((e) => e.bdf),
    );
    this.fig.add('checks', 1 + info.entries.length);
    this.fig.add('infoCalls');
  }

  /**
   * INFO (which needs no ownership, I10) refuses only a device without a slot or bus reset (I2), and
   * anything before a cdev fd is bound (K2).
   */
  private checkInfoRefusal(d: Handle, err: KernelError): void {
    const bdf = d.bdf!;
    const scope = hotResetScope(this.k.host.topology.get(bdf)!, this.c.era);
    if (err.rule === 'I2') assert.equal(scope.kind, 'none', `${this.where()} ENODEV for ${bdf} with a scope`);
    else if (err.rule === 'K2') assert.ok(d.kind === 'cdev', `${this.where()} K2 on a ${d.kind} fd`);
    else assert.fail(`${this.where()} INFO of ${bdf} refused: ${err.message}`);
    this.fig.add('checks');
  }

  /** The kernel's fd table is exactly the fds the processes hold. */
  private checkFdTable(s: VfioStateView): void {
    const kernel = s.fds.map((f) => f.fd);
    assert.deepEqual(
      kernel,
      [...this.allFds()].sort((a, b) => a - b),
      `${this.where()} fd table`,
    );
    this.fig.add('checks');
  }

  /** A closed fd is gone: ioctl and close answer EBADF (unless the number was handed out again). */
  private checkClosedFd(fd: number): void {
    if (this.allFds().has(fd)) return;
    for (const f of [() => this.k.sys.ioctl(fd, VFIO.GET_API_VERSION), () => this.k.sys.close(fd)]) {
      assert.throws(f, (e: unknown) => e instanceof KernelError && e.errno === 'EBADF');
    }
    this.fig.add('checks', 2);
  }

  /** A device is open once per device file (group path) plus once for a bound cdev. */
  private checkOpenCounts(s: VfioStateView): void {
    for (const d of s.devices) {
      const files = s.fds.filter((f) => f.kind === 'device' && f.target === d.bdf).length;
      assert.equal(d.openCount, files + (d.cdevOpened ? 1 : 0), `${this.where()} open count of ${d.bdf}`);
      assert.ok(d.openCount >= 0);
    }
    this.fig.add('checks', s.devices.length);
  }

  /** sysfs: every function with an iommu_group link is listed in exactly that group's devices. */
  private checkGroupPartition(): void {
    const sys = this.k.sysfs;
    const listed = new Map<string, number>();
    const root = 'kernel/iommu_groups';
    for (const id of sys.kind(root) === null ? [] : sys.list(root)) {
      for (const bdf of sys.list(`${root}/${id}/devices`)) {
        assert.ok(!listed.has(bdf), `${this.where()} ${bdf} is in groups ${listed.get(bdf)} and ${id}`);
        listed.set(bdf, Number(id));
      }
    }
    for (const bdf of this.names) {
      const g = iommuGroupOf(sys, bdf);
      assert.equal(
        listed.get(bdf) ?? null,
        g,
        `${this.where()} ${bdf}: iommu_group link and group list agree`,
      );
    }
    this.fig.add('checks', this.names.length);
  }

  /** Every process exits; nothing may be left open, attached, bound or counted. */
  private finish(): void {
    for (const who of this.procs) this.exitProcess(who);
    const s = this.k.vfioState();
    const at = this.where();
    assert.deepEqual(s.fds, [], `${at} fds left`);
    for (const d of s.devices) {
      assert.equal(d.openCount, 0, `${at} ${d.bdf} still open`);
      assert.equal(d.cdevOpened, false, `${at} ${d.bdf} still bound through its cdev`);
      assert.equal(d.iommufd, null, `${at} ${d.bdf} still bound to an iommufd`);
    }
    for (const g of s.groups) {
      assert.deepEqual(
        [g.open, g.container, g.containerUsers, g.iommufd, g.cdevOpenCount],
        [false, null, 0, null, 0],
        `${at} group ${g.id} left in use`,
      );
    }
    for (const set of s.devSets) {
      const open = set.members.reduce((n, m) => n + (s.devices.find((d) => d.bdf === m)?.openCount ?? 0), 0);
      assert.equal(open, 0, `${at} dev_set ${set.key} open count`);
    }
    // Every group node can be opened again by a new process.
    const p = new SimProcess(this.k, 'after');
    for (const g of s.groups) if (g.node) p.sys.open(`/dev/vfio/${g.id}`);
    p.exit();
    let t = 0;
    for (const e of this.k.log.all()) {
      assert.ok(e.atMs >= t, `${at} kernel log goes back in time`);
      t = e.atMs;
    }
    this.fig.add('checks', 2 + s.devices.length * 3 + s.groups.length * 2 + s.devSets.length);
  }

  // -------------------------------------------------------------------------------------------

  /** The state after the last syscall. */
  private view(): VfioStateView {
    this.last ??= this.observe();
    return this.last.view;
  }

  private newProc(name: string): Proc {
    return { p: new SimProcess(this.k, name), handles: new Map() };
  }

  private allFds(): Set<number> {
    const out = new Set<number>();
    for (const who of this.procs) for (const fd of who.p.fds) out.add(fd);
    return out;
  }

  private handleOf(who: Proc, kind: Kind): Handle | null {
    const hs = [...who.handles.values()].filter((h) => h.kind === kind);
    return hs.length === 0 ? null : this.pick(hs);
  }

  private deviceHandle(who: Proc): Handle | null {
    const hs = [...who.handles.values()].filter((h) => h.kind === 'device' || h.kind === 'cdev');
    return hs.length === 0 ? null : this.pick(hs);
  }

  private anyHandle(who: Proc): Handle | null {
    const hs = [...who.handles.values()];
    return hs.length === 0 ? null : this.pick(hs);
  }

  private pick<T>(xs: readonly T[]): T {
    return xs[Math.floor(this.rnd() * xs.length)]!;
  }

  private where(): string {
    const c = this.c;
    return `[world hostSeed=${c.hostSeed} progSeed=${c.progSeed} era=${c.era} size=${c.size} steps=${c.steps}]`;
  }
}
