/**
 * The simulated kernel: a `KernelHost` (sysfs reader + syscalls) over a `SimHost`, the PCI core
 * and the VFIO objects, for the eras '2013', '6.1' and '6.6+' (the latter with `/dev/iommu` and
 * the VFIO device cdevs `/dev/vfio/devices/vfioN`); `/dev/kvm` and its KVM-VFIO device in every
 * era. Each `OpenFile` kind of `vfio/fds.ts` has an `open()` path and a `FILE_OPS` entry here.
 *
 * Every refusal is a `KernelError` whose `rule` names the entry of `rules.ts` that produced it.
 * Calls that would sleep on a lock another (injected) thread holds throw `SimDeadlockError`,
 * except a vfio-pci unbind with open device fds, which is refused with EBUSY (rule D1).
 * @module
 */

import type { IoctlArg, KernelHost, Syscalls } from '../kernel/syscalls.ts';
import type { SysfsReader } from '../kernel/sysfs.ts';
import type { Era } from '../pci/era.ts';
import type { HostDesc } from '../pci/model.ts';
import { requestName } from '../uapi/ioctl.ts';
import { type AerReport, injectAer, installErrorReads } from './aer.ts';
import { type ClockModel, SimClock } from './clock.ts';
import { type EventfdCtx, newEventfd, pollEventfds, readEventfd } from './eventfd.ts';
import { SimHost } from './host.ts';
import { kvmDeviceIoctl, kvmIoctl, vmIoctl } from './kvm/kvm.ts';
import { KernelLog } from './log.ts';
import type { PciCore } from './pci-core.ts';
import { SimPciCore } from './pci-exec.ts';
import { fail } from './rules.ts';
import { projectSysfs } from './sysfs.ts';
import { bootProbe } from './vfio/bind.ts';
import { cdevIoctl, openCdev } from './vfio/cdev.ts';
import { containerIoctl, openContainer } from './vfio/container.ts';
import { deviceIoctl } from './vfio/device.ts';
import { injectFault, type KernelFault } from './vfio/faults.ts';
import { FdTable, type OpenFile } from './vfio/fds.ts';
import { putFile } from './vfio/files.ts';
import { groupIoctl, openGroup } from './vfio/group.ts';
import { iommufdIoctl, openIommufd } from './vfio/iommufd.ts';
import type { KernelCtx } from './vfio/model.ts';
import { settleRemovals } from './vfio/request.ts';
import { type VfioStateView, vfioSnapshot } from './vfio/snapshot.ts';
import { writeSysfs } from './vfio/sysfs-write.ts';

export type { AerReport } from './aer.ts';
export type { KernelFault } from './vfio/faults.ts';
export { SimBlockedError } from './vfio/request.ts';
export type { VfioStateView } from './vfio/snapshot.ts';

export interface SimKernelOptions {
  era?: Era;
  /** IOMMU on (default): groups exist. Off: vfio-pci cannot bind (S0). */
  iommu?: boolean;
  clock?: ClockModel;
  /** Replaces the PCI core (tests); default `SimPciCore`. */
  pciCore?: (host: SimHost, clock: SimClock, log: KernelLog) => PciCore;
}

type Ioctl<F extends OpenFile> = (
  ctx: KernelCtx,
  file: F,
  request: number,
  arg: IoctlArg | undefined,
  syscall: string,
) => number;

/** ioctl by file kind: the same number means different things on different fds (§2). */
const FILE_OPS: { [K in OpenFile['kind']]: Ioctl<Extract<OpenFile, { kind: K }>> } = {
  container: containerIoctl,
  group: groupIoctl,
  device: deviceIoctl,
  null: (_ctx, _f, _r, _a, syscall) => fail('null.ENOTTY', syscall),
  iommufd: iommufdIoctl,
  cdev: cdevIoctl,
  kvm: kvmIoctl,
  'kvm-vm': vmIoctl,
  'kvm-device': kvmDeviceIoctl,
  eventfd: (_ctx, _f, _r, _a, syscall) => fail('eventfd.ENOTTY', syscall),
};

const GROUP_PATH = /^\/dev\/vfio\/(0|[1-9][0-9]*)$/;
const CDEV_PATH = /^\/dev\/vfio\/devices\/vfio(0|[1-9][0-9]*)$/;

export class SimKernel implements KernelHost {
  readonly host: SimHost;
  readonly pci: PciCore;
  readonly clock: SimClock;
  readonly log: KernelLog;
  /** The live sysfs projection: driver links follow every bind and unbind. */
  readonly sysfs: SysfsReader;
  /** Every call of the boundary, the optional eventfd ones included. */
  readonly sys: Required<Syscalls>;
  private readonly ctx: KernelCtx;

