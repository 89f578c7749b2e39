/**
 * ioctl(2) — and the eventfd(2) and poll(2) that VFIO's notifications need — on a real kernel,
 * through koffi. This is the only module of the project that loads
 * koffi, and it does so lazily — synchronously, with `createRequire`, on the first ioctl — so
 * that everything else (inventory, planner, simulator, CLI) loads on a machine without it
 * (`npm install --omit=optional`, macOS, an unsupported CPU). When it cannot be loaded, the
 * first ioctl throws `FfiUnavailableError` (code `VFIO_RESET_E_NO_FFI`) saying what to install.
 *
 * glibc declares `int ioctl(int fd, unsigned long request, ...)`. We bind it twice with fixed,
 * non-variadic prototypes — third argument a pointer, or an `unsigned long` — which is safe on
 * the two ABIs we accept:
 *  - x86-64 (System V): named and variadic integer/pointer arguments travel in the same
 *    registers (rdi, rsi, rdx); a variadic call only adds %al = number of vector registers
 *    used, which matters to callees that `va_start` over floating-point arguments. ioctl has
 *    none: glibc's wrapper reads the third argument as an integer from rdx and traps.
 *  - arm64 (AAPCS64 as Linux uses it): variadic arguments are passed exactly like named ones
 *    (x0–x2). (Apple's arm64 ABI puts variadic arguments on the stack; this is Linux only.)
 * A pointer and an `unsigned long` are both one 64-bit integer-class argument on both, so the
 * two prototypes reach the same register. Other ABIs are refused rather than assumed: on
 * ppc64 ELFv2, for one, a variadic callee may read a parameter save area that a non-variadic
 * caller need not allocate. Non-variadic prototypes also keep koffi's `.async` usable, though
 * we never use it: errno is lost on the async path (stack.md §1).
 *
 * errno is read with `koffi.errno()` immediately after the call, before any other JS runs.
 * @module
 */

import { createRequire } from 'node:module';
import { KernelError } from '../kernel/syscalls.ts';
import { ERRNO, errnoName } from '../uapi/errno.ts';

/** A raw ioctl: returns `rc >= 0`, or `-errno`. The seam `LinuxSyscalls` uses (injectable in tests). */
export type RawIoctl = (fd: number, request: number, arg: Uint8Array | number) => number;

/** koffi could not be loaded (not installed, no binary for this platform, unsupported ABI). */
export class FfiUnavailableError extends Error {
  readonly code = 'VFIO_RESET_E_NO_FFI';
  constructor(reason: string) {
    super(
      `ioctl needs the optional dependency koffi (^3.3.4), which is not usable here: ${reason}. ` +
        'Install it with `npm install koffi` (and do not pass --omit=optional); on Linux x86-64 or ' +
        'arm64 it brings its own binary (@koromix/koffi-linux-x64 / -arm64). Everything that does ' +
        'not call the real kernel (inventory, planner, simulator) works without it.',
    );
    this.name = 'FfiUnavailableError';
  }
}

/** The part of koffi's API we use, typed here so that type-checking never needs koffi installed. */
interface KoffiModule {
  version?: string;
  load(path: string | null): { func(prototype: string): (...args: unknown[]) => number };
  errno(): number;
}

/** eventfd(2): a new fd, or -errno. */
export type RawEventfd = (initval: number, flags: number) => number;
/** poll(2) over a packed `struct pollfd[]` (8 bytes each: int fd, short events, short revents). */
export type RawPoll = (fds: Uint8Array, nfds: number, timeoutMs: number) => number;

interface Bound {
  version: string;
  raw: RawIoctl;
  eventfd: RawEventfd;
  poll: RawPoll;
}

/** Loaded state: undefined until the first use, then the binding or the reason it failed. */
let state: { ok: true; bound: Bound } | { ok: false; reason: string } | undefined;

const SUPPORTED_ARCH = ['x64', 'arm64'] as const;

function bind(): Bound {
  if (process.platform !== 'linux') throw new Error(`platform ${process.platform} is not Linux`);
  if (!(SUPPORTED_ARCH as readonly string[]).includes(process.arch))
    throw new Error(`CPU architecture ${process.arch} is not one whose ABI this binding was checked for`);
  const koffi = createRequire(import.meta.url)('koffi') as KoffiModule;
  // dlopen(NULL): the process's global symbols, which include the C library Node itself links
  // (glibc or musl alike), so no library file name has to be guessed.
  const libc = koffi.load(null);
  // Trusts: the int/unsigned long/pointer prototypes above match the ABI (see module comment);
  // the pointer form receives the typed array's own memory, valid for the duration of the call.
  const viaPointer = libc.func('int ioctl(int fd, unsigned long request, void *arg)');
  const viaValue = libc.func('int ioctl(int fd, unsigned long request, unsigned long arg)');
  // Trusts: a synchronous call on this thread; koffi.errno() reads this thread's errno, and
  // nothing runs between the call returning and that read. A failing call always sets errno;
  // EIO stands in should a broken libc not (never -0).
  const result = (rc: number) => (rc < 0 ? -(koffi.errno() || ERRNO.EIO) : rc);
  const raw: RawIoctl = (fd, request, arg) =>
    result(typeof arg === 'number' ? viaValue(fd, request, arg) : viaPointer(fd, request, arg));
  // eventfd(unsigned int, int) and poll(struct pollfd *, nfds_t, int) are not variadic.
  const eventfdFn = libc.func('int eventfd(unsigned int initval, int flags)');
  const pollFn = libc.func('int poll(void *fds, unsigned long nfds, int timeout)');
  const eventfd: RawEventfd = (initval, flags) => result(eventfdFn(initval, flags));
  // A blocking poll holds the event loop for up to `timeoutMs`: the callers are synchronous by
  // design (the client waits for a notification it asked for), as every other call here is.
  const poll: RawPoll = (fds, nfds, timeoutMs) => result(pollFn(fds, nfds, timeoutMs));
  return { version: koffi.version ?? 'unknown', raw, eventfd, poll };
}

