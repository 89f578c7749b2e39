/**
 * Reads a topology file (YAML 1.2, or JSON, which is YAML) into a `HostDesc`, or throws one
 * `TopologyFileError` that lists every problem as `file:line:col: path.to.field: what is wrong
 * (what to do)`. Three stages can find problems, and each maps back to the text:
 *
 * 1. YAML syntax (the `yaml` package's errors carry offsets);
 * 2. the schema (`schema.ts`; each zod issue path is looked up in the YAML document);
 * 3. the tree (`to-host.ts`) and the kernel's enumeration rules (`Topology.build`), whose issues
 *    name a BDF, a slot or a bus that `HostIndex` maps back to the entry that wrote it.
 *
 * Nothing else escapes: any exception on the way (a pathological input, a bug) is wrapped, so
 * callers and fuzzers see either a `HostDesc` or a `TopologyFileError`.
 * @module
 */

import { readFileSync } from 'node:fs';
import { type Document, isAlias, isMap, isScalar, isSeq, LineCounter, type Node, parseDocument } from 'yaml';
import type { z } from 'zod';
import type { HostDesc } from '../pci/model.ts';
import { Topology, TopologyError } from '../pci/topology.ts';
import { knownFields, type TopologyFile, TopologyFileSchema } from './schema.ts';
import { type FilePath, type HostIndex, toHost } from './to-host.ts';

/** One problem, located. `line`/`col` are 1-based; 0 when the problem has no place (an unreadable file). */
export interface TopologyFileIssue {
  file: string;
  line: number;
  col: number;
  /** Dotted path of the field, e.g. `roots.0.devices.2.link.speed`; '' for the whole document. */
  path: string;
  message: string;
}

/** At most this many issues are spelled out in `message`; `issues` always has them all. */
export const MAX_LISTED_ISSUES = 10;

export class TopologyFileError extends Error {
  readonly code = 'VFIO_RESET_E_TOPOLOGY_FILE';
  readonly file: string;
  readonly issues: TopologyFileIssue[];
  constructor(file: string, issues: TopologyFileIssue[]) {
    const lines = issues.slice(0, MAX_LISTED_ISSUES).map(formatIssue);
    if (issues.length > MAX_LISTED_ISSUES) lines.push(`… and ${issues.length - MAX_LISTED_ISSUES} more`);
    super(lines.join('\n'));
    this.name = 'TopologyFileError';
    this.file = file;
    this.issues = issues;
  }
}

export function formatIssue(i: TopologyFileIssue): string {
  const where = i.line > 0 ? `${i.file}:${i.line}:${i.col}` : i.file;
  return i.path === '' ? `${where}: ${i.message}` : `${where}: ${i.path}: ${i.message}`;
}

/** Reads and parses a topology file; every failure, including an unreadable file, is a `TopologyFileError`. */
export function loadTopologyFile(path: string): HostDesc {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    const code = (e as { code?: unknown }).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : errorText(e);
    throw new TopologyFileError(path, [
      {
        file: path,
        line: 0,
        col: 0,
        path: '',
        message: `cannot read the topology file: ${why} (check the path)`,
      },
    ]);
  }
  return parseTopology(text, path);
}

/** Parses topology text (YAML 1.2 or JSON); `fileName` is only used in messages. */
export function parseTopology(text: string, fileName = '<topology>'): HostDesc {
  return parseTopologyFile(text, fileName).host;
}

/** Like `parseTopology`, also returning the validated file as written (before defaults). */
export function parseTopologyFile(
  text: string,
  fileName = '<topology>',
): { file: TopologyFile; host: HostDesc } {
  try {
    return parseInner(String(text), fileName);
  } catch (e) {
    if (e instanceof TopologyFileError) throw e;
    const message =
      e instanceof RangeError && /call stack/i.test(e.message)
        ? 'is nested too deeply to read (flatten it)'
        : `could not be read: ${errorText(e)} (this is a bug in vfio-reset if the file looks fine; please report it)`;
    throw new TopologyFileError(fileName, [{ file: fileName, line: 1, col: 1, path: '', message }]);
  }
}

