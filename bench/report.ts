/**
 * docs/performance.md from one benchmark run: pure text from the measured figures (no I/O), so
 * the page always shows numbers measured side by side on one machine, and says which goals hold.
 * @module
 */

import { CHANGES } from './changes.ts';
import { CONFIG_SPACE_READS } from './config-reads.ts';
import type { DurationTable } from './durations.ts';
import type { IoctlComparisonResult } from './ioctl-c.ts';
import type { LoadResult } from './load.ts';
import type { MachineFacts } from './machine.ts';
import type { InProcessScan, ProcessComparison } from './scan.ts';
import type { IoctlRate, QueryTimings } from './sim-queries.ts';

export type Outcome<T> = { ok: true; value: T } | { ok: false; why: string };

export interface BenchResults {
  machine: MachineFacts;
  lspci: Outcome<ProcessComparison>;
  scans: InProcessScan[];
  loads: LoadResult[];
  queries: QueryTimings[];
  ioctls: IoctlRate[];
  ioctlC: IoctlComparisonResult;
  durations: DurationTable;
}

/** The goals, as numbers. */
export const GOALS = {
  /** scan --json wall time / lspci -tv wall time, same dump. */
  scanVsLspci: 1,
  /** Median µs of one hot-reset INFO or scope query. */
  queryUs: 10,
  /** Largest / smallest host median, for "flat". */
  flatness: 1.5,
  ioctlsPerSecond: 50_000,
  /** koffi ioctl / C ioctl. */
  ioctlVsC: 1.6,
} as const;

const n = (x: number) => x.toLocaleString('en-US');
const fixed = (x: number, d = 1) => x.toFixed(d);
const ms = (x: number) => (x >= 100 ? n(Math.round(x)) : fixed(x, x >= 10 ? 1 : 2));
const us = (x: number) => fixed(x, x >= 10 ? 1 : 2);
const ratio = (x: number) => `${fixed(x, 2)}×`;
const yes = (b: boolean) => (b ? 'yes' : '**no**');

function table(head: string[], rows: string[][]): string {
  const line = (cells: string[]) => `| ${cells.join(' | ')} |`;
  return [line(head), line(head.map(() => '---')), ...rows.map(line)].join('\n');
}

export interface GoalRow {
  what: string;
  measured: string;
  goal: string;
  met: boolean | null;
}

/** One row per goal of the issue; `met` is null when the measurement could not be made here. */
export function goalRows(r: BenchResults): GoalRow[] {
  const rows: GoalRow[] = [];
  if (r.lspci.ok) {
    const x = r.lspci.value.scanMs / r.lspci.value.lspciMs;
    rows.push({
      what: `scan --json vs lspci -tv, ${n(r.lspci.value.functions)}-function dump (wall time)`,
      measured: ratio(x),
      goal: `≤ ${ratio(GOALS.scanVsLspci)}`,
      met: x <= GOALS.scanVsLspci,
    });
  } else rows.push({ what: 'scan --json vs lspci -tv', measured: 'skipped', goal: '≤ 1×', met: null });
  if (r.queries.length > 0) {
    const worst = (pick: (q: QueryTimings) => number[]) => Math.max(...r.queries.flatMap(pick));
    const infoWorst = worst((q) => [q.info.medianUs, q.infoLast.medianUs]);
    const scopeWorst = worst((q) => [q.scope.medianUs, q.scopeLast.medianUs]);
    const first = r.queries[0]!;
    const last = r.queries[r.queries.length - 1]!;
    const flat = Math.max(
      last.info.medianUs / first.info.medianUs,
      last.infoLast.medianUs / first.info.medianUs,
      last.scope.medianUs / first.scope.medianUs,
    );
    const sizes = r.queries.map((q) => n(q.functions)).join(' / ');
    rows.push(
      {
        what: `hot-reset INFO ioctl, median, worst of ${sizes} functions`,
        measured: `${us(infoWorst)} µs`,
        goal: `≤ ${GOALS.queryUs} µs`,
        met: infoWorst <= GOALS.queryUs,
      },
      {
        what: `hot-reset scope query, median, worst of ${sizes} functions`,
        measured: `${us(scopeWorst)} µs`,
        goal: `≤ ${GOALS.queryUs} µs`,
        met: scopeWorst <= GOALS.queryUs,
      },
      {
        what: `flat: largest host's median / smallest host's (INFO, scope)`,
        measured: ratio(flat),
        goal: `≤ ${ratio(GOALS.flatness)}`,
        met: flat <= GOALS.flatness,
      },
    );
  }
  if (r.ioctls.length > 0) {
    const slowest = Math.min(...r.ioctls.map((i) => i.timing.perSecond));
    rows.push({
      what: 'simulated ioctls per second through Syscalls (slowest request)',
      measured: `${n(Math.round(slowest))}/s`,
      goal: `≥ ${n(GOALS.ioctlsPerSecond)}/s`,
      met: slowest >= GOALS.ioctlsPerSecond,
    });
  }
  if (r.ioctlC.ok) {
    const x = r.ioctlC.value.ioctlNs / r.ioctlC.value.cNs;
    rows.push({
      what: `Linux backend ioctl() vs C, ${r.ioctlC.value.call} (fastest rounds)`,
      measured: ratio(x),
      goal: `≤ ${ratio(GOALS.ioctlVsC)}`,
      met: x <= GOALS.ioctlVsC,
    });
  } else rows.push({ what: 'Linux backend ioctl vs C', measured: 'skipped', goal: '≤ 1.6×', met: null });
  return rows;
}

