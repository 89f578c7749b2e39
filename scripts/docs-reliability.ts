/**
 * `npm run docs:reliability`: runs the reliability suites (test/reliability) with a fixed seed,
 * collects the figures they count (test/reliability/figures.ts), and writes docs/reliability.md —
 * cases tried, invariant checks run, faults injected, and the failures found and fixed
 * (test/reliability/found.yaml). It also writes the rig's share of the bad-input matrix into
 * scenarios/conformance/. With the seed fixed, the same tree gives the same document.
 *
 * Exit 1, writing nothing, when a suite fails: the document reports a passing run.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { CASES, type MatrixCase, outcomeIn } from '../test/reliability/bad-input/cases.ts';
import { kernelFunction } from '../test/reliability/bad-input/kernel.ts';
import { rigFiles } from '../test/reliability/bad-input/rig-file.ts';

/** The seed every random run of the document uses. */
const SEED = 20261121;
const OUT = 'docs/reliability.md';
const SUITES = ['invariants', 'bad-input', 'faults', 'fuzz-files', 'linux-backend'] as const;

type Figures = Record<string, number | string>;

interface Found {
  id: string;
  suite: string;
  file: string;
  found: string;
  kernel: string;
  fix: string;
  test: string;
}

function runSuites(dir: string): Record<string, Figures> {
  const files = SUITES.map((s) => `test/reliability/${s}.test.ts`);
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--test', ...files], {
    encoding: 'utf8',
    env: { ...process.env, VFIO_RESET_RELIABILITY_OUT: dir, VFIO_RESET_SEED: String(SEED) },
    maxBuffer: 256 * 1024 * 1024,
  });
  const pass = /^# pass (\d+)/m.exec(r.stdout)?.[1];
  const fail = /^# fail (\d+)/m.exec(r.stdout)?.[1];
  if (r.status !== 0 || fail !== '0') {
    process.stderr.write(
      r.stdout
        .split('\n')
        .filter((l) => /^not ok|error:/.test(l.trim()))
        .join('\n'),
    );
    process.stderr.write(
      `\ndocs:reliability: the suites failed (pass ${pass}, fail ${fail}); ${OUT} not written\n`,
    );
    process.exit(1);
  }
  const out: Record<string, Figures> = {};
  for (const f of readdirSync(dir))
    out[f.replace(/\.json$/, '')] = JSON.parse(readFileSync(join(dir, f), 'utf8'));
  out.run = { tests: Number(pass) };
  return out;
}

const n = (v: number | string | undefined) =>
  typeof v === 'number' ? v.toLocaleString('en-US') : (v ?? '0');
const md = (s: string) => s.replaceAll('|', '\\|').replaceAll('\n', ' ');

function matrixTable(): string[] {
  const byIoctl = new Map<string, MatrixCase[]>();
  for (const c of CASES) byIoctl.set(c.ioctl, [...(byIoctl.get(c.ioctl) ?? []), c]);
  const rows = [...byIoctl].sort(([a], [b]) => a.localeCompare(b));
  const L = [
    '| request | cases | rig | errnos (6.1, or the case’s era) | kernel functions |',
    '|---|---:|---:|---|---|',
  ];
  for (const [ioctl, cs] of rows) {
    const era = (c: MatrixCase) => (c.eras.includes('6.1') ? '6.1' : c.eras[0]!);
    const errnos = [
      ...new Set(cs.map((c) => outcomeIn(c, era(c)).expect).map((e) => (typeof e === 'string' ? e : 'ok'))),
    ].sort();
    const kernels = [
      ...new Set(
        cs
          .map((c) => kernelFunction(outcomeIn(c, era(c)).rule, c.ioctl))
          .filter((k) => !k.endsWith('(success)')),
      ),
    ];
    L.push(
      `| ${md(ioctl)} | ${cs.length} | ${cs.filter((c) => c.rig).length} | ${errnos.join(', ')} | ${md(kernels.slice(0, 3).join('; '))}${kernels.length > 3 ? '; …' : ''} |`,
    );
  }
  return L;
}

