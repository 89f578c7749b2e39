/**
 * `lspci -xxxx` dumps (pciutils) to a `HostDesc`, and hosts back to that format for tests and
 * fixtures. A dump is, per function, a header line and the config bytes:
 *
 * ```
 * 00:1f.3 Audio device: Intel Corporation Alder Lake-S HD Audio Controller (rev 11)
 * 	Kernel driver in use: snd_hda_intel            (with -k or -v; other -v lines are skipped)
 * 00: 86 80 d0 7a 06 04 10 00 11 00 03 04 10 20 80 00
 * …
 * ff0: 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00
 * ```
 *
 * The header may carry a domain (`0000:00:1f.3`, with -D or on multi-domain hosts) and -nn's
 * `[cccc]` / `[vvvv:dddd]`. Everything the model needs comes from the bytes (`parseConfigSpace`):
 * the tree from the bridges' secondary/subordinate numbers, multifunction from the Header Type,
 * and the pciehp slots from the ports whose Slot Control has pciehp's event enables on. From the
 * text only: the label (pci.ids name), `Kernel driver in use:` (-k or -v) and `Physical Slot:`
 * (-v), which names the slot at that address (see `readSlots`). lspci shows no `driver_override`,
 * quirks or `_RST`, so those stay at their defaults.
 *
 * Every bad input ends in one `LspciDumpError` at a line and column; nothing else escapes.
 * @module
 */

import { readFileSync } from 'node:fs';
import { type Bdf, BdfError, formatBdf, hex, parseBdf } from '../pci/bdf.ts';
import { className } from '../pci/class-names.ts';
import {
  applyConfigStructure,
  buildConfigSpace,
  CAP_ID,
  CONFIG_SIZE,
  ConfigSpaceError,
  findCapability,
  parseConfigSpace,
} from '../pci/config-space.ts';
import { type FunctionDesc, functionDefaults, type HostDesc, type SlotDesc } from '../pci/model.ts';
import { Topology, TopologyError } from '../pci/topology.ts';

export const LSPCI_ERROR_REASONS = [
  'unreadable',
  'empty',
  'syntax',
  'offset',
  'bytes',
  'length',
  'config',
  'vf-ids',
  'duplicate',
  'slot',
  'topology',
  'internal',
] as const;
export type LspciErrorReason = (typeof LSPCI_ERROR_REASONS)[number];

export class LspciDumpError extends Error {
  readonly code = 'VFIO_RESET_E_LSPCI_DUMP';
  readonly file: string;
  /** 1-based; 0 when the problem has no place (an unreadable file). */
  readonly line: number;
  readonly col: number;
  readonly reason: LspciErrorReason;
  /** The message without the `file:line:col: ` prefix. */
  readonly detail: string;
  constructor(file: string, line: number, col: number, reason: LspciErrorReason, detail: string) {
    super(`${line > 0 ? `${file}:${line}:${col}` : file}: ${detail}`);
    this.name = 'LspciDumpError';
    this.file = file;
    this.line = line;
    this.col = col;
    this.reason = reason;
    this.detail = detail;
  }
}

export interface LspciImportOptions {
  /** Name of the host (default `lspci`). */
  name?: string;
  /** File name used in messages (default `<lspci>`). */
  file?: string;
}

export interface LspciImport {
  host: HostDesc;
  /** Things read past, each with its line: odd capability lists, missing extended config space, skipped domains. */
  warnings: string[];
}

/** Reads a dump file; an unreadable file is an `LspciDumpError` too. */
export function loadLspciFile(path: string, opts: Omit<LspciImportOptions, 'file'> = {}): LspciImport {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? 'EIO';
    throw new LspciDumpError(path, 0, 0, 'unreadable', `cannot read the dump (${code})`);
  }
  return importLspci(text, { ...opts, file: path });
}

/** The host a dump describes (see `importLspci` for the warnings). */
export function parseLspci(text: string, opts: LspciImportOptions = {}): HostDesc {
  return importLspci(text, opts).host;
}