function parseInner(text: string, file: string): { file: TopologyFile; host: HostDesc } {
  const fail = (issues: TopologyFileIssue[]): never => {
    issues.sort((a, b) => a.line - b.line || a.col - b.col);
    throw new TopologyFileError(file, issues);
  };
  const deep = tooDeep(text);
  if (deep) fail([{ file, line: deep.line, col: deep.col, path: '', message: deep.message }]);

  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const at = (offset: number) => {
    const p = lineCounter.linePos(Math.max(0, Math.min(offset, text.length)));
    return { line: p.line, col: p.col };
  };

  // 1. YAML.
  if (doc.errors.length > 0) {
    // One error per line: the parser's later errors on a line are mostly echoes of the first.
    const lines = new Set<number>();
    const issues: TopologyFileIssue[] = [];
    for (const e of doc.errors) {
      const pos = at(e.pos[0]);
      if (lines.has(pos.line)) continue;
      lines.add(pos.line);
      issues.push({
        file,
        ...pos,
        path: dotted(pathAt(doc, e.pos[0])),
        message: yamlMessage(e.code, e.message),
      });
    }
    fail(issues);
  }
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: 1000 });
  } catch (e) {
    fail([
      {
        file,
        line: 1,
        col: 1,
        path: '',
        message: `cannot be expanded: ${errorText(e)} (write the values out)`,
      },
    ]);
  }

  // 2. Schema.
  const parsed = TopologyFileSchema.safeParse(data, { reportInput: true });
  if (!parsed.success) {
    const out: TopologyFileIssue[] = [];
    for (const iss of flattenIssues(parsed.error.issues, [])) {
      const { path, onKey } = iss;
      const pos = locate(doc, path, onKey);
      out.push({ file, ...at(pos), path: dotted(path), message: iss.message });
    }
    fail(dedupe(out));
  }
  const value = parsed.data as TopologyFile;

  // 3. Tree and kernel rules.
  const converted = toHost(value);
  const here = (path: FilePath) => ({ file, ...at(locate(doc, path, false)), path: dotted(path) });
  if (!converted.ok) fail(converted.issues.map((i) => ({ ...here(i.path), message: i.message })));
  const host = (converted as { host: HostDesc }).host;
  try {
    Topology.build(host);
  } catch (e) {
    if (!(e instanceof TopologyError)) throw e;
    fail(
      e.issues.map((i) => ({
        ...here(whereToPath(i.where, i.message, converted.index)),
        message: kernelMessage(i),
      })),
    );
  }
  return { file: value, host };
}

// ---- nesting guard -----------------------------------------------------------------------------

/** Deeper than any real topology; well below where the YAML parser would exhaust the stack. */
export const MAX_INDENT = 240;
export const MAX_FLOW_DEPTH = 64;

/**
 * Rejects absurd nesting before the YAML parser sees it. The parser turns a stack overflow into a
 * syntax error, but V8 can be left unable to compile regular expressions afterwards (the next
 * parse in the same process aborts), so such input must never reach it. Over-approximates:
 * brackets inside quoted strings are skipped, those in plain scalars and comments are counted.
 */
function tooDeep(text: string): { line: number; col: number; message: string } | null {
  let line = 1;
  let lineStart = 0;
  let depth = 0;
  let quote: '"' | "'" | null = null;
  let atLineStart = true;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (atLineStart) {
      atLineStart = false;
      // Indentation plus compact indicators ("- - - x") both nest block collections.
      const m = /^(?:[ \t]|[-?:](?=[ \t\r\n]|$))*/.exec(text.slice(i, i + MAX_INDENT + 2));
      if (m && m[0].length > MAX_INDENT)
        return { line, col: 1, message: `is indented more than ${MAX_INDENT} columns (flatten it)` };
    }
    if (c === '\n') {
      line++;
      lineStart = i + 1;
      atLineStart = true;
      continue;
    }
    if (quote) {
      if (c === '\\' && quote === '"') i++;
      else if (c === quote) quote = null;
      continue;
    }
    if (c === '"' || c === "'") quote = c;
    else if (c === '[' || c === '{') {
      if (++depth > MAX_FLOW_DEPTH)
        return {
          line,
          col: i - lineStart + 1,
          message: `nests [ ] and { } more than ${MAX_FLOW_DEPTH} deep (flatten it)`,
        };
    } else if ((c === ']' || c === '}') && depth > 0) depth--;
  }
  return null;
}

