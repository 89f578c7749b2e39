/**
 * The real `Syscalls`: open/close through node:fs, ioctl through `linux/ioctl.ts` (koffi,
 * loaded on the first ioctl), sysfs attribute writes through node:fs under a sysfs root.
 * Every failure is a `KernelError` carrying the errno name and the path or fd, as the simulated
 * kernel reports them, so the VFIO client's translation of refusals works unchanged.
 * @module
 */

import { closeSync, constants, openSync, readSync, realpathSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, sep } from 'node:path';
import { type IoctlArg, KernelError, type Syscalls } from '../kernel/syscalls.ts';
import { joinPath } from '../kernel/sysfs.ts';
import { type ErrnoName, errnoName, isErrnoName } from '../uapi/errno.ts';
import { requestName, VFIO } from '../uapi/ioctl.ts';
import {
  ioctl,
  koffiEventfd,
  koffiIoctl,
  koffiPoll,
  type RawEventfd,
  type RawIoctl,
  type RawPoll,
} from './ioctl.ts';

/** eventfd(2) flags (include/uapi/linux/eventfd.h: the O_ values of x86-64 and arm64). */
const EFD_NONBLOCK = 0o4000;
const EFD_CLOEXEC = 0o2000000;
/** poll(2) event bits. */
const POLLIN = 0x1;

export interface LinuxSyscallsOptions {
  /** Directory `writeSysfs` paths are relative to (default `/sys`; a fixture tree in tests). */
  sysfsRoot?: string;
  /** The raw ioctl (default: koffi). Inject one to run this class against a fake kernel. */
  rawIoctl?: RawIoctl;
  rawEventfd?: RawEventfd;
  rawPoll?: RawPoll;
}

/** What an fd is, as far as this object knows: it names requests in errors (same numbers mean different things per fd). */
type FdKind = 'container' | 'group' | 'device' | 'iommufd' | 'kvm' | 'other';

function kindOfPath(path: string): FdKind {
  if (path === '/dev/vfio/vfio') return 'container';
  if (/^\/dev\/vfio\/(noiommu-)?\d+$/.test(path)) return 'group';
  if (/^\/dev\/vfio\/devices\/vfio\d+$/.test(path)) return 'device';
  if (path === '/dev/iommu') return 'iommufd';
  if (path === '/dev/kvm') return 'kvm';
  return 'other';
}

/** A node:fs failure as the kernel's errno; anything that is not a system error is rethrown as is. */
function fsError(e: unknown, syscall: string, detail: string): unknown {
  const err = e as NodeJS.ErrnoException;
  if (typeof err?.code !== 'string' || typeof err.errno !== 'number' || !err.code.startsWith('E')) return e;
  const name: ErrnoName | `E${number}` = isErrnoName(err.code) ? err.code : errnoName(err.errno);
  // Keep Node's name when our table lacks it (ENAMETOOLONG → E36 (ENAMETOOLONG …)).
  return new KernelError(name, syscall, name === err.code ? detail : `${err.code}: ${detail}`);
}

/**
 * O_WRONLY|O_TRUNC without O_CREAT: a missing attribute is ENOENT (sysfs would answer O_CREAT with
 * EACCES). O_NOFOLLOW: an attribute is never a symlink, so none can redirect the write elsewhere.
 */
const SYSFS_WRITE_FLAGS = constants.O_WRONLY | constants.O_TRUNC | constants.O_NOFOLLOW;

export class LinuxSyscalls implements Syscalls {
  readonly sysfsRoot: string;
  private readonly raw: RawIoctl;
  private readonly rawEventfd: RawEventfd;
  private readonly rawPoll: RawPoll;
  private readonly kinds = new Map<number, FdKind>();

  constructor(options: LinuxSyscallsOptions = {}) {
    this.sysfsRoot = options.sysfsRoot ?? '/sys';
    this.raw = options.rawIoctl ?? koffiIoctl;
    this.rawEventfd = options.rawEventfd ?? koffiEventfd;
    this.rawPoll = options.rawPoll ?? koffiPoll;
  }

