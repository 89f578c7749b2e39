/**
 * User memory as the kernel sees an ioctl argument: a `Uint8Array` is a pointer to that many
 * bytes, a number is an integer argument (or a pointer to nothing readable). Reading or writing
 * past the buffer is a failed `copy_from_user` / `copy_to_user`: EFAULT.
 * @module
 */

import type { IoctlArg } from '../../kernel/syscalls.ts';
import { ShortBufferError } from '../../uapi/vfio-structs.ts';
import { fail } from '../rules.ts';

/** PAGE_SIZE on x86-64. */
export const PAGE_SIZE = 4096;

/** `copy_from_user(…, n)`: the argument must be a buffer of at least `n` bytes. */
export function userIn(arg: IoctlArg | undefined, n: number, syscall: string): Uint8Array {
  if (!(arg instanceof Uint8Array))
    fail('copy_from_user', syscall, 'the argument is not a pointer to memory');
  if (arg.byteLength < n)
    fail('copy_from_user', syscall, `need ${n} bytes, the buffer has ${arg.byteLength}`);
  return arg;
}

/** `copy_to_user(buf, src)`: writes `bytes` at `offset`, or fails with EFAULT when they do not fit. */
export function userOut(buf: Uint8Array, offset: number, bytes: Uint8Array, syscall: string): void {
  if (buf.byteLength < offset + bytes.byteLength)
    fail(
      'copy_to_user',
      syscall,
      `need ${offset + bytes.byteLength} bytes, the buffer has ${buf.byteLength}`,
    );
  buf.set(bytes, offset);
}

/** Runs a uapi decoder; a short buffer is the kernel's failed copy_from_user. */
export function decodeIn<T>(syscall: string, decode: () => T): T {
  try {
    return decode();
  } catch (e) {
    if (e instanceof ShortBufferError) fail('copy_from_user', syscall, e.message);
    throw e;
  }
}

/** `get_user(int)`: a pointer to an `__s32`. */
export function userInt(arg: IoctlArg | undefined, syscall: string): number {
  const b = userIn(arg, 4, syscall);
  return new DataView(b.buffer, b.byteOffset, b.byteLength).getInt32(0, true);
}

/**
 * `strndup_user(arg, max)`: a NUL-terminated string; no NUL inside the buffer means reading past it
 * (EFAULT); a string that does not end within `max` bytes, NUL included, is EINVAL.
 */
export function userString(arg: IoctlArg | undefined, max: number, syscall: string): string {
  const b = userIn(arg, 1, syscall);
  const end = b.indexOf(0);
  if (end >= max || (end < 0 && b.byteLength > max))
    fail('strndup_user', syscall, `the string is longer than ${max - 1} bytes`);
  if (end < 0) fail('copy_from_user', syscall, 'the string has no NUL terminator inside the buffer');
  return new TextDecoder().decode(b.subarray(0, end));
}

/** An `_IO` integer argument; a pointer is an address that matches no known value. */
export function intArg(arg: IoctlArg | undefined): number {
  return typeof arg === 'number' ? arg : Number.NaN;
}

export function u32(b: Uint8Array, offset: number): number {
  return new DataView(b.buffer, b.byteOffset, b.byteLength).getUint32(offset, true);
}
