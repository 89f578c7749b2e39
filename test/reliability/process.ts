/**
 * A user process of the simulated kernel: the set of fds it holds. The simulator has one fd table
 * (one process, as far as it knows); tests that need several users — another VMM holding a group,
 * a process that dies mid-operation — give each its own `SimProcess`, which records every fd its
 * syscalls create. `exit()` is what the kernel does when a process dies: `exit_files` closes every
 * descriptor it holds, lowest first, and each close runs its file's release (close-time resets, O3/O4).
 */
import type { IoctlArg, Syscalls } from '../../src/kernel/syscalls.ts';
import type { SimKernel } from '../../src/sim/kernel.ts';
import { KVM, VFIO } from '../../src/uapi/ioctl.ts';
import { decodeKvmCreateDevice } from '../../src/uapi/vfio-structs.ts';

/** Thrown by a dead process's syscalls: a killed process makes no more calls. */
export class ProcessKilled extends Error {
  constructor(name: string) {
    super(`process ${name} was killed`);
    this.name = 'ProcessKilled';
  }
}

export class SimProcess {
  readonly kernel: SimKernel;
  readonly name: string;
  /** Descriptors this process holds (created by its open, GET_DEVICE_FD, KVM_CREATE_VM/DEVICE). */
  readonly fds = new Set<number>();
  /** Syscalls made so far (every open, close, ioctl and sysfs write). */
  calls = 0;
  /** When set, the process dies right before its syscall with this number (0-based). */
  killAt: number | null = null;
  private dead = false;
  /** The syscalls as this process makes them; hand it to a client (`{ sysfs, sys }`). */
  readonly sys: Syscalls;

  /** The kernel's own syscalls, as they were when the process started (a test may reroute `kernel.sys`). */
  private readonly base: Syscalls;

  constructor(kernel: SimKernel, name: string) {
    this.kernel = kernel;
    this.name = name;
    const k = kernel.sys;
    this.base = { open: k.open, close: k.close, ioctl: k.ioctl, writeSysfs: k.writeSysfs };
    this.sys = {
      open: (path) => {
        this.enter();
        const fd = this.base.open(path);
        this.fds.add(fd);
        return fd;
      },
      close: (fd) => {
        this.enter();
        // close(2) releases the descriptor even when it reports an error; here it only fails for an
        // fd that is not open, which this process then did not hold either.
        this.fds.delete(fd);
        this.base.close(fd);
      },
      ioctl: (fd, request, arg) => this.ioctl(fd, request, arg),
      writeSysfs: (path, value) => {
        this.enter();
        this.base.writeSysfs(path, value);
      },
    };
  }

  /** The host as this process sees it: the kernel's sysfs, this process's syscalls. */
  get host() {
    return { sysfs: this.kernel.sysfs, sys: this.sys };
  }

  get alive(): boolean {
    return !this.dead;
  }

  /**
   * The process dies: no more syscalls, and the kernel closes what it held, lowest fd first
   * (`exit_files` → `close_files`). Returns the closed descriptors.
   */
  exit(): number[] {
    this.dead = true;
    const held = [...this.fds].sort((a, b) => a - b);
    this.fds.clear();
    for (const fd of held) this.base.close(fd);
    return held;
  }

  private enter(): void {
    if (this.dead) throw new ProcessKilled(this.name);
    if (this.killAt !== null && this.calls >= this.killAt) {
      this.exit();
      throw new ProcessKilled(this.name);
    }
    this.calls++;
  }

  private ioctl(fd: number, request: number, arg?: IoctlArg): number {
    this.enter();
    const hands =
      request === VFIO.GROUP_GET_DEVICE_FD || request === KVM.CREATE_VM || request === KVM.CREATE_DEVICE;
    const kind = hands ? this.kernel.vfioState().fds.find((f) => f.fd === fd)?.kind : undefined;
    const r = this.base.ioctl(fd, request, arg);
    // The calls that hand out a new descriptor: as the return value, or written into the struct.
    if (request === VFIO.GROUP_GET_DEVICE_FD && kind === 'group') this.fds.add(r);
    else if (request === KVM.CREATE_VM && kind === 'kvm') this.fds.add(r);
    else if (request === KVM.CREATE_DEVICE && kind === 'kvm-vm' && arg instanceof Uint8Array) {
      const created = decodeKvmCreateDevice(arg);
      if ((created.flags & 1) === 0) this.fds.add(created.fd); // KVM_CREATE_DEVICE_TEST creates nothing
    }
    return r;
  }
}
