/**
 * Where names come from: the file given with `--pci-ids`, else the system copy
 * (`/usr/share/misc/pci.ids` on Debian, `/usr/share/hwdata/pci.ids` on Fedora and others), read
 * once, lazily — only when some output needs a name — in 64 KiB chunks through the streaming
 * parser. No file at all is not an error: names fall back to hex ids.
 * @module
 */

import { closeSync, openSync, readSync } from 'node:fs';
import { HEX_ONLY, type Namer } from './namer.ts';
import { type FunctionNames, type PciIds, PciIdsParser } from './pci-ids.ts';

export const SYSTEM_PCI_IDS = ['/usr/share/misc/pci.ids', '/usr/share/hwdata/pci.ids'] as const;

/** A `--pci-ids` file that cannot be read: a usage error (exit 2), like any bad option value. */
export class PciIdsFileError extends Error {
  readonly code = 'VFIO_RESET_E_USAGE';
  constructor(path: string, why: string) {
    super(`--pci-ids ${path}: ${why}; give a pci.ids file (e.g. /usr/share/misc/pci.ids)`);
    this.name = 'PciIdsFileError';
  }
}

/** Reads and parses one file in chunks; null when it does not exist. */
export function readPciIdsFile(path: string): PciIds | null {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  }
  try {
    const parser = new PciIdsParser(path);
    const decoder = new TextDecoder('utf-8');
    const buf = new Uint8Array(64 * 1024);
    for (let n = readSync(fd, buf); n > 0; n = readSync(fd, buf))
      parser.push(decoder.decode(buf.subarray(0, n), { stream: true }));
    parser.push(decoder.decode());
    return parser.end();
  } finally {
    closeSync(fd);
  }
}

/** Loads on first use: the explicit file (which must exist), else the first system file found. */
export class LazyPciIds implements Namer {
  private readonly explicit: string | null;
  private readonly candidates: readonly string[];
  private loaded: PciIds | null | undefined;

  constructor(explicit: string | null, candidates: readonly string[] = SYSTEM_PCI_IDS) {
    this.explicit = explicit;
    this.candidates = candidates;
  }

  /** The database, or null when there is none (names are then hex). */
  db(): PciIds | null {
    if (this.loaded !== undefined) return this.loaded;
    if (this.explicit !== null) {
      let db: PciIds | null;
      try {
        db = readPciIdsFile(this.explicit);
      } catch (e) {
        if ((e as { code?: string }).code === 'VFIO_RESET_E_PCI_IDS') throw e;
        throw new PciIdsFileError(this.explicit, (e as NodeJS.ErrnoException).code ?? String(e));
      }
      if (db === null) throw new PciIdsFileError(this.explicit, 'no such file');
      this.loaded = db;
    } else {
      this.loaded = null;
      for (const c of this.candidates) {
        const db = readPciIdsFile(c);
        if (db) {
          this.loaded = db;
          break;
        }
      }
    }
    return this.loaded;
  }

  names(f: Parameters<PciIds['names']>[0]): FunctionNames {
    return this.db()?.names(f) ?? HEX_ONLY.names(f);
  }
}
