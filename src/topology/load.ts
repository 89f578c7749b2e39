/**
 * Reads a topology file (YAML 1.2, or JSON, which is YAML) into a `HostDesc`, or throws one
 * `TopologyFileError` that lists every problem as `file:line:col: path.to.field: what is wrong
 * (what to do)`. Three stages can find problems, and each maps back to the text:
 *
 * 1. YAML syntax and 2. the schema (`schema.ts`), both in the generic `yaml-file.ts`;
 * 3. the tree (`to-host.ts`) and the kernel's enumeration rules (`Topology.build`), whose issues
 *    name a BDF, a slot or a bus that `HostIndex` maps back to the entry that wrote it.
 *
 * Nothing else escapes: any exception on the way (a pathological input, a bug) is wrapped, so
 * callers and fuzzers see either a `HostDesc` or a `TopologyFileError`.
 * @module
 */

import type { HostDesc } from '../pci/model.ts';
import { Topology, TopologyError } from '../pci/topology.ts';
import { knownFields, type TopologyFile, TopologyFileSchema } from './schema.ts';
import { type FilePath, type HostIndex, toHost } from './to-host.ts';
import {
  FileError,
  type FileIssue,
  type LocatedDocument,
  parseYamlFile,
  readTextFile,
  type YamlFileFormat,
} from './yaml-file.ts';

// Kept here so existing imports from this module keep working.
export { formatIssue, MAX_FLOW_DEPTH, MAX_INDENT, MAX_LISTED_ISSUES } from './yaml-file.ts';

/** One problem, located. `line`/`col` are 1-based; 0 when the problem has no place (an unreadable file). */
export type TopologyFileIssue = FileIssue;

export class TopologyFileError extends FileError {
  override readonly code = 'VFIO_RESET_E_TOPOLOGY_FILE';
  constructor(file: string, issues: TopologyFileIssue[]) {
    super(file, issues);
    this.name = 'TopologyFileError';
  }
}

/** How the topology format words its hints (see `YamlFileFormat`). */
export const TOPOLOGY_FORMAT: YamlFileFormat = {
  what: 'topology',
  errorClass: TopologyFileError,
  emptyMessage: 'the file is empty (it needs at least name: and roots:)',
  knownFields,
  examples: {
    bdf: '"0000:01:00.0"',
    id: '"8086:10d3"',
    subsystem: '"8086:0000"',
    class: '"0x020000"',
    revision: '"0x01"',
    vf_device: '"10ca"',
    speed: '"16"',
  },
  unionHints: {
    pm: 'true, false or {no_soft_reset: true|false}',
    af_flr: 'true, false or {tp: true|false, flr: true|false}',
    acs: 'none, full or {cap: [sv, rr, cr, uf, ...], ctrl: [...]}',
    speed: '2.5, 5, 8, 16, 32, 64 or unknown (GT/s)',
    bus: 'a bus number: an integer (0x1a) or a hex string ("1a")',
    domain: 'a domain number: an integer or a hex string ("0001")',
    device: 'a device number 0-1f: an integer or a hex string ("1f")',
  },
  valueHints: { speed: '; speeds are in GT/s' },
};

/** Reads and parses a topology file; every failure, including an unreadable file, is a `TopologyFileError`. */
export function loadTopologyFile(path: string): HostDesc {
  return parseTopology(readTextFile(path, TOPOLOGY_FORMAT), path);
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
  return parseYamlFile(text, fileName, TopologyFileSchema, TOPOLOGY_FORMAT, buildHost);
}

/** Stage 3: the tree and the kernel's rules, pointing back at the entries they concern. */
function buildHost(value: TopologyFile, located: LocatedDocument): { file: TopologyFile; host: HostDesc } {
  const converted = toHost(value);
  if (!converted.ok) located.fail(converted.issues.map((i) => located.issue(i.path, i.message)));
  const host = (converted as { host: HostDesc }).host;
  try {
    Topology.build(host);
  } catch (e) {
    if (!(e instanceof TopologyError)) throw e;
    located.fail(
      e.issues.map((i) => located.issue(whereToPath(i.where, i.message, converted.index), kernelMessage(i))),
    );
  }
  return { file: value, host };
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
