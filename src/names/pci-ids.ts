/**
 * The `pci.ids` database (the file `lspci` reads): vendor, device, subsystem and class names by
 * id. The parser takes text in chunks of any size, line by line, so a caller may stream the file
 * (the system copy is ~1.4 MB, ~36,000 lines) or hand it over at once; it keeps only the maps.
 *
 * Grammar (pci.ids header comment): `vvvv  vendor`, `\tdddd  device`, `\t\tssss dddd  subsystem`,
 * `C cc  class`, `\tss  subclass`, `\t\tpp  prog-if`; `#` comments and blank lines. Ids are
 * lower-case hex, separated from the name by two spaces. Anything else is one `PciIdsError`
 * naming file:line, so a damaged file is reported rather than silently half-read.
 * @module
 */

export class PciIdsError extends Error {
  readonly code = 'VFIO_RESET_E_PCI_IDS';
  readonly file: string;
  readonly line: number;
  constructor(file: string, line: number, what: string) {
    super(
      `${file}:${line}: ${what} (pci.ids lines are 'vvvv  vendor', tab 'dddd  device', two tabs 'ssss dddd  subsystem', or 'C cc  class'; pass another file with --pci-ids)`,
    );
    this.name = 'PciIdsError';
    this.file = file;
    this.line = line;
  }
}

interface VendorEntry {
  name: string;
  devices: Map<number, { name: string; subsystems: Map<number, string> }>;
}

interface ClassEntry {
  name: string;
  subclasses: Map<number, { name: string; progIfs: Map<number, string> }>;
}

/** Names for one function; null where the database has no entry. */
export interface FunctionNames {
  vendor: string | null;
  device: string | null;
  subsystem: string | null;
  /** Most specific class name known: prog-if, else subclass, else base class. */
  class: string | null;
}

export class PciIds {
  readonly source: string;
  private readonly vendors: Map<number, VendorEntry>;
  private readonly classes: Map<number, ClassEntry>;

  constructor(source: string, vendors: Map<number, VendorEntry>, classes: Map<number, ClassEntry>) {
    this.source = source;
    this.vendors = vendors;
    this.classes = classes;
  }

  get vendorCount(): number {
    return this.vendors.size;
  }

  vendor(v: number): string | null {
    return this.vendors.get(v)?.name ?? null;
  }

  device(v: number, d: number): string | null {
    return this.vendors.get(v)?.devices.get(d)?.name ?? null;
  }

  /** Subsystem names live under the chip's vendor:device, keyed by subsystem vendor:device. */
  subsystem(v: number, d: number, sv: number, sd: number): string | null {
    return (
      this.vendors
        .get(v)
        ?.devices.get(d)
        ?.subsystems.get(sv * 0x10000 + sd) ?? null
    );
  }

  /** 24-bit class code (base, sub, prog-if). */
  className(code: number): string | null {
    const base = this.classes.get((code >> 16) & 0xff);
    if (!base) return null;
    const sub = base.subclasses.get((code >> 8) & 0xff);
    if (!sub) return base.name;
    return sub.progIfs.get(code & 0xff) ?? sub.name;
  }

  names(f: {
    vendor: number;
    device: number;
    subsystemVendor: number;
    subsystemDevice: number;
    classCode: number;
  }): FunctionNames {
    return {
      vendor: this.vendor(f.vendor),
      device: this.device(f.vendor, f.device),
      subsystem: this.subsystem(f.vendor, f.device, f.subsystemVendor, f.subsystemDevice),
      class: this.className(f.classCode),
    };
  }
}

const VENDOR = /^([0-9a-f]{4}) {2}(.+)$/;
const DEVICE = /^\t([0-9a-f]{4}) {2}(.+)$/;
const SUBSYSTEM = /^\t\t([0-9a-f]{4}) ([0-9a-f]{4}) {2}(.+)$/;
const CLASS = /^C ([0-9a-f]{2}) {2}(.+)$/;
const SUBCLASS = /^\t([0-9a-f]{2}) {2}(.+)$/;
const PROG_IF = /^\t\t([0-9a-f]{2}) {2}(.+)$/;