function machineSection(m: MachineFacts): string {
  return table(
    ['', ''],
    [
      ['CPU', `${m.cpu}, ${m.cores} cores`],
      ['memory', `${m.memoryGiB} GiB`],
      ['Node.js', m.node],
      ['kernel', m.kernel],
      ['koffi', m.koffi],
      ['lspci', m.lspci],
      ['C compiler', m.cc],
      ['date', m.date],
      ['load average at the start (a shared machine: figures move with it)', m.loadAverage.toFixed(2)],
    ],
  );
}

function scaleSection(r: BenchResults): string {
  const rows = r.scans.map((s) => {
    const load = r.loads.find((l) => l.functions === s.functions && l.format === 'yaml');
    const json = r.loads.find((l) => l.functions === s.functions && l.format === 'json');
    return [
      n(s.functions),
      `${ms(s.readMs)} (${s.source === 'dump' ? 'dump on disk' : 'in-memory sysfs'})`,
      ms(s.computeMs),
      `${ms(s.jsonMs)} (${fixed(s.jsonMiB)} MiB)`,
      load ? ms(load.loadMs) : '–',
      json ? ms(json.loadMs) : '–',
      load ? ms(load.buildMs) : '–',
      load ? ms(load.groupsMs) : '–',
      load ? ms(load.methodsMs) : '–',
      load ? `${n(Math.round(load.maxRssMiB))} (${n(Math.round(load.baselineRssMiB))} at start)` : '–',
      json ? n(Math.round(json.maxRssMiB)) : '–',
    ];
  });
  return table(
    [
      'functions',
      'scan: read sysfs, ms',
      'scan: inventory, ms',
      'scan: JSON text, ms',
      'topology file load: YAML, ms',
      'the same as JSON, ms',
      'tree, ms',
      'IOMMU groups, ms',
      'reset methods, ms',
      'peak RSS, YAML, MiB',
      'peak RSS, JSON, MiB',
    ],
    rows,
  );
}

function querySection(r: BenchResults): string {
  return table(
    [
      'functions',
      'simulated kernel boot, ms',
      'target (affected)',
      'INFO ioctl, µs',
      'client INFO protocol (2 calls), µs',
      'scope query, µs',
      'last GPU: INFO / scope, µs',
    ],
    r.queries.map((q) => [
      n(q.functions),
      ms(q.bootMs),
      `${q.target} (${q.affected})`,
      us(q.info.medianUs),
      us(q.protocol.medianUs),
      us(q.scope.medianUs),
      `${q.lastTarget}: ${us(q.infoLast.medianUs)} / ${us(q.scopeLast.medianUs)}`,
    ]),
  );
}

