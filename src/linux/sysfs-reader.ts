/**
 * The real `SysfsReader`: `/sys`, or any directory that mirrors it (a sysfs dump written by
 * `vfio-reset dump`, a copy made with `cp -a`). Read-only; it never writes.
 * @module
 */

import { lstatSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { type SysfsEntryKind, SysfsError, type SysfsReader } from '../kernel/sysfs.ts';

export class DirSysfsReader implements SysfsReader {
  readonly origin: string;
  private readonly root: string;

  constructor(root = '/sys') {
    this.root = root;
    this.origin = root;
  }

  readText(path: string): string {
    return this.io(path, () => readFileSync(join(this.root, path), 'latin1'));
  }

  readBytes(path: string): Uint8Array {
    return this.io(path, () => new Uint8Array(readFileSync(join(this.root, path))));
  }

  list(path: string): string[] {
    return this.io(path, () => readdirSync(join(this.root, path)).sort());
  }

  readLink(path: string): string {
    return this.io(path, () => readlinkSync(join(this.root, path)));
  }

  kind(path: string): SysfsEntryKind | null {
    try {
      const st = lstatSync(join(this.root, path));
      return st.isSymbolicLink() ? 'link' : st.isDirectory() ? 'dir' : 'file';
    } catch {
      return null;
    }
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