// ---- zod issues -------------------------------------------------------------------------------

interface FlatIssue {
  path: FilePath;
  /** Point at the key itself (an unknown field), not at its value. */
  onKey: boolean;
  message: string;
}

type ZodIssue = z.core.$ZodIssue;

function flattenIssues(issues: readonly ZodIssue[], base: FilePath): FlatIssue[] {
  const out: FlatIssue[] = [];
  for (const iss of issues) {
    const path = [...base, ...iss.path.map(seg)];
    switch (iss.code) {
      case 'unrecognized_keys': {
        const known = knownFields(path);
        for (const key of iss.keys) {
          const near = known ? closest(key, known) : null;
          const hint = near
            ? ` (did you mean ${near}?)`
            : known
              ? ` (known fields: ${known.filter((k) => k !== '$schema').join(', ')})`
              : '';
          out.push({ path: [...path, key], onKey: true, message: `unknown field "${key}"${hint}` });
        }
        break;
      }
      case 'invalid_union': {
        // The branch that got past the type check at the union's own level says what is really wrong.
        const deeper = iss.errors.filter(
          (branch) => !branch.some((b) => b.path.length === 0 && b.code === 'invalid_type'),
        );
        if (deeper.length === 1) out.push(...flattenIssues(deeper[0]!, path));
        else out.push({ path, onKey: false, message: unionMessage(iss, path) });
        break;
      }
      case 'invalid_type':
        out.push({ path, onKey: false, message: typeMessage(iss.expected, iss.input, path) });
        break;
      case 'invalid_value':
        out.push({ path, onKey: false, message: valueMessage(iss.values, iss.input, path) });
        break;
      case 'too_small':
        out.push({
          path,
          onKey: false,
          message:
            iss.origin === 'array'
              ? `needs at least ${iss.minimum} ${Number(iss.minimum) === 1 ? 'entry' : 'entries'}`
              : iss.origin === 'string'
                ? 'must not be empty'
                : `must be at least ${iss.minimum}, got ${show(iss.input)}`,
        });
        break;
      case 'too_big':
        out.push({
          path,
          onKey: false,
          message:
            iss.origin === 'array'
              ? `has more than ${iss.maximum} entries`
              : `must be at most ${iss.maximum}, got ${show(iss.input)}`,
        });
        break;
      default:
        out.push({ path, onKey: false, message: iss.message });
    }
  }
  return out;
}

const EXAMPLES: Record<string, string> = {
  bdf: '"0000:01:00.0"',
  id: '"8086:10d3"',
  subsystem: '"8086:0000"',
  class: '"0x020000"',
  revision: '"0x01"',
  vf_device: '"10ca"',
  speed: '"16"',
};

function typeMessage(expected: string, input: unknown, path: FilePath): string {
  const field = String(path[path.length - 1] ?? '');
  if (path.length === 0 && (input === null || input === undefined))
    return 'the file is empty (it needs at least name: and roots:)';
  if (input === undefined)
    return `is required${expected === 'string' && EXAMPLES[field] ? `, e.g. ${field}: ${EXAMPLES[field]}` : ''}`;
  const want = EXPECTED_NAMES[expected] ?? expected;
  let hint = '';
  if (expected === 'string' && typeof input === 'number')
    hint = EXAMPLES[field]
      ? ` (quote it: ${field}: ${EXAMPLES[field]}; unquoted, YAML reads it as a number)`
      : ' (quote it)';
  else if (expected === 'object' && input === null)
    hint = ' (the value is empty; indent its fields below it)';
  return `expected ${want}, got ${show(input)}${hint}`;
}