export function importLspci(text: string, opts: LspciImportOptions = {}): LspciImport {
  const file = opts.file ?? '<lspci>';
  try {
    return readDump(text, file, opts.name ?? 'lspci');
  } catch (e) {
    if (e instanceof LspciDumpError) throw e;
    // A bug must not surface as a crash of the caller; the reason tells tests apart from bad input.
    throw new LspciDumpError(file, 1, 1, 'internal', `could not read the dump: ${String(e)}`);
  }
}

// ---- reading ---------------------------------------------------------------------------------------

interface Block {
  bdf: Bdf;
  name: string;
  line: number;
  /** Ids from the header (-n / -nn), for VFs whose config space reads ffff. */
  ids: [number, number] | null;
  label: string | undefined;
  driver: string | null;
  slot: { name: string; line: number } | null;
  bytes: number[];
  firstHexLine: number;
  lastHexLine: number;
}

const HEX_LINE = /^([0-9a-fA-F]{1,4}):(?=[ \t]|$)/;

function readDump(text: string, file: string, hostName: string): LspciImport {
  const fail = (line: number, col: number, reason: LspciErrorReason, detail: string): never => {
    throw new LspciDumpError(file, line, col, reason, detail);
  };
  const lines = text.split('\n').map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l));
  const warnings: string[] = [];
  const blocks: Block[] = [];
  let cur: Block | null = null;
  let skipping = false; // inside a device that is skipped (a domain the model cannot address)

  for (let i = 0; i < lines.length; i++) {
    const n = i + 1;
    const line = lines[i]!;
    if (line.trim() === '') continue;

    if (/^[ \t]/.test(line)) {
      // -v / -k detail lines belong to the device above and come before its hex dump.
      if (skipping) continue;
      if (!cur)
        fail(
          n,
          1,
          'syntax',
          'an indented detail line comes before any device header (is the start of the dump missing?)',
        );
      const c = cur!;
      if (c.bytes.length > 0)
        fail(
          n,
          1,
          'syntax',
          `a detail line after the config bytes of ${c.name}; lspci prints details before the hex dump`,
        );
      const driver = /^[ \t]+Kernel driver in use:[ \t]*(.*?)[ \t]*$/.exec(line);
      if (driver) {
        if (!/^\S+$/.test(driver[1]!))
          fail(n, valueCol(line), 'syntax', 'expected one driver name after "Kernel driver in use:"');
        c.driver = driver[1]!;
      }
      const slot = /^[ \t]+Physical Slot:[ \t]*(.*?)[ \t]*$/.exec(line);
      if (slot) {
        const name = slot[1]!;
        if (name === '' || name.includes('/'))
          fail(n, valueCol(line), 'syntax', 'expected a slot name after "Physical Slot:"');
        c.slot = { name, line: n };
      }
      continue;
    }

    const hexStart = HEX_LINE.exec(line);
    if (hexStart) {
      if (skipping) continue;
      if (!cur)
        fail(
          n,
          1,
          'syntax',
          'config bytes come before any device header (is the start of the dump missing?)',
        );
      readHexLine(cur!, line, n, hexStart[1]!, fail);
      continue;
    }

    // A device header: the address, then (usually) class and name.
    const space = line.search(/[ \t]/);
    const token = space < 0 ? line : line.slice(0, space);
    const domainTooBig = /^([0-9a-fA-F]{5,8}):[0-9a-fA-F]{1,2}:[0-9a-fA-F]{1,2}\.[0-7]$/.exec(token);
    if (domainTooBig && Number.parseInt(domainTooBig[1]!, 16) > 0xffff) {
      // VMD and similar: a domain above ffff holds devices behind an endpoint, which vfio cannot split off.
      warnings.push(
        `${file}:${n}: ${token} is in domain ${domainTooBig[1]} (above ffff, e.g. behind Intel VMD); skipped`,
      );
      if (cur) finishBlock(cur, blocks, fail);
      cur = null;
      skipping = true;
      continue;
    }
    let bdf: Bdf;
    try {
      bdf = parseBdf(token);
    } catch (e) {
      if (!(e instanceof BdfError)) throw e;
      fail(
        n,
        1,
        'syntax',
        /^[0-9a-fA-F:.]+$/.test(token)
          ? `"${token}" is not a PCI address (${e.reason}); expected bb:dd.f or dddd:bb:dd.f as lspci prints it`
          : `expected a device header like "00:1f.3 Audio device: …" or a config line like "00: 86 80 …", not "${truncate(line)}"`,
      );
      continue;
    }
    if (cur) finishBlock(cur, blocks, fail);
    skipping = false;
    const name = formatBdf(bdf);
    const dup = blocks.find((b) => b.name === name);
    if (dup)
      fail(n, 1, 'duplicate', `${name} appears twice (first at line ${dup.line}); is the dump concatenated?`);
    const desc = space < 0 ? '' : line.slice(space).trim();
    cur = {
      bdf,
      name,
      line: n,
      ids: headerIds(desc),
      label: headerLabel(desc),
      driver: null,
      slot: null,
      bytes: [],
      firstHexLine: 0,
      lastHexLine: 0,
    };
  }
  if (cur) finishBlock(cur, blocks, fail);
  if (blocks.length === 0)
    fail(
      1,
      1,
      'empty',
      'no PCI functions found; expected the output of "sudo lspci -xxxx": a header line per function ("00:1f.3 Audio device: …") followed by its config bytes ("00: 86 80 …")',
    );

  // Config space to descriptions.
  const functions: FunctionDesc[] = [];
  for (const b of blocks) functions.push(describe(b, file, warnings, fail));

  const { slots, slotLine } = readSlots(blocks, functions, fail);
  const host: HostDesc = { name: hostName, functions, slots };
  try {
    Topology.build(host);
  } catch (e) {
    if (!(e instanceof TopologyError)) throw e;
    const issue = e.issues[0]!;
    const more =
      e.issues.length > 1
        ? ` (and ${e.issues.length - 1} more problem${e.issues.length > 2 ? 's' : ''})`
        : '';
    const line = whereLine(issue.where, blocks, slotLine, functions);
    fail(line, 1, 'topology', `${issue.where} ${issue.message}${more}`);
  }
  return { host, warnings };
}