function render(fig: Record<string, Figures>, found: Found[]): string {
  const inv = fig.invariants ?? {};
  const bad = fig['bad-input'] ?? {};
  const faults = fig.faults ?? {};
  const fuzz = fig.fuzz ?? {};
  const linux = fig['linux-backend'] ?? {};
  const runs = CASES.reduce((k, c) => k + c.eras.length, 0);
  const L: string[] = [];
  L.push('# Reliability and security: what was tried, and what it found');
  L.push('');
  L.push(
    'Written by `npm run docs:reliability`, which runs the suites of `test/reliability/` with seed',
    `${SEED} and counts as they go. Every CI run does the same with a fresh seed (it prints the seed;`,
    '`VFIO_RESET_SEED=<seed>` replays it). The promise checked throughout is the kernel’s own: no',
    'reset touches a device the caller does not own, and a refused call changes nothing.',
  );
  L.push('');
  L.push('| suite | tried | checks | faults injected |', '|---|---:|---:|---:|');
  L.push(
    `| invariants (\`invariants.test.ts\`) | ${n(inv.worlds)} random worlds, ${n(inv.syscalls)} syscalls | ${n(inv.checks)} | ${n(inv.faultsInjected)} |`,
  );
  L.push(
    `| bad-input matrix (\`bad-input.test.ts\`) | ${n(CASES.length)} cases, ${n(runs)} runs over the eras | ${n(bad.runs)} errno + rule checks, ${n(bad.refusalsUnchanged)} “refusal changed nothing” | — |`,
  );
  L.push(
    `| faults (\`faults.test.ts\`) | ${n(faults.killPoints)} kill points, ${n(faults.cliRuns)} CLI runs | ${n(faults.checks)} | ${n(faults.faultsInjected)} |`,
  );
  L.push(
    `| file fuzzing (\`fuzz-files.test.ts\`) | ${n(fuzz.inputs)} inputs, ${n(fuzz.cliRuns)} CLI runs | ${n(fuzz.cliRuns)} (each: exit, one located error, known code) | — |`,
  );
  L.push(
    `| real backend (\`linux-backend.test.ts\`) | ${n(linux.refusals)} refusals, ${n(linux.writesChecked)} writes, ${n(linux.readOnlyRuns)} read-only and ${n(linux.unprivilegedRuns)} unprivileged runs | ${n(linux.checks)} | — |`,
  );
  L.push('');
  L.push(
    `All ${n(fig.run?.tests)} tests of these suites passed on this run. ${found.length} failures were found and fixed (last section).`,
  );
  L.push('');

  L.push('## Invariants over random worlds');
  L.push('');
  L.push(
    `${n(inv.worlds)} worlds (at least 10,000 per run): a generated host of 3–12 functions in one era (2013, 6.1, 6.6+),`,
    `two processes making ${n(inv.stepsPerWorld)} random actions each world (containers, groups, device fds, function and`,
    'hot resets, cdev binds, driver changes, lock and readiness faults, closes, a process exiting), every',
    'invariant checked after every syscall, then every process exits and the kernel must be idle:',
  );
  L.push('');
  L.push(
    '- **ownership** — a function reset touches its device; a hot reset only the functions whose groups were passed',
    '  (6.x: bound to vfio-pci; cdev: owned by the caller’s iommufd ctx); a close only vfio-pci functions nobody has open;',
    '  a function on a DMA-using host driver is never reset nor loses its state; a refused call changes no kernel state;',
    '- **INFO agrees with the reset’s scope** — INFO lists the scope in walk order with the sysfs groups, and a hot reset',
    '  that succeeds resets exactly the INFO entries that are present;',
    '- **groups partition** the functions (sysfs `iommu_group` links and `kernel/iommu_groups/*/devices` agree);',
    '- **fds** — the kernel’s table is exactly what the processes hold; a new fd is the lowest free one and names the file',
    '  just opened; a closed fd answers EBADF; nothing is left once the processes exit;',
    '- **open counts** — a device is open once per file that opened it; every dev_set’s count returns to zero;',
    '- **time** — the virtual clock and the kernel log only move forward.',
  );
  L.push('');
  L.push('| figure | count |', '|---|---:|');
  for (const [k, label] of [
    ['syscalls', 'syscalls checked'],
    ['checks', 'invariant checks'],
    ['refusals', 'refusals shown to change nothing'],
    ['functionsTouched', 'functions reset (each judged against ownership)'],
    ['hotResetsDone', 'hot resets done'],
    ['hotResetsRefused', 'hot resets refused'],
    ['hotResetsFailedAfterReset', 'hot resets whose wait failed after the reset (H9)'],
    ['functionResetsDone', 'function resets done'],
    ['functionResetsRefused', 'function resets refused'],
    ['infoCalls', 'hot-reset INFO calls compared with the scope'],
    ['processesKilled', 'processes exited mid-world'],
    ['fdsClosedByExit', 'fds the kernel closed for them'],
    ['faultsInjected', 'faults injected (lock, readiness)'],
    ['regressionWorlds', 'regression worlds replayed (`regressions.yaml`)'],
  ] as const)
    L.push(`| ${label} | ${n(inv[k])} |`);
  L.push('');

  L.push('## The bad-input matrix');
  L.push('');
  L.push(
    `${CASES.length} cases (${runs} runs: each in every era it applies to) for every request the simulator answers, and`,
    'open/close: argsz below, at and above minsz; unknown flags; counts 0, 1, N, N+1, 2^31; negative, closed, duplicate',
    'and wrong-kind fds; short buffers and NULL pointers; calls on closed fds and in the wrong state. Each names the',
    'errno the kernel gives, the rule the simulator must report for it, and the kernel function that decides it',
    '(read in torvalds/linux); every refusal must leave the kernel exactly as it was.',
    `${CASES.filter((c) => c.rig).length} of them are scenario steps the rig can run on a real Linux 6.1 kernel: they are written,`,
    'one block per setup, to:',
  );
  L.push('');
  for (const f of rigFiles()) L.push(`- \`${f.path}\` (${f.cases} cases)`);
  L.push('');
  L.push(...matrixTable());
  L.push('');

  L.push('## Faults: what the client and the CLI do');
  L.push('');
  L.push('| fault | the client | the CLI |', '|---|---|---|');
  L.push(
    '| a device that never becomes ready (W1/W2) | each listed method polls 65,535 ms of virtual time and gives up (pm, then bus: ~131 s); `VFIO_RESET_E_NOT_READY`, only the device reset | `reset --yes` exits 1: “did not answer in time”, the code, dmesg “not ready 65535ms … giving up” |',
    '| a device that comes back late | the reset waits (“ready 4095ms after …”) and succeeds; later than 60 s is the same as never | exits 0; the open and the reset each take ~4 s (the kernel resets at open too) |',
    '| surprise removal during a reset | 6.1 polls the gone device for 60 s, 6.6+ gives up at once (W3); NOT_READY; nothing else touched; the session still closes | exits 1 naming the device, nothing on stderr |',
    '| lock contention: EAGAIN (device lock), EBUSY (memory lock) | 1 + `busyRetries` attempts (at open, function and hot reset), then `VFIO_RESET_E_BUSY`; succeeds when the other thread lets go in time | exits 1 “retried 3 times”, or 0 when the lock is released within the retries |',
    '| the owning process dies mid-operation | killed at every syscall of a reset: the kernel closes its fds, close-time resets run (O3/O4; none in 2013 without a function reset), the kernel is idle, the next process resets | killed at every syscall: exits 1; the host stays usable, the next `reset --yes` succeeds |',
    '| a group taken between plan and reset | `VFIO_RESET_E_GROUP_BUSY` naming device, driver, group (G2); M-2G: NOT_OWNED naming the other function; cdev: NOT_OWNED when the other user bound it | the dry run passes, then `reset --yes` exits 1 naming the group; JSON has the code |',
  );
  L.push('');
  L.push(
    `${n(faults.faultsInjected)} faults injected, ${n(faults.killPoints)} kill points, ${n(faults.cliRuns)} CLI runs.`,
  );
  L.push('');

  L.push('## File fuzzing');
  L.push('');
  L.push(
    'Random and mutated inputs through the CLI, in text and JSON mode, each format in a child process under a deadline',
    '(a hang is killed and the case named). Every run must end in success or in one error whose every line names the',
    'file (line:column for text formats), with a known `VFIO_RESET_E_*` code — never a stack trace, an internal error,',
    'or a case slower than 3 s.',
  );
  L.push('');
  L.push(
    '| format | how the CLI reads it | inputs | CLI runs | refused, each with one located error |',
    '|---|---|---:|---:|---:|',
  );
  for (const [f, how] of [
    ['topology', '`--host sim:<file> scan`'],
    ['scenario', '`run <file>`'],
    ['lspci', '`import-lspci <file> -o …`'],
    ['sysfs', '`--host linux:<dir> scan`, `--host sim:<dir> scan` (a dump mutated on disk)'],
  ] as const)
    L.push(
      `| ${f} | ${how} | ${n(fuzz[`${f}Inputs`])} | ${n(fuzz[`${f}CliRuns`])} | ${n(fuzz[`${f}Refused`])} |`,
    );
  L.push('');

  L.push('## The real backend');
  L.push('');
  L.push(
    'On fixture sysfs trees (dumps of simulated hosts), watched through node:fs: `reset --yes` refuses, before anything is',
    'opened, without the IOMMU, on an absent device or one that is not the `--expect`ed vendor:device, and when its group',
    'or its bus holds the boot GPU or the disk of the mounted root; `writeSysfs` writes only the attribute it names (not',
    'through `..`, a symlinked attribute — ELOOP — or a directory resolving outside the root — EACCES); the read-only',
    'commands (scan, info, reset dry run, plan, dump, snapshot) open nothing under /dev, change nothing but their `-o`',
    'output, load no FFI, and run as uid 65534 on the real /sys.',
  );
  L.push('');
  L.push(
    `${n(linux.refusals)} refusals, ${n(linux.writesChecked)} sysfs writes, ${n(linux.readOnlyRuns)} read-only and ${n(linux.unprivilegedRuns)} unprivileged runs checked.`,
  );
  L.push('');

  L.push('## Failures found and fixed');
  L.push('');
  L.push('From `test/reliability/found.yaml`; each is held by the test named.');
  L.push('');
  for (const f of found) {
    L.push(`### ${f.id} (${f.suite}, \`${f.file}\`)`);
    L.push('');
    L.push(`- **Found:** ${f.found.trim()}`);
    L.push(`- **Kernel:** ${f.kernel.trim()}`);
    L.push(`- **Fix:** ${f.fix.trim()}`);
    L.push(`- **Test:** ${f.test.trim()}`);
    L.push('');
  }
  return `${L.join('\n').trimEnd()}\n`;
}

const dir = mkdtempSync(join(tmpdir(), 'vfio-reset-reliability-'));
try {
  for (const f of rigFiles()) writeFileSync(f.path, f.text);
  const fig = runSuites(dir);
  const found = parse(readFileSync('test/reliability/found.yaml', 'utf8')) as Found[];
  writeFileSync(OUT, render(fig, found));
  process.stdout.write(`docs:reliability: wrote ${OUT} and ${rigFiles().length} rig scenario files\n`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
