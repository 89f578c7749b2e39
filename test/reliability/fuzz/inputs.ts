/**
 * Fuzz inputs for the four file formats the CLI reads — topology files, scenario files, `lspci
 * -xxxx` dumps and sysfs dumps — as seeded, reproducible cases: random text, and mutations of
 * valid files (the text-mutation fuzzer and YAML-noise arbitrary of test/helpers), or for sysfs
 * dumps, mutations of a dump directory (files cut, emptied, garbled, replaced by directories or
 * links, links pointed nowhere or in a loop).
 */
import {
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  symlinkSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import { join, resolve } from 'node:path';
import fc from 'fast-check';
import { writeSysfsDump } from '../../../src/host/dump.ts';
import { SimKernel } from '../../../src/sim/kernel.ts';
import { generateHost, prng } from '../../../src/topology/generate.ts';
import { loadTopologyFile } from '../../../src/topology/load.ts';
import { formatLspciDump } from '../../../src/topology/lspci.ts';
import {
  applyMutation,
  lspciishText,
  type TextMutation,
  TOPOLOGY_TRICKY_VALUES,
  textMutation,
  yamlishText,
} from '../../helpers/text-mutation.ts';

export type Format = 'topology' | 'scenario' | 'lspci' | 'sysfs';

const EXAMPLES = 'examples';
const SCENARIO_VALUES = [
  '',
  'null',
  '-1',
  '987',
  '4294967296',
  'EINVAL',
  'ok',
  '{}',
  '[]',
  '"0000:ff:1f.7"',
  'c',
  'g',
  '*a',
  '0x3b63',
];
const LSPCI_VALUES = ['00', 'ff', 'zz', '', '00 00', 'f', ' 10', '7f', '01'];

function sources(dir: string, pick: (name: string) => boolean): string[] {
  return readdirSync(dir)
    .filter(pick)
    .sort()
    .map((n) => join(dir, n));
}

/** One fuzz case: the text to write (file formats) or the mutations to apply (sysfs dumps). */
export interface FileCase {
  /** Text of the file; for sysfs, a description of the mutations. */
  text: string;
  /** sysfs only: how to turn a pristine dump into this case. */
  mutate?: (dir: string) => void;
  /** sysfs only: seed of the generated host the dump comes from. */
  hostSeed?: number;
}

/** `count` reproducible cases of `format` from `seed`: half random text, half mutated valid files. */
export function fileCases(format: Format, seed: number, count: number): FileCase[] {
  if (format === 'sysfs') return sysfsCases(seed, count);
  const { valid, noise, values } = textSources(format);
  const mutation = textMutation(noise, values);
  const randomText = fc.oneof(fc.string({ unit: 'binary', maxLength: 200 }), noise);
  const mutated = fc
    .tuple(fc.nat(valid.length - 1), fc.array(mutation, { minLength: 1, maxLength: 4 }))
    .map(([i, ms]) => ms.reduce((t: string, m: TextMutation) => applyMutation(t, m), valid[i]!));
  return fc
    .sample(fc.oneof(randomText, mutated, mutated), { seed, numRuns: count })
    .map((text) => ({ text }));
}

function textSources(format: Exclude<Format, 'sysfs'>) {
  if (format === 'topology') {
    const valid = sources(EXAMPLES, (n) => n.endsWith('.yaml')).map((p) => readFileSync(p, 'utf8'));
    return {
      valid,
      noise: yamlishText(['bdf', 'kind', 'roots', 'devices', 'below']),
      values: TOPOLOGY_TRICKY_VALUES,
    };
  }
  if (format === 'scenario') {
    // Topology paths made absolute, so a mutated file still finds its host from a temp directory.
    const valid = sources('scenarios/conformance', (n) => n.endsWith('.yaml')).map((p) =>
      readFileSync(p, 'utf8').replace(
        /^topology: (.*)$/m,
        (_, t: string) => `topology: ${resolve('scenarios/conformance', t)}`,
      ),
    );
    return {
      valid,
      noise: yamlishText(['steps', 'open', 'as', 'expect', 'hot-reset', 'fds']),
      values: SCENARIO_VALUES,
    };
  }
  const valid = [
    ...['qemu-ppb', 'workstation', 'qemu-sw'].map((e) =>
      formatLspciDump(loadTopologyFile(join(EXAMPLES, `${e}.yaml`)), { verbose: true }),
    ),
    ...sources('test/fixtures/lspci', (n) => n.endsWith('.txt')).map((p) => readFileSync(p, 'utf8')),
  ];
  const noise = lspciishText();

  return { valid, noise, values: LSPCI_VALUES };
}

// ---- sysfs dumps ---------------------------------------------------------------------------------

/** Every path below `dir` (files, directories, links), relative, sorted. */
function walk(dir: string, rel = ''): string[] {
  const out: string[] = [];
  for (const name of readdirSync(join(dir, rel)).sort()) {
    const p = rel ? `${rel}/${name}` : name;
    out.push(p);
    const st = lstatSync(join(dir, p));
    if (st.isDirectory()) out.push(...walk(dir, p));
  }
  return out;
}

const GARBAGE = [
  '',
  '\n',
  'zz\n',
  '0x\n',
  '0xffffffffffffffffffff\n',
  '-1\n',
  '\u0000\u0001\u0002',
  'bus bus bus\n',
  '(null)\n',
  'x'.repeat(5000),
];

type SysfsOp = (dir: string, rnd: () => number, paths: string[]) => string;

/** Mutations of a dump; each returns what it did (for the report). */
const SYSFS_OPS: SysfsOp[] = [
  (dir, rnd, paths) => {
    const p = pick(paths, rnd);
    rmSync(join(dir, p), { recursive: true, force: true });
    return `removed ${p}`;
  },
  (dir, rnd, paths) => {
    const p = pick(files(dir, paths), rnd);
    if (!p) return 'no file to garble';
    const g = pick(GARBAGE, rnd);
    writeFileSync(join(dir, p), g);
    return `wrote ${JSON.stringify(g.slice(0, 12))} to ${p}`;
  },
  (dir, rnd, paths) => {
    const p = pick(files(dir, paths), rnd);
    if (!p) return 'no file to cut';
    const len = lstatSync(join(dir, p)).size;
    truncateSync(join(dir, p), Math.floor(rnd() * len));
    return `cut ${p}`;
  },
  (dir, rnd, paths) => {
    const p = pick(files(dir, paths), rnd);
    if (!p) return 'no file to replace';
    rmSync(join(dir, p));
    mkdirSync(join(dir, p));
    return `made ${p} a directory`;
  },
  (dir, rnd, paths) => {
    const p = pick(links(dir, paths), rnd);
    if (!p) return 'no link to break';
    rmSync(join(dir, p));
    symlinkSync(
      pick(['../../nowhere', 'x/y', '/', '.', '..', '../../../../../../../../etc'], rnd),
      join(dir, p),
    );
    return `pointed ${p} elsewhere`;
  },
  (dir, rnd, paths) => {
    const p = pick(links(dir, paths), rnd);
    if (!p) return 'no link to loop';
    rmSync(join(dir, p));
    symlinkSync(p.split('/').pop()!, join(dir, p));
    return `made ${p} a link to itself`;
  },
  (dir, rnd, paths) => {
    const d = pick(dirs(dir, paths), rnd);
    if (!d) return 'no directory';
    const name = pick(
      ['0000:zz:00.0', '0000:00:00.8', 'ffff:ff:1f.7', 'garbage', '..weird', '0000:01:00.0'],
      rnd,
    );
    try {
      writeFileSync(join(dir, d, name), pick(GARBAGE, rnd));
    } catch {
      return `could not add ${d}/${name}`;
    }
    return `added ${d}/${name}`;
  },
  (dir, rnd, paths) => {
    const p = pick(links(dir, paths), rnd);
    if (!p) return 'no link to swap';
    const target = readlinkSync(join(dir, p));
    const other = pick(links(dir, paths), rnd)!;
    const to = readlinkSync(join(dir, other));
    rmSync(join(dir, p));
    symlinkSync(to, join(dir, p));
    return `pointed ${p} (was ${target}) where ${other} points`;
  },
];

/** The paths below `dir` that are (still) of one kind. */
function ofKind(kind: 'file' | 'link' | 'dir') {
  return (dir: string, paths: string[]): string[] =>
    paths.filter((p) => {
      try {
        const st = lstatSync(join(dir, p));
        return kind === 'file' ? st.isFile() : kind === 'link' ? st.isSymbolicLink() : st.isDirectory();
      } catch {
        return false;
      }
    });
}
const files = ofKind('file');
const links = ofKind('link');
const dirs = ofKind('dir');
function pick<T>(xs: readonly T[], rnd: () => number): T {
  return xs[Math.floor(rnd() * xs.length)]!;
}

/** A pristine dump of the generated host `hostSeed`, written to `dir`. */
export function writeDump(hostSeed: number, dir: string): void {
  const k = new SimKernel(generateHost(hostSeed, { maxFunctions: 8, maxDepth: 2 }), { era: '6.1' });
  writeSysfsDump(k.sysfs, dir);
}

function sysfsCases(seed: number, count: number): FileCase[] {
  const rnd = prng(seed);
  return Array.from({ length: count }, () => {
    const hostSeed = Math.floor(rnd() * 0x7fffffff);
    const opSeed = Math.floor(rnd() * 0x7fffffff);
    const n = 1 + Math.floor(rnd() * 3);
    const did: string[] = [];
    return {
      hostSeed,
      get text() {
        return `host ${hostSeed}, ops seed ${opSeed}: ${did.join('; ')}`;
      },
      mutate: (dir: string) => {
        const r = prng(opSeed);
        for (let i = 0; i < n; i++) did.push(pick(SYSFS_OPS, r)(dir, r, walk(dir)));
      },
    };
  });
}