/** 1-based column of the value after the first colon of a detail line (or just past the end). */
function valueCol(line: string): number {
  const colon = line.indexOf(':');
  const at = line.slice(colon + 1).search(/[^ \t]/);
  return at < 0 ? line.length + 1 : colon + 2 + at;
}

function truncate(s: string): string {
  return s.length > 40 ? `${s.slice(0, 40)}…` : s;
}

function readHexLine(
  b: Block,
  line: string,
  n: number,
  offsetText: string,
  fail: (line: number, col: number, reason: LspciErrorReason, detail: string) => never,
): void {
  const offset = Number.parseInt(offsetText, 16);
  const expected = b.bytes.length;
  if (expected >= CONFIG_SIZE.express)
    fail(n, 1, 'length', `${b.name} already has 4096 bytes of config space; nothing follows ff0:`);
  if (offset !== expected) {
    const what =
      offset % 16 !== 0
        ? 'is not a multiple of 10'
        : offset < expected
          ? 'repeats an earlier line'
          : 'skips lines';
    fail(
      n,
      1,
      'offset',
      `config line offset ${offsetText} ${what}; expected ${hex(expected, expected >= 0x100 ? 3 : 2)}: for ${b.name} (is the dump cut or edited?)`,
    );
  }
  // Exactly 16 bytes, each " xx"; the column of the first bad one is reported.
  let col = offsetText.length + 2; // 1-based column just after the colon
  const bytes: number[] = [];
  for (let k = 0; k < 16; k++) {
    const token = line.slice(col - 1, col + 2);
    if (token.length === 0 || /^[ \t]*$/.test(line.slice(col - 1)))
      fail(n, col, 'bytes', `config line ${offsetText}: has ${k} bytes; lspci prints 16 per line`);
    if (!/^ [0-9a-fA-F]{2}$/.test(token))
      fail(
        n,
        col + (token[0] === ' ' ? 1 : 0),
        'bytes',
        `config line ${offsetText}: expected a byte as two hex digits after one space`,
      );
    bytes.push(Number.parseInt(token.slice(1), 16));
    col += 3;
  }
  if (line.slice(col - 1).trim() !== '')
    fail(n, col, 'bytes', `config line ${offsetText}: more than 16 bytes`);
  if (b.bytes.length === 0) b.firstHexLine = n;
  b.lastHexLine = n;
  b.bytes.push(...bytes);
}

