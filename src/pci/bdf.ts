/**
 * PCI addresses: domain (segment), bus, device (slot), function.
 * Canonical text form is the kernel's `pci_name()`: lower-case `dddd:bb:dd.f`.
 * @module
 */

export interface Bdf {
  readonly domain: number;
  readonly bus: number;
  readonly device: number;
  readonly fn: number;
}

/** Thrown for text that is not a PCI address; `input` is kept so callers can say where it came from. */
export class BdfError extends Error {
  readonly code = 'VFIO_RESET_E_BAD_BDF';
  readonly input: string;
  readonly reason: string;
  constructor(input: string, reason: string) {
    super(`'${input}' is not a PCI address (${reason}); expected dddd:bb:dd.f or bb:dd.f, e.g. 0000:01:00.0`);
    this.name = 'BdfError';
    this.input = input;
    this.reason = reason;
  }
}

const BDF_RE = /^(?:([0-9a-fA-F]{1,8}):)?([0-9a-fA-F]{1,2}):([0-9a-fA-F]{1,2})\.([0-7])$/;

/** Parses `dddd:bb:dd.f` or `bb:dd.f` (domain 0). Whitespace around the address is ignored. */
export function parseBdf(text: string): Bdf {
  const s = text.trim();
  const m = BDF_RE.exec(s);
  if (!m) {
    if (/\.[89]$/.test(s)) throw new BdfError(text, 'function must be 0-7');
    throw new BdfError(text, 'malformed');
  }
  const domain = m[1] === undefined ? 0 : Number.parseInt(m[1], 16);
  const bus = Number.parseInt(m[2]!, 16);
  const device = Number.parseInt(m[3]!, 16);
  const fn = Number.parseInt(m[4]!, 10);
  if (domain > 0xffff) throw new BdfError(text, 'domain above ffff');
  if (device > 0x1f) throw new BdfError(text, 'device number above 1f');
  return { domain, bus, device, fn };
}

/** The kernel's `pci_name()` form: `0000:01:00.0`. */
export function formatBdf(b: Bdf): string {
  return `${hex(b.domain, 4)}:${hex(b.bus, 2)}:${hex(b.device, 2)}.${b.fn}`;
}

/** `devfn` as the kernel packs it: slot in bits 7..3, function in 2..0. */
export function devfn(b: Bdf): number {
  return (b.device << 3) | b.fn;
}

export function fromDevfn(domain: number, bus: number, df: number): Bdf {
  return { domain, bus, device: df >> 3, fn: df & 7 };
}

/** Orders by domain, bus, devfn — the kernel's scan order within one bus. */
export function compareBdf(a: Bdf, b: Bdf): number {
  return a.domain - b.domain || a.bus - b.bus || devfn(a) - devfn(b);
}

export function sameBdf(a: Bdf, b: Bdf): boolean {
  return compareBdf(a, b) === 0;
}

/** Name of a bus as sysfs spells it: `0000:01`. */
export function formatBus(domain: number, bus: number): string {
  return `${hex(domain, 4)}:${hex(bus, 2)}`;
}

export function hex(n: number, width: number): string {
  return n.toString(16).padStart(width, '0');
}
