/**
 * The generic half of reading a human-written YAML 1.2 (or JSON) file against a zod schema:
 * every problem becomes one `FileError` whose issues say `file:line:col: path.to.field: what is
 * wrong (what to do)`. Used by topology files (`load.ts`) and scenario files
 * (`../scenario/load.ts`); each passes a `YamlFileFormat` with its error class and hint tables.
 *
 * Stages, each mapped back to the text:
 *
 * 1. a nesting guard (before the YAML parser, which can crash the process on absurd nesting);
 * 2. YAML syntax (the `yaml` package's errors carry offsets);
 * 3. the schema (each zod issue path is looked up in the YAML document);
 * 4. the caller's own checks (`after`), which get the `LocatedDocument` to point at nodes.
 *
 * Nothing else escapes: any exception on the way (a pathological input, a bug) is wrapped, so
 * callers and fuzzers see either a value or the format's `FileError`.
 * @module
 */

import { readFileSync } from 'node:fs';
import { type Document, isAlias, isMap, isScalar, isSeq, LineCounter, type Node, parseDocument } from 'yaml';
import type { z } from 'zod';
import { parsePlainJson } from './json-fast.ts';

/** A path into the file's data: mapping keys and list indexes. */
export type FilePath = (string | number)[];

/** One problem, located. `line`/`col` are 1-based; 0 when the problem has no place (an unreadable file). */
export interface FileIssue {
  file: string;
  line: number;
  col: number;
  /** Dotted path of the field, e.g. `roots.0.devices.2.link.speed`; '' for the whole document. */
  path: string;
  message: string;
}

/** At most this many issues are spelled out in `message`; `issues` always has them all. */
export const MAX_LISTED_ISSUES = 10;

/** Everything wrong with one file. Each format subclasses it with its own `code` and name. */
export class FileError extends Error {
  readonly code: string = 'VFIO_RESET_E_FILE';
  readonly file: string;
  readonly issues: FileIssue[];
  constructor(file: string, issues: FileIssue[]) {
    const lines = issues.slice(0, MAX_LISTED_ISSUES).map(formatIssue);
    if (issues.length > MAX_LISTED_ISSUES) lines.push(`… and ${issues.length - MAX_LISTED_ISSUES} more`);
    super(lines.join('\n'));
    this.name = 'FileError';
    this.file = file;
    this.issues = issues;
  }
}

export type FileErrorClass = new (file: string, issues: FileIssue[]) => FileError;

export function formatIssue(i: FileIssue): string {
  const where = i.line > 0 ? `${i.file}:${i.line}:${i.col}` : i.file;
  return i.path === '' ? `${where}: ${i.message}` : `${where}: ${i.path}: ${i.message}`;
}

/** A zod issue reduced to where it points and what it says. */
export interface FlatIssue {
  path: FilePath;
  /** Point at the key itself (an unknown field), not at its value. */
  onKey: boolean;
  message: string;
}

export type ZodIssue = z.core.$ZodIssue;

/** What a union the schema could not match looked like, for `YamlFileFormat.union`. */
export interface UnionContext {
  path: FilePath;
  input: unknown;
  /** The issues of each union member, in schema order, with paths relative to `path`. */
  branches: readonly (readonly ZodIssue[])[];
  /** Turns some of those issues into located messages, with the format's hints. */
  flatten(issues: readonly ZodIssue[], base: FilePath): FlatIssue[];
}

/** What differs between file formats: the error class, the words in messages, the hint tables. */
export interface YamlFileFormat {
  /** The kind of file in messages: "cannot read the topology file", "a topology file holds one document". */
  readonly what: string;
  readonly errorClass: FileErrorClass;
  /** Message for an empty document, e.g. 'the file is empty (it needs at least name: and roots:)'. */
  readonly emptyMessage?: string;
  /** The fields a mapping at `path` may have (for "did you mean" on unknown fields); null when unknown. */
  readonly knownFields?: (path: FilePath, input: unknown) => readonly string[] | null;
  /** Field name → an example value, shown when the field is missing or needs quoting. */
  readonly examples?: Readonly<Record<string, string>>;
  /** Field name → what a union-typed field accepts ("true, false or {...}"). */
  readonly unionHints?: Readonly<Record<string, string>>;
  /** Field name → text appended to "is not one of: …" (e.g. '; speeds are in GT/s'). */
  readonly valueHints?: Readonly<Record<string, string>>;
  /** Explains a failed union itself; null falls back to the generic handling. */
  readonly union?: (u: UnionContext) => FlatIssue[] | null;
  /** Words one issue (other than unknown fields and unions) itself; null falls back to the generic text. */
  readonly message?: (issue: ZodIssue, path: FilePath) => string | null;
}