/** Line-by-line parser; `push` chunks of any size, then `end`. */
export class PciIdsParser {
  private readonly file: string;
  private readonly vendors = new Map<number, VendorEntry>();
  private readonly classes = new Map<number, ClassEntry>();
  private vendor: VendorEntry | null = null;
  private device: { name: string; subsystems: Map<number, string> } | null = null;
  private cls: ClassEntry | null = null;
  private sub: { name: string; progIfs: Map<number, string> } | null = null;
  private rest = '';
  private lineNo = 0;

  constructor(file: string) {
    this.file = file;
  }

  push(chunk: string): void {
    const text = this.rest + chunk;
    let start = 0;
    for (let nl = text.indexOf('\n', start); nl >= 0; nl = text.indexOf('\n', start)) {
      this.line(text.slice(start, nl));
      start = nl + 1;
    }
    this.rest = text.slice(start);
  }

  end(): PciIds {
    if (this.rest !== '') this.line(this.rest);
    this.rest = '';
    return new PciIds(this.file, this.vendors, this.classes);
  }

  private fail(what: string): never {
    throw new PciIdsError(this.file, this.lineNo, what);
  }

  private line(raw: string): void {
    this.lineNo += 1;
    const s = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (s === '' || s[0] === '#') return;
    // One expression per line, picked by the indentation (most lines are indented subsystem lines).
    if (s[0] === '\t') {
      if (this.cls) this.classLine(this.cls, s);
      else this.vendorLine(s);
      return;
    }
    if (s[0] === 'C' && s[1] === ' ') {
      const cls = CLASS.exec(s);
      if (!cls) this.fail(`not a class line: ${JSON.stringify(s.slice(0, 60))}`);
      this.vendor = this.device = this.sub = null;
      this.cls = { name: cls[2]!, subclasses: new Map() };
      this.classes.set(hex(cls[1]!), this.cls);
      return;
    }
    const vendor = VENDOR.exec(s);
    if (!vendor) this.fail(`not a pci.ids line: ${JSON.stringify(s.slice(0, 60))}`);
    this.cls = this.sub = this.device = null;
    this.vendor = { name: vendor[2]!, devices: new Map() };
    this.vendors.set(hex(vendor[1]!), this.vendor);
  }

  private classLine(cls: ClassEntry, s: string): void {
    if (s[1] !== '\t') {
      const sub = SUBCLASS.exec(s);
      if (!sub) this.fail(`not a subclass line: ${JSON.stringify(s.slice(0, 60))}`);
      this.sub = { name: sub[2]!, progIfs: new Map() };
      cls.subclasses.set(hex(sub[1]!), this.sub);
      return;
    }
    const progIf = PROG_IF.exec(s);
    if (!progIf) this.fail(`not a prog-if line: ${JSON.stringify(s.slice(0, 60))}`);
    if (!this.sub) this.fail('a prog-if line before any subclass line');
    this.sub.progIfs.set(hex(progIf[1]!), progIf[2]!);
  }

  private vendorLine(s: string): void {
    if (s[1] !== '\t') {
      const device = DEVICE.exec(s);
      if (!device) this.fail(`not a device line: ${JSON.stringify(s.slice(0, 60))}`);
      if (!this.vendor) this.fail('a device line before any vendor line');
      this.device = { name: device[2]!, subsystems: new Map() };
      this.vendor.devices.set(hex(device[1]!), this.device);
      return;
    }
    const sub = SUBSYSTEM.exec(s);
    if (!sub) this.fail(`not a subsystem line: ${JSON.stringify(s.slice(0, 60))}`);
    if (!this.device) this.fail('a subsystem line before any device line');
    this.device.subsystems.set(hex(sub[1]!) * 0x10000 + hex(sub[2]!), sub[3]!);
  }
}

function hex(s: string): number {
  return Number.parseInt(s, 16);
}

/** Parses a whole text (tests, small files). */
export function parsePciIds(text: string, file = 'pci.ids'): PciIds {
  const p = new PciIdsParser(file);
  p.push(text);
  return p.end();
}