function load(): NonNullable<typeof state> {
  if (state === undefined) {
    try {
      state = { ok: true, bound: bind() };
    } catch (e) {
      const message = e instanceof Error ? e.message : String(e);
      const missing =
        (e as { code?: unknown }).code === 'MODULE_NOT_FOUND' && message.includes("module 'koffi'");
      state = {
        ok: false,
        // Other failures say it themselves, e.g. koffi without its @koromix/koffi-<platform>
        // package: "Cannot find the native Koffi module".
        reason: missing ? 'the package koffi is not installed' : (message.split('\n')[0] ?? message),
      };
    }
  }
  return state;
}

/** Whether ioctl works here; loads koffi on first call. Tests use it to skip cleanly. */
export function ffiStatus(): { ok: true; version: string } | { ok: false; reason: string } {
  const s = load();
  return s.ok ? { ok: true, version: s.bound.version } : { ok: false, reason: s.reason };
}

/** The binding, loaded on first use; throws `FfiUnavailableError` when koffi is not usable. */
function bound(): Bound {
  const s = load();
  if (!s.ok) throw new FfiUnavailableError(s.reason);
  return s.bound;
}

/** The bound ioctl once loaded: every later call goes straight to it (this is the hot path). */
let boundIoctl: RawIoctl | undefined;

/** The koffi-backed raw ioctl; throws `FfiUnavailableError` when koffi is not usable. */
export const koffiIoctl: RawIoctl = (fd, request, arg) => {
  if (boundIoctl === undefined) boundIoctl = bound().raw;
  return boundIoctl(fd, request, arg);
};

/** The koffi-backed eventfd(2); throws `FfiUnavailableError` when koffi is not usable. */
export const koffiEventfd: RawEventfd = (initval, flags) => bound().eventfd(initval, flags);

/** The koffi-backed poll(2); throws `FfiUnavailableError` when koffi is not usable. */
export const koffiPoll: RawPoll = (fds, nfds, timeoutMs) => bound().poll(fds, nfds, timeoutMs);

/**
 * Checks the arguments the C prototype would silently truncate: an `int` fd, a request that
 * fits the kernel's `unsigned int cmd` (negative 32-bit values are taken as their unsigned
 * form), an `unsigned long` integer argument. Returns the request as an unsigned number.
 */
export function checkIoctlArgs(fd: number, request: number, arg: Uint8Array | number): number {
  if (!Number.isInteger(fd) || fd < -0x80000000 || fd > 0x7fffffff)
    throw new RangeError(`ioctl: fd ${fd} is not a C int`);
  if (!Number.isInteger(request) || request < -0x80000000 || request > 0xffffffff)
    throw new RangeError(`ioctl: request ${request} does not fit 32 bits`);
  if (typeof arg === 'number' && (!Number.isSafeInteger(arg) || arg < 0))
    throw new RangeError(`ioctl: integer argument ${arg} is not an unsigned long this binding passes`);
  return request >>> 0;
}

/**
 * ioctl(2): returns the kernel's non-negative result, or throws
 * `KernelError(<errno name>, 'ioctl <name>')`. A `Uint8Array` is passed as a pointer to its
 * bytes (honouring its byteOffset) and the kernel writes into it in place, also when it fails
 * (VFIO's ENOSPC answers report the needed count that way); a number is passed by value.
 * `name` labels the request in errors (default: its hex value); a function is called only on
 * failure, so a caller that looks names up pays nothing on the success path.
 */
export function ioctl(
  fd: number,
  request: number,
  arg: Uint8Array | number = 0,
  name?: string | (() => string),
  raw: RawIoctl = koffiIoctl,
): number {
  const req = checkIoctlArgs(fd, request, arg);
  const rc = raw(fd, req, arg);
  if (rc < 0) {
    const label = typeof name === 'function' ? name() : (name ?? `0x${req.toString(16)}`);
    throw new KernelError(errnoName(-rc), `ioctl ${label}`, `fd ${fd}`);
  }
  return rc;
}
