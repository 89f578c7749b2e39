/**
 * The write half of the kernel boundary: file descriptors, ioctls and sysfs attribute writes.
 * Implemented by the real kernel (`linux/`) and by the simulated one (`sim/`); the VFIO client
 * is written once against this. Failures throw `KernelError` carrying the errno name, as the
 * kernel reports it; success returns the syscall's value.
 * @module
 */

import type { ErrnoName } from '../uapi/errno.ts';
import type { SysfsReader } from './sysfs.ts';

/** An ioctl argument: a struct buffer (read and written in place, like user memory) or an integer. */
export type IoctlArg = Uint8Array | number;

export interface Syscalls {
  /** open(2) of a device node such as `/dev/vfio/vfio`, `/dev/vfio/12`, `/dev/iommu`. */
  open(path: string): number;
  close(fd: number): void;
  /** ioctl(2). A `Uint8Array` argument is user memory: the kernel reads and writes it in place. */
  ioctl(fd: number, request: number, arg?: IoctlArg): number;
  /** Writes a sysfs attribute (`driver_override`, `drivers_probe`, `unbind`, `reset_method`, `reset`). */
  writeSysfs(path: string, value: string): void;
  /**
   * eventfd(2) with EFD_NONBLOCK: the counter `VFIO_DEVICE_SET_IRQS` takes as a trigger (the error
   * and device-request notifications). Optional: a backend without eventfds leaves the three out,
   * and the client says so when asked to watch for events.
   */
  eventfd?(): number;
  /** read(2) of an eventfd: its counter, which the read resets to 0; EAGAIN when nothing was signalled. */
  readEventfd?(fd: number): number;
  /** poll(2) for POLLIN: the fds of `fds` that are readable, waiting up to `timeoutMs` (none: timed out). */
  poll?(fds: readonly number[], timeoutMs: number): number[];
}

/** A host as everything above the boundary sees it. */
export interface KernelHost {
  readonly sysfs: SysfsReader;
  readonly sys: Syscalls;
}

export class KernelError extends Error {
  readonly code = 'VFIO_RESET_E_KERNEL';
  readonly errno: ErrnoName | `E${number}`;
  readonly syscall: string;
  /** The kernel-semantics rule that produced the errno, when the simulator knows it (e.g. `H6`). */
  readonly rule: string | null;
  constructor(errno: ErrnoName | `E${number}`, syscall: string, detail = '', rule: string | null = null) {
    super(`${syscall}: ${errno}${rule ? ` [${rule}]` : ''}${detail ? ` (${detail})` : ''}`);
    this.name = 'KernelError';
    this.errno = errno;
    this.syscall = syscall;
    this.rule = rule;
  }
}