  constructor(desc: HostDesc, opts: SimKernelOptions = {}) {
    this.host = new SimHost(desc, {
      ...(opts.era !== undefined ? { era: opts.era } : {}),
      ...(opts.iommu !== undefined ? { iommu: opts.iommu } : {}),
    });
    this.clock = new SimClock(opts.clock);
    this.log = new KernelLog(() => this.clock.now());
    this.pci = (opts.pciCore ?? ((h, c, l) => new SimPciCore(h, c, l)))(this.host, this.clock, this.log);
    const vfs = projectSysfs(this.host);
    installErrorReads(vfs, this.host, this.pci);
    this.sysfs = vfs;
    this.ctx = {
      era: this.host.options.era,
      host: this.host,
      pci: this.pci,
      clock: this.clock,
      log: this.log,
      vfs,
      fds: new FdTable(),
      groups: new Map(),
      devices: new Map(),
      devSets: new Map(),
      removals: new Map(),
      nextContainerId: 1,
      nextIommufdId: 1,
    };
    bootProbe(this.ctx);
    this.sys = {
      open: (path) => this.open(path),
      close: (fd) => this.close(fd),
      ioctl: (fd, request, arg) => this.ioctl(fd, request, arg),
      writeSysfs: (path, value) => writeSysfs(this.ctx, path, value),
      eventfd: () => this.ctx.fds.install({ kind: 'eventfd', refs: 0, ctx: newEventfd() }),
      readEventfd: (fd) => this.readEventfd(fd),
      poll: (fds, timeoutMs) => {
        const ctxs = fds.map((fd) => this.eventfdOf(fd, 'poll'));
        return pollEventfds(this.clock, ctxs, timeoutMs).map((i) => fds[i]!);
      },
    };
  }

  get era(): Era {
    return this.ctx.era;
  }

  /** VFIO-level faults (memory / vma lock held); PCI faults go to `pci.inject`. */
  inject(fault: KernelFault): void {
    injectFault(this.ctx, fault);
  }

  /** An uncorrectable AER error on `bdf` and the recovery Linux runs (sim/aer.ts); what each function did. */
  injectError(bdf: string): AerReport {
    return injectAer(this.ctx, bdf);
  }

  vfioState(): VfioStateView {
    return vfioSnapshot(this.ctx);
  }

  private open(path: string): number {
    const ctx = this.ctx;
    let file: OpenFile;
    const g = GROUP_PATH.exec(path);
    const cdev = CDEV_PATH.exec(path);
    // iommufd and the VFIO device cdevs exist for VFIO from 6.6 on (§8).
    const modern = ctx.era === '6.6+';
    if (path === '/dev/vfio/vfio') file = openContainer(ctx);
    else if (g) file = openGroup(ctx, Number(g[1]), 'open');
    else if (cdev && modern) file = openCdev(ctx, Number(cdev[1]), 'open');
    else if (path === '/dev/iommu' && modern) file = openIommufd(ctx);
    else if (path === '/dev/kvm') file = { kind: 'kvm', refs: 0 };
    else if (path === '/dev/null') file = { kind: 'null', refs: 0 };
    else return fail('open.ENOENT', 'open', path);
    return ctx.fds.install(file);
  }

  private close(fd: number): void {
    const file = this.ctx.fds.remove(fd);
    if (!file) fail('fd', 'close', `fd ${fd}`);
    putFile(this.ctx, file);
    // A blocked vfio-pci unbind completes once its device's last file is gone (D1).
    settleRemovals(this.ctx);
  }

  private eventfdOf(fd: number, syscall: string): EventfdCtx {
    const file = this.ctx.fds.get(fd);
    if (!file) return fail('fd', syscall, `fd ${fd}`);
    if (file.kind !== 'eventfd')
      return fail('eventfd.not-eventfd', syscall, `fd ${fd} is a ${file.kind} file`);
    return file.ctx;
  }

  private readEventfd(fd: number): number {
    const n = readEventfd(this.eventfdOf(fd, 'read'));
    return n ?? fail('eventfd.EAGAIN', 'read', `fd ${fd}`);
  }

  private ioctl(fd: number, request: number, arg?: IoctlArg): number {
    const file = this.ctx.fds.get(fd);
    if (!file) return fail('fd', 'ioctl', `fd ${fd}`);
    const syscall = requestName(request, file.kind);
    const op = FILE_OPS[file.kind] as Ioctl<OpenFile>;
    return op(this.ctx, file, request, arg, syscall);
  }
}