const EXPECTED_NAMES: Record<string, string> = {
  object: 'a mapping (key: value lines)',
  array: 'a list (- items)',
  string: 'a string',
  boolean: 'true or false',
  number: 'a number',
  int: 'an integer',
};

function valueMessage(values: readonly unknown[], input: unknown, path: FilePath): string {
  const list = values.map((v) => String(v)).join(', ');
  if (input === undefined) return `is required; one of: ${list}`;
  const near = typeof input === 'string' ? closest(input, values.map(String)) : null;
  return `${show(input)} is not one of: ${list}${near ? ` (did you mean ${near}?)` : ''}${pathHint(path)}`;
}

function pathHint(path: FilePath): string {
  return path[path.length - 1] === 'speed' ? '; speeds are in GT/s' : '';
}

function unionMessage(iss: z.core.$ZodIssueInvalidUnion, path: FilePath): string {
  const field = path[path.length - 1];
  const input = (iss as { input?: unknown }).input;
  const what: Record<string, string> = {
    pm: 'true, false or {no_soft_reset: true|false}',
    af_flr: 'true, false or {tp: true|false, flr: true|false}',
    acs: 'none, full or {cap: [sv, rr, cr, uf, ...], ctrl: [...]}',
    speed: '2.5, 5, 8, 16, 32, 64 or unknown (GT/s)',
    bus: 'a bus number: an integer (0x1a) or a hex string ("1a")',
    domain: 'a domain number: an integer or a hex string ("0001")',
    device: 'a device number 0-1f: an integer or a hex string ("1f")',
  };
  const want = (typeof field === 'string' && what[field]) || 'a different value';
  return input === undefined ? `is required: ${want}` : `expected ${want}, got ${show(input)}`;
}

