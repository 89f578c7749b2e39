/**
 * The read half of the kernel boundary: sysfs as files, directories and symlinks.
 * One interface, two implementations — `linux/sysfs-reader.ts` (a real directory, `/sys` by
 * default, or any copy of one) and `sim/sysfs.ts` (the simulated host's projection). Everything
 * above the boundary (inventory, dump, planner) sees only this.
 *
 * Paths are always relative to the sysfs root and use `/`, e.g. `bus/pci/devices/0000:00:01.0/vendor`.
 * @module
 */

/** What a path is, without following a final symlink (like lstat). */
export type SysfsEntryKind = 'file' | 'dir' | 'link';

export interface SysfsReader {
  /** A short description for messages: `/sys`, `sim:examples/workstation.yaml`, … */
  readonly origin: string;
  /** Text of a file (follows symlinks); throws `SysfsError` with code ENOENT when absent. */
  readText(path: string): string;
  /** Bytes of a file (follows symlinks), e.g. `config`. */
  readBytes(path: string): Uint8Array;
  /** Entry names of a directory (follows symlinks), sorted. */
  list(path: string): string[];
  /** Target of a symlink exactly as stored (usually relative, as sysfs writes them). */
  readLink(path: string): string;
  /** Kind of the entry without following a final symlink, or null when absent. */
  kind(path: string): SysfsEntryKind | null;
}

/** A failed sysfs access; `errno` is the name the kernel (or fs) gave, `path` is relative to the root. */
export class SysfsError extends Error {
  readonly code = 'VFIO_RESET_E_SYSFS';
  readonly errno: string;
  readonly path: string;
  readonly origin: string;
  constructor(errno: string, path: string, origin: string) {
    super(`${origin}/${path}: ${errno}`);
    this.name = 'SysfsError';
    this.errno = errno;
    this.path = path;
    this.origin = origin;
  }
}

/** Joins sysfs-relative path parts and resolves `.`/`..` (no leading slash in the result). */
export function joinPath(...parts: string[]): string {
  return pathParts(parts.join('/')).join('/');
}

/** `joinPath(path)` as its parts: empty and `.` parts dropped, `..` folded. */
export function pathParts(path: string): string[] {
  const out: string[] = [];
  for (const part of path.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') out.pop();
    else out.push(part);
  }
  return out;
}

/** Resolves a symlink target relative to the directory holding the link. */
export function resolveLink(linkPath: string, target: string): string {
  const dir = linkPath.split('/').slice(0, -1).join('/');
  return target.startsWith('/') ? joinPath(target) : joinPath(dir, target);
}

/** The last name in `path`, trailing slashes ignored (`a/b/` → `b`); `''` when there is none. */
export function basename(path: string): string {
  let end = path.length;
  while (end > 0 && path[end - 1] === '/') end--;
  return path.slice(path.lastIndexOf('/', end - 1) + 1, end);
}