function finishBlock(
  b: Block,
  blocks: Block[],
  fail: (line: number, col: number, reason: LspciErrorReason, detail: string) => never,
): void {
  const len = b.bytes.length;
  if (len === 0)
    fail(
      b.line,
      1,
      'length',
      `${b.name} has no config bytes; run "sudo lspci -xxxx" (the hex dump is what is read)`,
    );
  if (len < CONFIG_SIZE.conventional)
    fail(
      b.lastHexLine,
      1,
      'length',
      `${b.name} has only ${len} bytes of config space (lspci -x, or not run as root): its capabilities are unknown; run "sudo lspci -xxxx"`,
    );
  if (len !== CONFIG_SIZE.conventional && len !== CONFIG_SIZE.express)
    fail(
      b.lastHexLine,
      1,
      'length',
      `${b.name}'s config bytes stop at ${hex(len, 3)}; lspci prints 256 or 4096 (is the dump cut short?)`,
    );
  blocks.push(b);
}

/** `[vvvv:dddd]` (-nn) or `cccc: vvvv:dddd` (-n) on a header line. */
function headerIds(desc: string): [number, number] | null {
  const numeric = /^[0-9a-fA-F]{4}: ([0-9a-fA-F]{4}):([0-9a-fA-F]{4})\b/.exec(desc);
  const bracket = [...desc.matchAll(/\[([0-9a-fA-F]{4}):([0-9a-fA-F]{4})\]/g)].pop();
  const m = numeric ?? bracket;
  return m ? [Number.parseInt(m[1]!, 16), Number.parseInt(m[2]!, 16)] : null;
}

/** The device name after the class: without -nn's ids, `(rev xx)` and `(prog-if …)`. */
function headerLabel(desc: string): string | undefined {
  const colon = desc.indexOf(': ');
  if (colon < 0) return undefined;
  let name = desc.slice(colon + 2);
  name = name.replace(/ \(prog-if [0-9a-fA-F]{2}(?: \[[^\]]*\])?\)$/, '');
  name = name.replace(/ \(rev [0-9a-fA-F]{2}\)$/, '');
  name = name.replace(/ \[[0-9a-fA-F]{4}:[0-9a-fA-F]{4}\]$/, '').trim();
  if (name === '' || /^[0-9a-fA-F]{4}:[0-9a-fA-F]{4}$/.test(name)) return undefined;
  return name;
}