function durationSection(d: DurationTable): string {
  if (!d.ok) return `Skipped: ${d.why}.`;
  const rows = d.rows.map((row) => [
    row.topology,
    row.scenario,
    `\`${row.step.replace(/\|/g, '\\|')}\``,
    row.real,
    ms(row.rigMs),
    row.simMs === null ? '–' : ms(row.simMs),
    row.simMs === null ? (row.note ?? '') : `${fixed((100 * (row.simMs - row.rigMs)) / row.rigMs, 0)} %`,
  ]);
  return [
    `From the rig run of ${d.run.when} (kernel ${d.run.kernel}; topologies ${d.run.topologies.join(', ')}), ` +
      'read from `.rig/results/<topology>/results.json`; the simulator replays the same scenario files.',
    '',
    table(['topology', 'scenario', 'step', 'real kernel', 'rig, ms', 'simulator, ms', 'difference'], rows),
  ].join('\n');
}

export function renderPerformanceDoc(r: BenchResults): string {
  const out: string[] = [];
  out.push(
    '# Performance',
    '',
    'Generated by `npm run docs:performance` (the same as `npm run bench -- --write-docs`); every figure below',
    'comes from one run on the machine described here, so ratios compare things measured side by side.',
    'Inputs are synthetic servers from `generateLargeHost` (src/topology/generate-large.ts): PCI segments of',
    '16 root ports, PCIe switches nested three deep with pciehp slots, GPUs with their audio function, NVMe',
    'drives and NICs with 63 SR-IOV VFs each, written to `.bench/` as topology files and sysfs dumps.',
    '',
    '## Machine',
    '',
    machineSection(r.machine),
    '',
    '## Goals',
    '',
    table(
      ['measurement', 'measured', 'goal', 'met'],
      goalRows(r).map((g) => [g.what, g.measured, g.goal, g.met === null ? 'not measured' : yes(g.met)]),
    ),
    '',
    '## scan against lspci',
    '',
  );
  if (r.lspci.ok) {
    const v = r.lspci.value;
    out.push(
      `\`vfio-reset --host linux:<dump> --json scan\` (bundled with esbuild, so Node's start-up is counted but no`,
      `TypeScript loader) against \`lspci -tv -A linux-sysfs -O sysfs.path=<dump>/bus/pci\`, both as processes with`,
      `output to /dev/null, alternating, median of ${v.rounds} runs each, on the ${n(v.functions)}-function dump:`,
      '',
      table(
        ['', 'wall time, ms'],
        [
          ['vfio-reset scan --json', ms(v.scanMs)],
          ['of which Node start-up and loading the CLI (`vfio-reset --help`)', ms(v.startupMs)],
          ['vfio-reset scan (text)', ms(v.scanTextMs)],
          ['lspci -tv', ms(v.lspciMs)],
          ['ratio', ratio(v.scanMs / v.lspciMs)],
        ],
      ),
      '',
      "scan does more than lspci: besides the tree it reads each function's driver, IOMMU group and reset methods,",
      "works out each function's hot-reset scope with every affected device (the bus or slot the kernel would reset)",
      'and the problems in the way. Its JSON document (schemaVersion 2) writes each reset domain once and has each',
      `function name its domain: ${r.scans.find((s) => s.functions === v.functions)?.jsonMiB.toFixed(1) ?? '?'} MiB here, where a NIC's 63 VFs share one bus (version 1 repeated`,
      'the domain and its problems in every function; the changes table below has both sizes). Where the time goes is',
      "in the next table; the CLI loads a command's code only when that command runs, so a scan of a dump",
      '(`--host linux:<dump>`) loads neither the simulator nor zod or yaml.',
      '',
      `As text (\`scan\`, the tree as a person reads it, with the problems said once per reset domain) it takes`,
      `${ratio(v.scanTextMs / v.lspciMs)} lspci's time: it names every device from pci.ids, as lspci does, and lays the table out in full.`,
    );
  } else out.push(`Skipped: ${r.lspci.why}.`);
  out.push(
    '',
    '## How cost grows with the host',
    '',
    "In one process, median of several runs (100,000 functions: the simulator's in-memory sysfs, as a",
    'dump of that size would be 1.5 million files). The load columns run in a fresh child process per size:',
    'topology file (YAML as the writer writes it, and the same as JSON) → `HostDesc`, linked tree, IOMMU groups,',
    "reset methods; peak RSS is the child process's VmHWM. Tree, groups and methods are the YAML child's.",
    '',
    scaleSection(r),
    '',
    '## Simulated hot-reset queries',
    '',
    'A vfio-pci GPU (with its audio function) behind a switch port: hot-reset INFO through `SimKernel.sys.ioctl`',
    'with the struct encoded and decoded as bytes, and the pure scope query (`hotResetScope`), for the first and',
    'the last such GPU of the host. The cost follows the reset bus, not the host.',
    '',
    querySection(r),
    '',
    '## Simulated ioctls per second',
    '',
    'Through the full `Syscalls` boundary of the simulated kernel (1,000-function host), each call encoding its',
    'argument struct and decoding the answer with the `uapi/` codecs, as the VFIO client does:',
    '',
    table(
      ['request', 'per second', 'median, µs'],
      r.ioctls.map((i) => [i.name, n(Math.round(i.timing.perSecond)), us(i.timing.medianUs)]),
    ),
    '',
    "## The Linux backend's ioctl against C",
    '',
  );
  if (r.ioctlC.ok) {
    const v = r.ioctlC.value;
    out.push(
      `${v.call} (\`${v.path.replace(/.*\/\.bench\//, '.bench/')}\`), ${n(v.calls)} calls per round, ${v.rounds} rounds`,
      'alternating between a C loop (compiled with `cc -O2` at bench time) and Node on the same file; the fastest round of each (other jobs only add time):',
      '',
      table(
        ['caller', 'fastest round, ns', 'vs C', 'median round, ns', 'vs C'],
        (
          [
            ['C loop', v.cNs, v.medianNs.c],
            ['koffi binding (`koffiIoctl`)', v.rawNs, v.medianNs.raw],
            ['`ioctl()` of src/linux/ioctl.ts (checks, errno)', v.ioctlNs, v.medianNs.ioctl],
            ['`LinuxSyscalls.ioctl` (fd kinds, request names)', v.syscallsNs, v.medianNs.syscalls],
          ] as const
        ).map(([who, best, mid]) => [
          who,
          fixed(best, 0),
          ratio(best / v.cNs),
          fixed(mid, 0),
          ratio(mid / v.medianNs.c),
        ]),
      ),
      '',
      `What is left between C and Node is koffi's own cost per call (${fixed(v.rawNs - v.cNs, 0)} ns in the fastest rounds; the`,
      `wrappers add ${fixed(Math.max(0, v.ioctlNs - v.rawNs), 0)} ns more). It is a fixed cost, so the ratio follows how fast the machine does the`,
      'syscall itself; a real VFIO ioctl (INFO, HOT_RESET) spends microseconds to seconds in the kernel, where the',
      'binding is noise.',
    );
  } else out.push(`Skipped: ${r.ioctlC.why}.`);
  out.push(
    '',
    '## Reset durations: simulator against the real kernel',
    '',
    durationSection(r.durations),
    '',
    '## When config space is read',
    '',
    CONFIG_SPACE_READS,
    '',
    '## What was changed to reach these figures',
    '',
    table(
      ['change', 'before', 'after'],
      CHANGES.map((c) => [c.what, c.before, c.after]),
    ),
    '',
  );
  return out.join('\n');
}