  /** eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC): the trigger VFIO_DEVICE_SET_IRQS takes for ERR and REQ. */
  eventfd(): number {
    const fd = this.rawEventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (fd < 0) throw new KernelError(errnoName(-fd), 'eventfd');
    this.kinds.set(fd, 'other');
    return fd;
  }

  /** read(2) of the 8-byte counter (little-endian on x86-64 and arm64); EAGAIN when it is 0. */
  readEventfd(fd: number): number {
    const buf = new Uint8Array(8);
    let n: number;
    try {
      n = readSync(fd, buf, 0, 8, null);
    } catch (e) {
      throw fsError(e, 'read(eventfd)', `fd ${fd}`);
    }
    if (n !== 8) throw new KernelError('EINVAL', 'read(eventfd)', `fd ${fd}: ${n} bytes, not 8`);
    return Number(new DataView(buf.buffer).getBigUint64(0, true));
  }

  /** poll(2) for POLLIN; returns the readable fds (none when the wait timed out). */
  poll(fds: readonly number[], timeoutMs: number): number[] {
    const buf = new Uint8Array(8 * fds.length);
    const view = new DataView(buf.buffer);
    fds.forEach((fd, i) => {
      view.setInt32(8 * i, fd, true);
      view.setInt16(8 * i + 4, POLLIN, true);
    });
    const rc = this.rawPoll(buf, fds.length, Math.max(-1, Math.trunc(timeoutMs)));
    if (rc < 0) throw new KernelError(errnoName(-rc), 'poll', `fds ${fds.join(',')}`);
    return fds.filter((_, i) => (view.getInt16(8 * i + 6, true) & POLLIN) !== 0);
  }

  /** open(path, O_RDWR | O_CLOEXEC): VFIO group, container, cdev and iommufd nodes need read-write. */
  open(path: string): number {
    let fd: number;
    try {
      fd = openSync(path, 'r+');
    } catch (e) {
      throw fsError(e, 'open', path);
    }
    this.kinds.set(fd, kindOfPath(path));
    return fd;
  }

  close(fd: number): void {
    // close(2) of a negative fd is EBADF; node:fs would throw a RangeError instead.
    if (!Number.isInteger(fd) || fd < 0) throw new KernelError('EBADF', 'close', `fd ${fd}`);
    this.kinds.delete(fd);
    try {
      closeSync(fd);
    } catch (e) {
      throw fsError(e, 'close', `fd ${fd}`);
    }
  }

  ioctl(fd: number, request: number, arg: IoctlArg = 0): number {
    const kind = this.kinds.get(fd) ?? 'other';
    const rc = ioctl(fd, request, arg, () => requestName(request >>> 0, kind), this.raw);
    // The group hands out device fds (G5): remember them so later errors name device ioctls.
    if (kind === 'group' && request >>> 0 === VFIO.GROUP_GET_DEVICE_FD) this.kinds.set(rc, 'device');
    return rc;
  }

  /**
   * Writes `value` to a sysfs attribute in one write(2). `path` is relative to the sysfs root
   * (a leading `/` or `/sys/` is accepted, as the simulator does); `..` cannot leave the root.
   */
  writeSysfs(path: string, value: string): void {
    const rel = joinPath(path.replace(/^\/+/, '').replace(/^sys\//, ''));
    const abs = join(this.sysfsRoot, rel);
    try {
      // The attribute's directory may be reached through links (bus/pci/devices/X → devices/…), but
      // it must resolve inside the sysfs root: nothing is ever written outside the files it names.
      const root = realpathSync(this.sysfsRoot);
      const dir = realpathSync(dirname(abs));
      if (dir !== root && !dir.startsWith(`${root}${sep}`))
        throw new KernelError(
          'EACCES',
          `write(${rel})`,
          `${abs} is in ${dir}, outside the sysfs root ${root}`,
        );
      const fd = openSync(join(dir, basename(abs)), SYSFS_WRITE_FLAGS);
      try {
        // The attribute's store() sees the whole value: writeFileSync issues one write(2) for
        // anything under a page, and the store's refusal (EINVAL, EBUSY, ENODEV …) surfaces here.
        writeFileSync(fd, value);
      } finally {
        closeSync(fd);
      }
    } catch (e) {
      throw fsError(e, `write(${rel})`, abs);
    }
  }
}