function describe(
  b: Block,
  file: string,
  warnings: string[],
  fail: (line: number, col: number, reason: LspciErrorReason, detail: string) => never,
): FunctionDesc {
  const bytes = Uint8Array.from(b.bytes);
  let cfg: ReturnType<typeof parseConfigSpace>;
  try {
    cfg = parseConfigSpace(bytes, b.bdf);
  } catch (e) {
    if (!(e instanceof ConfigSpaceError)) throw e;
    return fail(b.firstHexLine, 1, 'config', e.message);
  }
  const f = functionDefaults(b.bdf);
  f.vendor = cfg.vendor;
  f.device = cfg.device;
  if (cfg.vendor === 0xffff && cfg.device === 0xffff) {
    // An SR-IOV VF: its config space reads ffff; only the header line (from sysfs) has the ids.
    if (!b.ids)
      fail(
        b.line,
        1,
        'vf-ids',
        `${b.name}'s config space reads vendor/device ffff:ffff (an SR-IOV VF); its ids are on the header line only with lspci -nn`,
      );
    [f.vendor, f.device] = b.ids!;
    f.virtfn = true;
  } else {
    for (const w of cfg.warnings) warnings.push(`${file}:${b.firstHexLine}: ${b.name}: ${w}`);
  }
  f.classCode = cfg.classCode;
  f.revision = cfg.revision;
  f.subsystemVendor = cfg.subsystemVendor ?? 0;
  f.subsystemDevice = cfg.subsystemDevice ?? 0;
  applyConfigStructure(f, cfg);
  if (cfg.pcie && !cfg.extendedKnown)
    warnings.push(
      `${file}:${b.line}: ${b.name} is PCIe but the dump stops at 0xff (lspci -xxx, or extended config space unreachable): ACS and SR-IOV are taken as absent`,
    );
  f.driver = b.driver;
  if (b.label !== undefined) f.label = b.label;
  return f;
}

/** PCIe capability Slot Control (PCI_EXP_SLTCTL) and the event enables pciehp sets in it. */
const SLTCTL = {
  offset: 0x18,
  abpe: 0x0001, // PCI_EXP_SLTCTL_ABPE
  pdce: 0x0008, // PCI_EXP_SLTCTL_PDCE
  hpie: 0x0020, // PCI_EXP_SLTCTL_HPIE
  dllsce: 0x1000, // PCI_EXP_SLTCTL_DLLSCE
} as const;
const PCIEHP_ENABLES = SLTCTL.abpe | SLTCTL.pdce | SLTCTL.hpie | SLTCTL.dllsce;

/**
 * Does pciehp drive this port? `pcie_enable_notification` turns on the link-change and presence
 * (or attention-button) events, and the interrupt unless polling; firmware (ACPI) hotplug and an
 * unclaimed port leave them off. Read from the live Slot Control register the dump shows.
 */
function pciehpDrives(bytes: Uint8Array): boolean {
  const exp = findCapability(bytes, CAP_ID.exp);
  if (exp === null || exp + SLTCTL.offset + 2 > bytes.length) return false;
  const sltctl = bytes[exp + SLTCTL.offset]! | (bytes[exp + SLTCTL.offset + 1]! << 8);
  return (sltctl & PCIEHP_ENABLES) !== 0;
}

/**
 * Slots: every port pciehp drives has one at device 0 of its secondary bus, named by its Physical
 * Slot Number (pciehp registers it even when the slot is empty); a `Physical Slot:` line (-v)
 * names the slot at that function's address: pciehp as above, else acpiphp below a Hot-Plug
 * Capable port (firmware hotplug), shpchp below a bridge bound to shpchp (-k), else pci_slot (an
 * ACPI _SUN without hotplug; acpiphp on a conventional bus cannot be told from it).
 */