/** The parsed document with its positions, for checks after the schema that still point at nodes. */
export interface LocatedDocument {
  readonly file: string;
  readonly text: string;
  readonly doc: Document;
  /** Line and column of the node at `path`, or of the deepest node on the way that exists. */
  position(path: FilePath, onKey?: boolean): { line: number; col: number };
  /** An issue located at `path`. */
  issue(path: FilePath, message: string, onKey?: boolean): FileIssue;
  /** Throws the format's error with these issues, sorted by position. */
  fail(issues: FileIssue[]): never;
}

/** Reads a text file; an unreadable one is the format's error with one unlocated issue. */
export function readTextFile(path: string, format: Pick<YamlFileFormat, 'what' | 'errorClass'>): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    const code = (e as { code?: unknown }).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : errorText(e);
    throw new format.errorClass(path, [
      {
        file: path,
        line: 0,
        col: 0,
        path: '',
        message: `cannot read the ${format.what} file: ${why} (check the path)`,
      },
    ]);
  }
}

/**
 * Parses `text` (YAML 1.2 or JSON) and validates it with `schema`; `fileName` is only used in
 * messages. `after` runs on the valid value and may call `located.fail` to report more issues;
 * what it returns is the result. Every failure is a `format.errorClass`.
 */
export function parseYamlFile<T>(
  text: string,
  fileName: string,
  schema: z.ZodType<T>,
  format: YamlFileFormat,
): T;
export function parseYamlFile<T, R>(
  text: string,
  fileName: string,
  schema: z.ZodType<T>,
  format: YamlFileFormat,
  after: (value: T, located: LocatedDocument) => R,
): R;
export function parseYamlFile<T, R>(
  text: string,
  fileName: string,
  schema: z.ZodType<T>,
  format: YamlFileFormat,
  after?: (value: T, located: LocatedDocument) => R,
): T | R {
  try {
    const { value, located } = parseInner(String(text), fileName, schema, format);
    return after ? after(value, located) : value;
  } catch (e) {
    if (e instanceof format.errorClass) throw e;
    // Another format's error (a nested file): same issues, this format's class.
    if (e instanceof FileError) throw new format.errorClass(e.file, e.issues);
    const message =
      e instanceof RangeError && /call stack/i.test(e.message)
        ? 'is nested too deeply to read (flatten it)'
        : `could not be read: ${errorText(e)} (this is a bug in vfio-reset if the file looks fine; please report it)`;
    throw new format.errorClass(fileName, [{ file: fileName, line: 1, col: 1, path: '', message }]);
  }
}