function dedupe(issues: TopologyFileIssue[]): TopologyFileIssue[] {
  const seen = new Set<string>();
  return issues.filter((i) => {
    const k = `${i.path}\0${i.message}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

// ---- TopologyError issues -----------------------------------------------------------------------

function whereToPath(where: string, message: string, index: HostIndex): FilePath {
  const fn = index.functions.get(where);
  if (fn && fn.length > 0) {
    // A duplicate is reported once; point at the entry that repeats the address.
    const p = /appears twice/.test(message) && fn.length > 1 ? fn[1]! : fn[0]!;
    return /appears twice/.test(message) ? [...p, 'bdf'] : p;
  }
  const slot = /^slot (.*)$/.exec(where);
  if (slot) {
    const paths = index.slots.get(slot[1]!) ?? [];
    const p = /used twice/.test(message) && paths.length > 1 ? paths[1] : paths[0];
    if (p) return p;
  }
  return index.buses.get(where) ?? [];
}

function kernelMessage(i: { where: string; message: string }): string {
  return `${i.where} ${i.message}`;
}

// ---- positions ---------------------------------------------------------------------------------

function seg(p: PropertyKey): string | number {
  return typeof p === 'number' ? p : String(p);
}

/** Offset of the node at `path`, or of the deepest existing node on the way. */
function locate(doc: Document, path: FilePath, onKey: boolean): number {
  let node: unknown = doc.contents;
  let pos = rangeStart(node) ?? 0;
  for (let i = 0; i < path.length; i++) {
    const s = path[i]!;
    const last = i === path.length - 1;
    if (isMap(node)) {
      const pair = node.items.find(
        (p) => (isScalar(p.key) ? String(p.key.value) : String(p.key)) === String(s),
      );
      if (!pair) break;
      const keyPos = rangeStart(pair.key);
      if (last && onKey && keyPos !== null) return keyPos;
      node = pair.value;
      pos = rangeStart(node) ?? keyPos ?? pos;
    } else if (isSeq(node) && typeof s === 'number') {
      const item = node.items[s];
      if (item === undefined) break;
      node = item;
      pos = rangeStart(node) ?? pos;
    } else break;
    if (isAlias(node)) break;
  }
  return pos;
}

function rangeStart(node: unknown): number | null {
  const r = (node as Node | null | undefined)?.range;
  return Array.isArray(r) && typeof r[0] === 'number' ? r[0] : null;
}

/** The path of the deepest node whose text contains `offset` (to name where a syntax error is). */
function pathAt(doc: Document, offset: number): FilePath {
  const path: FilePath = [];
  let node: unknown = doc.contents;
  const within = (n: unknown) => {
    const r = (n as Node | null | undefined)?.range;
    return Array.isArray(r) && r[0] <= offset && offset < r[2];
  };
  for (let guard = 0; guard < 256; guard++) {
    if (isMap(node)) {
      const pair = node.items.find(
        (p) => within(p.value) || (within(p.key) && !isMap(p.value) && !isSeq(p.value)),
      );
      if (!pair || !isScalar(pair.key)) break;
      path.push(String(pair.key.value));
      node = pair.value;
    } else if (isSeq(node)) {
      const i = node.items.findIndex(within);
      if (i < 0) break;
      path.push(i);
      node = node.items[i];
    } else break;
  }
  return path;
}

function dotted(path: FilePath): string {
  return path
    .map((s, i) =>
      typeof s === 'number' || /^[A-Za-z_$][\w$-]*$/.test(s)
        ? `${i > 0 ? '.' : ''}${s}`
        : `[${JSON.stringify(s)}]`,
    )
    .join('');
}

// ---- text helpers -------------------------------------------------------------------------------

const YAML_HINTS: Record<string, string> = {
  DUPLICATE_KEY: 'each field may appear once in a mapping',
  TAB_AS_INDENT: 'indent with spaces, not tabs',
  BAD_INDENT: 'check the indentation of this line against the lines above',
  MULTIPLE_DOCS: 'a topology file holds one document; remove the --- separator',
  BLOCK_AS_IMPLICIT_KEY: 'a key is missing its colon, or a line is indented too far',
  MULTILINE_IMPLICIT_KEY: 'a key is missing its colon, or a line is indented too far',
  UNEXPECTED_TOKEN: 'check for a stray character',
};

function yamlMessage(code: string, message: string): string {
  const first = message
    .split('\n')[0]!
    .replace(/ at line \d+, column \d+:?$/, '')
    .trim();
  let hint = YAML_HINTS[code];
  if (code === 'MISSING_CHAR')
    hint = /indicator/.test(first)
      ? 'start each list item with "- " and indent its fields to one column'
      : /quote/.test(first)
        ? 'a closing quote is missing'
        : 'a closing bracket or brace is missing';
  if (/end with a [\]}]/.test(first))
    hint = 'a closing bracket or brace is missing, or a line is not indented enough';
  return `YAML: ${first || code}${hint ? ` (${hint})` : ''}`;
}

function show(v: unknown): string {
  try {
    if (v === null) return 'nothing (null)';
    if (v === undefined) return 'nothing';
    if (typeof v === 'string')
      return `the string ${JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v)}`;
    if (typeof v === 'number' || typeof v === 'bigint') return `the number ${String(v)}`;
    if (typeof v === 'boolean') return String(v);
    if (Array.isArray(v)) return 'a list';
    if (v instanceof Map || v instanceof Set) return 'a set or map';
    if (v instanceof Uint8Array) return 'binary data';
    if (typeof v === 'object') return 'a mapping';
    return typeof v;
  } catch {
    return 'an unreadable value';
  }
}

function errorText(e: unknown): string {
  try {
    return e instanceof Error ? e.message : String(e);
  } catch {
    return 'unknown error';
  }
}

/** The nearest candidate within edit distance 2 (case and -/_ ignored), or null. */
function closest(word: string, candidates: readonly string[]): string | null {
  const w = word.toLowerCase().replace(/-/g, '_');
  let best: string | null = null;
  let bestD = Math.min(2, Math.floor(w.length / 3)) + 1;
  for (const c of candidates) {
    const d = distance(w, c.toLowerCase().replace(/-/g, '_'));
    if (d < bestD) {
      bestD = d;
      best = c;
    }
  }
  return best;
}

function distance(a: string, b: string): number {
  if (Math.abs(a.length - b.length) > 2) return 3;
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return row[b.length]!;
}