function readSlots(
  blocks: readonly Block[],
  functions: readonly FunctionDesc[],
  fail: (line: number, col: number, reason: LspciErrorReason, detail: string) => never,
): { slots: SlotDesc[]; slotLine: Map<string, number> } {
  const byAddress = new Map<string, { slot: SlotDesc; line: number; named: boolean }>();
  const key = (domain: number, bus: number, device: number) => `${domain}:${bus}:${device}`;
  const portOf = new Map<string, { f: FunctionDesc; pciehp: boolean }>();
  blocks.forEach((b, i) => {
    const f = functions[i]!;
    if (f.header === 'normal' || !f.bridge) return;
    const pciehp = f.pcie?.slot?.hotplugCapable === true && pciehpDrives(Uint8Array.from(b.bytes));
    portOf.set(`${f.bdf.domain}:${f.bridge.secondary}`, { f, pciehp });
    if (pciehp)
      byAddress.set(key(f.bdf.domain, f.bridge.secondary, 0), {
        slot: {
          domain: f.bdf.domain,
          bus: f.bridge.secondary,
          device: 0,
          name: String(f.pcie!.slot!.physicalNumber),
          driver: 'pciehp',
        },
        line: b.line,
        named: false,
      });
  });
  for (const b of blocks) {
    if (!b.slot) continue;
    const k = key(b.bdf.domain, b.bdf.bus, b.bdf.device);
    const at = byAddress.get(k);
    if (at?.named) {
      if (at.slot.name !== b.slot.name)
        fail(
          b.slot.line,
          1,
          'slot',
          `${b.name} is in slot "${b.slot.name}", but another function of the same device is in slot "${at.slot.name}"`,
        );
      continue;
    }
    const port = portOf.get(`${b.bdf.domain}:${b.bdf.bus}`);
    const driver = port?.pciehp
      ? 'pciehp'
      : port?.f.pcie?.slot?.hotplugCapable
        ? 'acpiphp'
        : port?.f.driver === 'shpchp'
          ? 'shpchp'
          : 'pci_slot';
    byAddress.set(k, {
      slot: { domain: b.bdf.domain, bus: b.bdf.bus, device: b.bdf.device, name: b.slot.name, driver },
      line: b.slot.line,
      named: true,
    });
  }
  // Names from -v are the kernel's; the others follow pci_create_slot, which adds -1, -2 … to a taken name.
  const entries = [...byAddress.values()];
  const taken = new Set(entries.filter((e) => e.named).map((e) => e.slot.name));
  for (const e of entries) {
    if (e.named) continue;
    let name = e.slot.name;
    for (let n = 1; taken.has(name); n++) name = `${e.slot.name}-${n}`;
    e.slot.name = name;
    taken.add(name);
  }
  return {
    slots: entries.map((e) => e.slot),
    slotLine: new Map(entries.map((e) => [e.slot.name, e.line])),
  };
}

/** The line a `TopologyError` issue is about: a function's header, a slot's line, a bus's bridge. */
function whereLine(
  where: string,
  blocks: readonly Block[],
  slotLine: ReadonlyMap<string, number>,
  functions: readonly FunctionDesc[],
): number {
  const fn = blocks.find((b) => b.name === where);
  if (fn) return fn.line;
  const slot = /^slot (.*)$/.exec(where);
  if (slot) return slotLine.get(slot[1]!) ?? 1;
  const bus = /^([0-9a-f]{4}):([0-9a-f]{2})$/.exec(where);
  if (bus) {
    const [domain, number] = [Number.parseInt(bus[1]!, 16), Number.parseInt(bus[2]!, 16)];
    const owner = functions.find((f) => f.bdf.domain === domain && f.bridge?.secondary === number);
    const on = functions.find((f) => f.bdf.domain === domain && f.bdf.bus === number);
    const target = owner ?? on;
    if (target) return blocks.find((b) => b.name === formatBdf(target.bdf))?.line ?? 1;
  }
  return 1;
}

// ---- writing ---------------------------------------------------------------------------------------

export interface LspciFormatOptions {
  /** -nn: `[cccc]` after the class and `[vvvv:dddd]` after the name (default true). */
  numeric?: boolean;
  /** -k: `Subsystem:` and `Kernel driver in use:` lines (default true). */
  kernel?: boolean;
  /** -v: also `Physical Slot:` lines (default false). */
  verbose?: boolean;
  /** -D: always print the domain (default: only when some function is outside domain 0, as lspci does). */
  domains?: boolean;
}

/** pciutils' spelling (pci.ids) of common classes, where it differs from `className`. */
const LSPCI_CLASS_NAMES: Readonly<Record<number, string>> = {
  0: 'Non-VGA unclassified device',
  257: 'IDE interface',
  264: 'Non-Volatile memory controller',
  768: 'VGA compatible controller',
  3072: 'FireWire (IEEE 1394)',
  1920: 'Communication controller',
};