function parseInner<T>(
  text: string,
  file: string,
  schema: z.ZodType<T>,
  format: YamlFileFormat,
): { value: T; located: LocatedDocument } {
  const fail = (issues: FileIssue[]): never => {
    issues.sort((a, b) => a.line - b.line || a.col - b.col);
    throw new format.errorClass(file, issues);
  };
  const deep = tooDeep(text);
  if (deep) fail([{ file, line: deep.line, col: deep.col, path: '', message: deep.message }]);

  // Plain JSON the schema accepts needs the (slow) YAML document only if a later check reports
  // something: it is built then, for positions. Anything else is read the YAML way below.
  const plain = parsePlainJson(text);
  if (plain !== undefined) {
    const parsed = schema.safeParse(plain, { reportInput: true });
    if (parsed.success) {
      let real: LocatedDocument | undefined;
      const get = () => {
        real ??= locatedDocument(file, text, ...yamlDocument(text), fail);
        return real;
      };
      const located: LocatedDocument = {
        file,
        text,
        get doc() {
          return get().doc;
        },
        position: (path, onKey) => get().position(path, onKey),
        issue: (path, message, onKey) => get().issue(path, message, onKey),
        fail,
      };
      return { value: parsed.data as T, located };
    }
  }

  const [doc, lineCounter] = yamlDocument(text);
  const at = atOffset(text, lineCounter);

  // YAML.
  if (doc.errors.length > 0) {
    // One error per line: the parser's later errors on a line are mostly echoes of the first.
    const lines = new Set<number>();
    const issues: FileIssue[] = [];
    for (const e of doc.errors) {
      const pos = at(e.pos[0]);
      if (lines.has(pos.line)) continue;
      lines.add(pos.line);
      issues.push({
        file,
        ...pos,
        path: dotted(pathAt(doc, e.pos[0])),
        message: yamlMessage(e.code, e.message, format.what),
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

  // Schema.
  const parsed = schema.safeParse(data, { reportInput: true });
  if (!parsed.success) {
    const out: FileIssue[] = [];
    for (const iss of flattenIssues(parsed.error.issues, [], format)) {
      const { path, onKey } = iss;
      const pos = locate(doc, path, onKey);
      out.push({ file, ...at(pos), path: dotted(path), message: iss.message });
    }
    fail(dedupe(out));
  }

  return { value: parsed.data as T, located: locatedDocument(file, text, doc, lineCounter, fail) };
}

function yamlDocument(text: string): [Document, LineCounter] {
  const lineCounter = new LineCounter();
  return [parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true }), lineCounter];
}

function atOffset(text: string, lineCounter: LineCounter) {
  return (offset: number) => {
    const p = lineCounter.linePos(Math.max(0, Math.min(offset, text.length)));
    return { line: p.line, col: p.col };
  };
}

function locatedDocument(
  file: string,
  text: string,
  doc: Document,
  lineCounter: LineCounter,
  fail: (issues: FileIssue[]) => never,
): LocatedDocument {
  const at = atOffset(text, lineCounter);
  return {
    file,
    text,
    doc,
    position: (path, onKey = false) => at(locate(doc, path, onKey)),
    issue: (path, message, onKey = false) => ({
      file,
      ...at(locate(doc, path, onKey)),
      path: dotted(path),
      message,
    }),
    fail,
  };
}

// ---- nesting guard -----------------------------------------------------------------------------

/** Deeper than any real file; well below where the YAML parser would exhaust the stack. */
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

function flattenIssues(issues: readonly ZodIssue[], base: FilePath, format: YamlFileFormat): FlatIssue[] {
  const out: FlatIssue[] = [];
  for (const iss of issues) {
    const path = [...base, ...iss.path.map(seg)];
    const own =
      iss.code === 'unrecognized_keys' || iss.code === 'invalid_union' ? null : format.message?.(iss, path);
    if (own) {
      out.push({ path, onKey: false, message: own });
      continue;
    }
    switch (iss.code) {
      case 'unrecognized_keys': {
        const known = format.knownFields?.(path, (iss as { input?: unknown }).input) ?? null;
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
        const custom = format.union?.({
          path,
          input: (iss as { input?: unknown }).input,
          branches: iss.errors,
          flatten: (sub, at) => flattenIssues(sub, at, format),
        });
        if (custom) {
          out.push(...custom);
          break;
        }
        // The branch that got past the type check at the union's own level says what is really wrong.
        const deeper = iss.errors.filter(
          (branch) => !branch.some((b) => b.path.length === 0 && b.code === 'invalid_type'),
        );
        if (deeper.length === 1) out.push(...flattenIssues(deeper[0]!, path, format));
        else out.push({ path, onKey: false, message: unionMessage(iss, path, format) });
        break;
      }
      case 'invalid_type':
        out.push({ path, onKey: false, message: typeMessage(iss.expected, iss.input, path, format) });
        break;
      case 'invalid_value':
        out.push({ path, onKey: false, message: valueMessage(iss.values, iss.input, path, format) });
        break;
      case 'invalid_format':
        out.push({ path, onKey: false, message: formatMessage(iss) });
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

/** The last named field on the path (`fds` for `hot-reset.fds.1`). */
function fieldOf(path: FilePath): string {
  for (let i = path.length - 1; i >= 0; i--) if (typeof path[i] === 'string') return path[i] as string;
  return '';
}

function typeMessage(expected: string, input: unknown, path: FilePath, format: YamlFileFormat): string {
  const field = String(path[path.length - 1] ?? '');
  const example = format.examples?.[field];
  if (path.length === 0 && (input === null || input === undefined))
    return format.emptyMessage ?? 'the file is empty';
  if (input === undefined)
    return expected === 'string' && example
      ? `is required, e.g. ${field}: ${example}`
      : `is required${REQUIRED_NAMES[expected] ? ` (${REQUIRED_NAMES[expected]})` : ''}`;
  const want = EXPECTED_NAMES[expected] ?? expected;
  let hint = '';
  if (expected === 'string' && typeof input === 'number')
    hint = example ? ` (quote it: ${field}: ${example}; unquoted, YAML reads it as a number)` : ' (quote it)';
  else if (expected === 'object' && input === null)
    hint = ' (the value is empty; indent its fields below it)';
  return `expected ${want}, got ${show(input)}${hint}`;
}

/** Shorter names for "is required (…)". */
const REQUIRED_NAMES: Record<string, string> = {
  object: 'a mapping',
  array: 'a list',
  string: 'a string',
  boolean: 'true or false',
  number: 'a number',
  int: 'an integer',
};

const EXPECTED_NAMES: Record<string, string> = {
  object: 'a mapping (key: value lines)',
  array: 'a list (- items)',
  string: 'a string',
  boolean: 'true or false',
  number: 'a number',
  int: 'an integer',
};

function valueMessage(
  values: readonly unknown[],
  input: unknown,
  path: FilePath,
  format: YamlFileFormat,
): string {
  const list = values.map((v) => String(v)).join(', ');
  if (input === undefined) return `is required; one of: ${list}`;
  const field = String(path[path.length - 1] ?? '');
  const near = typeof input === 'string' ? closest(input, values.map(String)) : null;
  // `era: 6.1` is the number 6.1 in YAML; the schema wants the string.
  const quote =
    typeof input === 'number' && values.includes(String(input))
      ? ` (quote it: ${field}: "${String(input)}"; unquoted, YAML reads it as a number)`
      : '';
  return `${show(input)} is not one of: ${list}${near ? ` (did you mean ${near}?)` : ''}${quote}${format.valueHints?.[field] ?? ''}`;
}

/** A regex check: the schema's own message when it wrote one, else a plain one. */
function formatMessage(iss: z.core.$ZodIssueInvalidStringFormat): string {
  const input = (iss as { input?: unknown }).input;
  // zod's default ("Invalid string: must match pattern …") is not for people.
  if (/^Invalid\b/.test(iss.message)) return `has the wrong form, got ${show(input)}`;
  // A noun phrase ("a handle name such as c") reads as what was expected.
  if (/^an? /.test(iss.message)) return `expected ${iss.message}, got ${show(input)}`;
  return iss.message;
}

function unionMessage(iss: z.core.$ZodIssueInvalidUnion, path: FilePath, format: YamlFileFormat): string {
  const input = (iss as { input?: unknown }).input;
  const want = format.unionHints?.[fieldOf(path)] || 'a different value';
  return input === undefined ? `is required: ${want}` : `expected ${want}, got ${show(input)}`;
}

function dedupe(issues: FileIssue[]): FileIssue[] {
  const seen = new Set<string>();
  return issues.filter((i) => {
    const k = `${i.path}\0${i.message}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
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

/** `roots.0.devices.2.link.speed`; keys that are not identifiers are bracketed. */
export function dotted(path: FilePath): string {
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
  BLOCK_AS_IMPLICIT_KEY: 'a key is missing its colon, or a line is indented too far',
  MULTILINE_IMPLICIT_KEY: 'a key is missing its colon, or a line is indented too far',
  UNEXPECTED_TOKEN: 'check for a stray character',
};

function yamlMessage(code: string, message: string, what: string): string {
  const first = message
    .split('\n')[0]!
    .replace(/ at line \d+, column \d+:?$/, '')
    .trim();
  let hint =
    code === 'MULTIPLE_DOCS'
      ? `a ${what} file holds one document; remove the --- separator`
      : YAML_HINTS[code];
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

/** A value as a message names it: `the string "x"`, `the number 1`, `a mapping`. */
export function show(v: unknown): string {
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

export function errorText(e: unknown): string {
  try {
    return e instanceof Error ? e.message : String(e);
  } catch {
    return 'unknown error';
  }
}

/** The nearest candidate within edit distance 2 (case and -/_ ignored), or null. */
export function closest(word: string, candidates: readonly string[]): string | null {
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
