/**
 * Watches what this process does to the file system through node:fs: every open (with its flags),
 * every write, create, link, rename and removal. The CLI and the Linux backend import node:fs as
 * ES modules; `syncBuiltinESMExports` makes their bindings see the wrapped functions too.
 */
import fs from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';

export interface FsCall {
  fn: string;
  path: string;
  /** For opens: the flags as given (string or number). */
  flags?: string | number;
}

const WATCHED = [
  'openSync',
  'writeFileSync',
  'appendFileSync',
  'mkdirSync',
  'rmSync',
  'rmdirSync',
  'unlinkSync',
  'renameSync',
  'symlinkSync',
  'linkSync',
  'truncateSync',
  'copyFileSync',
  'chmodSync',
  'chownSync',
  'utimesSync',
  'mkdtempSync',
] as const;

const WRITE_BITS =
  fs.constants.O_WRONLY |
  fs.constants.O_RDWR |
  fs.constants.O_CREAT |
  fs.constants.O_TRUNC |
  fs.constants.O_APPEND;

/** Whether an open with these flags can change the file. */
export function opensForWrite(flags: string | number | undefined): boolean {
  if (flags === undefined) return false;
  if (typeof flags === 'number') return (flags & WRITE_BITS) !== 0;
  return /[wa+]/.test(flags);
}

/** Everything `calls` shows changing the file system (write opens and every other watched call). */
export function changes(calls: readonly FsCall[]): FsCall[] {
  return calls.filter((c) =>
    c.fn === 'openSync' ? opensForWrite(c.flags) : c.fn !== 'writeFileSync' || c.path !== '<fd>',
  );
}

export function spyFs(): { calls: FsCall[]; restore(): void } {
  const calls: FsCall[] = [];
  const target = fs as unknown as Record<string, (...a: unknown[]) => unknown>;
  const saved = new Map<string, (...a: unknown[]) => unknown>();
  for (const name of WATCHED) {
    const orig = target[name]!;
    saved.set(name, orig);
    target[name] = (...a: unknown[]) => {
      // What changes is the second path for these (target → link, from → to); the first otherwise.
      const at = ['symlinkSync', 'linkSync', 'renameSync', 'copyFileSync'].includes(name) ? a[1] : a[0];
      const p = typeof at === 'number' ? '<fd>' : String(at);
      calls.push(
        name === 'openSync'
          ? { fn: name, path: p, flags: (a[1] as string | number | undefined) ?? 'r' }
          : { fn: name, path: p },
      );
      return orig.apply(fs, a);
    };
  }
  syncBuiltinESMExports();
  return {
    calls,
    restore: () => {
      for (const [name, f] of saved) target[name] = f;
      syncBuiltinESMExports();
    },
  };
}