/**
 * A host as `sudo lspci -xxxx` (with -nn -k by default) would print it: functions in address
 * order, config images from `buildConfigSpace`, 4096 bytes for PCIe functions and 256 for
 * conventional ones (what sysfs `config` holds).
 */
export function formatLspciDump(host: HostDesc, opts: LspciFormatOptions = {}): string {
  const numeric = opts.numeric ?? true;
  const kernel = opts.kernel ?? true;
  const verbose = opts.verbose ?? false;
  const domains = opts.domains ?? host.functions.some((f) => f.bdf.domain !== 0);
  const fns = [...host.functions].sort(
    (a, b) =>
      a.bdf.domain - b.bdf.domain ||
      a.bdf.bus - b.bdf.bus ||
      a.bdf.device - b.bdf.device ||
      a.bdf.fn - b.bdf.fn,
  );
  const out: string[] = [];
  for (const f of fns) {
    const addr = `${domains ? `${hex(f.bdf.domain, 4)}:` : ''}${hex(f.bdf.bus, 2)}:${hex(f.bdf.device, 2)}.${f.bdf.fn}`;
    const cls = `${LSPCI_CLASS_NAMES[f.classCode >> 8] ?? className(f.classCode)}${numeric ? ` [${hex(f.classCode >> 8, 4)}]` : ''}`;
    const name = `${f.label ?? `Device ${hex(f.device, 4)}`}${numeric ? ` [${hex(f.vendor, 4)}:${hex(f.device, 4)}]` : ''}`;
    const rev = f.revision !== 0 ? ` (rev ${hex(f.revision, 2)})` : '';
    out.push(`${addr} ${cls}: ${name}${rev}`);
    if ((kernel || verbose) && f.subsystemVendor !== 0 && f.subsystemVendor !== 0xffff)
      out.push(
        `\tSubsystem: Device ${numeric ? `[${hex(f.subsystemVendor, 4)}:${hex(f.subsystemDevice, 4)}]` : hex(f.subsystemDevice, 4)}`,
      );
    if (verbose) {
      const slot = host.slots.find(
        (s) => s.domain === f.bdf.domain && s.bus === f.bdf.bus && s.device === f.bdf.device,
      );
      if (slot) out.push(`\tPhysical Slot: ${slot.name}`);
    }
    if ((kernel || verbose) && f.driver !== null) out.push(`\tKernel driver in use: ${f.driver}`);
    let bytes = buildConfigSpace(f);
    if (!f.pcie) bytes = bytes.slice(0, CONFIG_SIZE.conventional);
    const exp = findCapability(bytes, CAP_ID.exp);
    const below = f.bridge;
    const pciehp =
      below !== undefined &&
      host.slots.some(
        (s) =>
          s.domain === f.bdf.domain && s.bus === below.secondary && s.device === 0 && s.driver === 'pciehp',
      );
    if (exp !== null && f.pcie?.slot?.hotplugCapable && pciehp) {
      // What pciehp's pcie_enable_notification leaves in Slot Control.
      const on = SLTCTL.dllsce | SLTCTL.hpie | (f.pcie.slot.attentionButton ? SLTCTL.abpe : SLTCTL.pdce);
      bytes[exp + SLTCTL.offset] = on & 0xff;
      bytes[exp + SLTCTL.offset + 1] = on >> 8;
    }
    if (f.virtfn) bytes.fill(0xff, 0, 4); // a VF's Vendor/Device ID registers read FFFFh
    for (let at = 0; at < bytes.length; at += 16) {
      const row = [...bytes.subarray(at, at + 16)].map((x) => hex(x, 2)).join(' ');
      out.push(`${hex(at, 2)}: ${row}`);
    }
    out.push('');
  }
  return `${out.join('\n')}\n`;
}
