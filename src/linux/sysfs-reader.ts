/**
 * The real `SysfsReader`: `/sys`, or any directory that mirrors it (a sysfs dump written by
 * `vfio-reset dump`, a copy made with `cp -a`). Read-only; it never writes.
 * @module
 */

import { closeSync, lstatSync, openSync, readdirSync, readFileSync, readlinkSync, readSync } from 'node:fs';
import { join } from 'node:path';
import { type SysfsEntryKind, SysfsError, type SysfsReader } from '../kernel/sysfs.ts';

/** Could `path` hold an empty, `.` or `..` part (or a leading/trailing slash)? Cheap and conservative. */
function maybeNotNormal(path: string): boolean {
  return (
    path === '' ||
    path[0] === '.' ||
    path[0] === '/' ||
    path.endsWith('/') ||
    path.includes('/.') ||
    path.includes('//')
  );
}

export class DirSysfsReader implements SysfsReader {
  readonly origin: string;
  private readonly root: string;
  private readonly buf = Buffer.alloc(4096);

  constructor(root = '/sys') {
    this.root = root;
    this.origin = root;
  }

  readText(path: string): string {
    return this.io(path, () => {
      // Attributes are short: one read into a shared buffer (no fstat, no buffer per file);
      // only a file that fills it is read again whole.
      const fd = openSync(this.abs(path), 'r');
      try {
        const n = readSync(fd, this.buf, 0, this.buf.length, 0);
        if (n < this.buf.length) return this.buf.toString('latin1', 0, n);
      } finally {
        closeSync(fd);
      }
      return readFileSync(this.abs(path), 'latin1');
    });
  }

  readBytes(path: string): Uint8Array {
    return this.io(path, () => new Uint8Array(readFileSync(this.abs(path))));
  }

  list(path: string): string[] {
    return this.io(path, () => readdirSync(this.abs(path)).sort());
  }

  readLink(path: string): string {
    return this.io(path, () => readlinkSync(this.abs(path)));
  }

  kind(path: string): SysfsEntryKind | null {
    try {
      const st = lstatSync(this.abs(path));
      return st.isSymbolicLink() ? 'link' : st.isDirectory() ? 'dir' : 'file';
    } catch {
      return null;
    }
  }

  /**
   * The absolute path. Paths the readers build are already normal (`resolveLink` folds `..`), so
   * they are appended as they are; anything with `.`/`..`/`//` goes through path.join as before.
   */
  private abs(path: string): string {
    return maybeNotNormal(path) ? join(this.root, path) : `${this.root}/${path}`;
  }

  private io<T>(path: string, f: () => T): T {
    try {
      return f();
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code ?? 'EIO';
      throw new SysfsError(code, path, this.origin);
    }
  }
}
