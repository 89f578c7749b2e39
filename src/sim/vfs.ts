/**
 * A tiny in-memory filesystem of directories, files and symlinks: the shape sysfs has.
 * The simulated host projects its state into one of these; file contents are functions so an
 * attribute always reads the current state (as a sysfs `show` callback does).
 * @module
 */

import {
  basename,
  joinPath,
  pathParts,
  resolveLink,
  type SysfsEntryKind,
  SysfsError,
  type SysfsReader,
} from '../kernel/sysfs.ts';

type Content = string | Uint8Array;

type VNode =
  | { kind: 'dir'; children: Map<string, VNode> }
  | { kind: 'file'; read: () => Content }
  | { kind: 'link'; target: string };

const MAX_LINK_HOPS = 40; // as the kernel's MAXSYMLINKS

export class Vfs implements SysfsReader {
  readonly origin: string;
  private readonly root: VNode = { kind: 'dir', children: new Map() };

  constructor(origin: string) {
    this.origin = origin;
  }

  mkdir(path: string): void {
    const parts = pathParts(path);
    this.dirAt(parts, true, parts.join('/'));
  }

  /** Creates (or replaces) a file; `content` may be a function evaluated at every read. */
  file(path: string, content: Content | (() => Content)): void {
    this.put(path, { kind: 'file', read: typeof content === 'function' ? content : () => content });
  }

  symlink(path: string, target: string): void {
    this.put(path, { kind: 'link', target });
  }

  /** Sets the entry at `path`, creating its parent directories (one pass over the path's parts). */
  private put(path: string, node: VNode): void {
    const parts = pathParts(path);
    const name = parts.pop() ?? '';
    this.dirAt(parts, true, path).children.set(name, node);
  }

  remove(path: string): void {
    const p = joinPath(path);
    const parent = this.lookup(parentOf(p), true);
    if (parent?.node.kind === 'dir') parent.node.children.delete(basename(p));
  }

  /** The read function of the file at `path` (to wrap it without reading it now). */
  reader(path: string): () => Content {
    return this.fileAt(path).read;
  }

  readText(path: string): string {
    const c = this.fileAt(path).read();
    return typeof c === 'string' ? c : new TextDecoder().decode(c);
  }

  readBytes(path: string): Uint8Array {
    const c = this.fileAt(path).read();
    return typeof c === 'string' ? new TextEncoder().encode(c) : c;
  }

  list(path: string): string[] {
    const n = this.lookup(joinPath(path), true);
    if (!n) throw new SysfsError('ENOENT', path, this.origin);
    if (n.node.kind !== 'dir') throw new SysfsError('ENOTDIR', path, this.origin);
    return [...n.node.children.keys()].sort();
  }

  readLink(path: string): string {
    const n = this.lookup(joinPath(path), false);
    if (!n) throw new SysfsError('ENOENT', path, this.origin);
    if (n.node.kind !== 'link') throw new SysfsError('EINVAL', path, this.origin);
    return n.node.target;
  }

  kind(path: string): SysfsEntryKind | null {
    return this.lookup(joinPath(path), false)?.node.kind ?? null;
  }

  /** Every path below `path` (depth first, sorted), with its kind; links are not followed. */
  walk(path = ''): { path: string; kind: SysfsEntryKind }[] {
    const out: { path: string; kind: SysfsEntryKind }[] = [];
    const visit = (p: string, node: VNode) => {
      for (const name of [...(node.kind === 'dir' ? node.children.keys() : [])].sort()) {
        const child = (node as { children: Map<string, VNode> }).children.get(name)!;
        const cp = p === '' ? name : `${p}/${name}`;
        out.push({ path: cp, kind: child.kind });
        if (child.kind === 'dir') visit(cp, child);
      }
    };
    const start = this.lookup(joinPath(path), true);
    if (start) visit(joinPath(path), start.node);
    return out;
  }

  private fileAt(path: string): { read: () => Content } {
    const n = this.lookup(joinPath(path), true);
    if (!n) throw new SysfsError('ENOENT', path, this.origin);
    if (n.node.kind === 'dir') throw new SysfsError('EISDIR', path, this.origin);
    return n.node as { read: () => Content };
  }

  /** The directory at the normalised `parts` (creating missing ones if asked); `path` names it in errors. */
  private dirAt(
    parts: readonly string[],
    create: boolean,
    path: string,
  ): { kind: 'dir'; children: Map<string, VNode> } {
    let node = this.root as { kind: 'dir'; children: Map<string, VNode> };
    for (const part of parts) {
      let next = node.children.get(part);
      if (!next && create) {
        next = { kind: 'dir', children: new Map() };
        node.children.set(part, next);
      }
      if (next?.kind !== 'dir') throw new SysfsError(next ? 'ENOTDIR' : 'ENOENT', path, this.origin);
      node = next;
    }
    return node;
  }

  /** Resolves a normalised path; intermediate links are always followed, the last one only if asked. */
  private lookup(path: string, followLast: boolean, hops = 0): { node: VNode; path: string } | null {
    if (hops > MAX_LINK_HOPS) throw new SysfsError('ELOOP', path, this.origin);
    const parts = path.split('/').filter((p) => p !== '');
    let node: VNode = this.root;
    let here = '';
    for (let i = 0; i < parts.length; i++) {
      if (node.kind !== 'dir') return null;
      const next = node.children.get(parts[i]!);
      if (!next) return null;
      const childPath = here === '' ? parts[i]! : `${here}/${parts[i]}`;
      const last = i === parts.length - 1;
      if (next.kind === 'link' && (!last || followLast)) {
        const target = resolveLink(childPath, next.target);
        const rest = parts.slice(i + 1).join('/');
        return this.lookup(rest === '' ? target : `${target}/${rest}`, followLast, hops + 1);
      }
      node = next;
      here = childPath;
    }
    return { node, path: here };
  }
}

function parentOf(p: string): string {
  return p.split('/').slice(0, -1).join('/');
}
