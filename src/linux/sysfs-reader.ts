/**
 * The real `SysfsReader`: `/sys`, or any directory that mirrors it (a sysfs dump written by
 * `vfio-reset dump`, a copy made with `cp -a`). Read-only; it never writes.
 * @module
 */

import { closeSync, lstatSync, openSync, readdirSync, readFileSync, readlinkSync, readSync } from 'node:fs';
import { join } from 'node:path';
import { type SysfsEntryKind, SysfsError, type SysfsReader } from '../kernel/sysfs.ts';

export class DirSysfsReader implements SysfsReader {
  readonly origin: string;
  private readonly root: string;
  private readonly buf = Buffer.alloc(4096);

  constructor(root = '/sys') {
    this.root = root;
    this.origin = root;
  }

  readText(path: string): string {
    const abs = this.abs(path);
    // Attributes are short: one read into a shared buffer (no fstat, no buffer per file); only a
    // file that fills it is read again whole. No closure per call: this runs ~25,000 times a scan.
    try {
      const fd = openSync(abs, 'r');
      try {
        const n = readSync(fd, this.buf, 0, this.buf.length, 0);
        if (n < this.buf.length) return this.buf.toString('latin1', 0, n);
      } finally {
        closeSync(fd);
      }
      return readFileSync(abs, 'latin1');
    } catch (e) {
      throw this.error(path, e);
    }
  }

  readBytes(path: string): Uint8Array {
    try {
      return new Uint8Array(readFileSync(this.abs(path)));
    } catch (e) {
      throw this.error(path, e);
    }
  }

  list(path: string): string[] {
    let names: string[];
    try {
      names = readdirSync(this.abs(path));
    } catch (e) {
      throw this.error(path, e);
    }
    // libuv's scandir sorts by strcmp already, which is this order for sysfs's ASCII names: looking
    // costs less than Array.sort, which is called only if the order is ever not so.
    for (let i = 1; i < names.length; i++) if (names[i - 1]! > names[i]!) return names.sort();
    return names;
  }

  readLink(path: string): string {
    try {
      return readlinkSync(this.abs(path));
    } catch (e) {
      throw this.error(path, e);
    }
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
   * The absolute path. Only `..` needs path.join: it folds it by name, as the paths' authors mean
   * (the kernel would follow a symlink before `..`); `.`, `//` and a leading `/` mean the same
   * either way, so everything else — every path the readers build — is appended as it is.
   */
  private abs(path: string): string {
    return path === '' || path.includes('..') ? join(this.root, path) : `${this.root}/${path}`;
  }

  private error(path: string, e: unknown): SysfsError {
    return new SysfsError((e as NodeJS.ErrnoException).code ?? 'EIO', path, this.origin);
  }
}
