/**
 * `npm run test:kernel` (after rig/install.sh and rig/build-initramfs.sh, see rig/run.sh): boots
 * every topology of topologies.ts in a QEMU guest, runs its scenarios on the real kernel there,
 * compares the guest's sysfs with the simulated twin, runs the same scenarios on the simulator
 * loaded with the guest's own dump and compares every step (differential.ts), writes
 * docs/conformance.md, and ends with the plain closing line `N passed, N failed` over all
 * scenario steps — a step counts as failed when the kernel missed its expectation or the
 * simulator disagreed with the kernel. Exit status 1 when anything failed.
 *
 *   node --import tsx src/rig/main.ts [--only rp,ppb] [--timeout SECONDS] [--budget SECONDS] [--tsx]
 *
 * --timeout bounds one boot (default 120 s; a normal one takes 15–35 s); --budget bounds the whole
 * run (default 570 s, under the 10 minutes the rig must fit in): a boot that cannot start in time
 * is not started, and its scenarios count as failed.
 *
 * Results per topology: .rig/results/<name>/ (job.json, qemu.argv, console.log, results.json,
 * dmesg.txt, sysfs/); a summary with timings in .rig/results/summary.json.
 * @module
 */

import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DirSysfsReader } from '../linux/sysfs-reader.ts';
import { SimKernel } from '../sim/kernel.ts';
import { loadTopologyFile } from '../topology/load.ts';
import { bundleGuest } from './bundle.ts';
import { compareSysfs, differencesText } from './compare.ts';
import { agrees } from './differential.ts';
import { compareTopologyRun } from './gather.ts';
import { type BootOutcome, bootTopology } from './host.ts';
import { addTally, closingLine, emptyTally, firstLine, tallyBoot, toJson } from './job.ts';
import { writeConformanceReport } from './report-main.ts';
import { eraOfRelease, scanScenarios, selectScenarios } from './select.ts';
import { TOPOLOGIES } from './topologies.ts';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const RIG = join(REPO, '.rig');

interface Args {
  only: string[] | null;
  /** Timing misses are reported but do not fail the run (CI: `--timing advisory`). */
  timingAdvisory: boolean;
  timeoutMs: number;
  budgetMs: number;
  tsx: boolean;
}

/** A boot needs at least this long; with less left, it is not started. */
const MIN_BOOT_MS = 30_000;

function parseArgs(argv: string[]): Args {
  const a: Args = { only: null, timingAdvisory: false, timeoutMs: 120_000, budgetMs: 570_000, tsx: false };
  for (let i = 0; i < argv.length; i++) {
    const v = argv[i];
    if (v === '--only') a.only = (argv[++i] ?? '').split(',').filter(Boolean);
    else if (v === '--timeout') a.timeoutMs = Number(argv[++i]) * 1000;
    else if (v === '--budget') a.budgetMs = Number(argv[++i]) * 1000;
    else if (v === '--tsx') a.tsx = true;
    else if (v === '--timing') {
      const m = argv[++i];
      if (m !== 'strict' && m !== 'advisory') throw new Error('--timing takes strict or advisory');
      a.timingAdvisory = m === 'advisory';
    } else
      throw new Error(
        `unknown argument ${v} (use --only a,b  --timing strict|advisory  --timeout SECONDS  --budget SECONDS  --tsx)`,
      );
  }
  if (!(a.timeoutMs > 0) || !(a.budgetMs > 0))
    throw new Error('--timeout and --budget take a number of seconds');
  return a;
}

async function main(): Promise<number> {
  const args = parseArgs(process.argv.slice(2));
  const kernelFile = join(RIG, 'kernel');
  if (!existsSync(kernelFile) || !existsSync(join(RIG, 'initramfs.cpio.gz'))) {
    console.error('rig: no initramfs; run rig/build-initramfs.sh (or npm run test:kernel)');
    return 1;
  }
  const version = readFileSync(kernelFile, 'utf8').trim();
  const era = eraOfRelease(version);
  const topologies = TOPOLOGIES.filter((t) => args.only === null || args.only.includes(t.name));
  const unknown = (args.only ?? []).filter((n) => !TOPOLOGIES.some((t) => t.name === n));
  if (unknown.length > 0) {
    console.error(
      `rig: unknown topology ${unknown.join(', ')} (known: ${TOPOLOGIES.map((t) => t.name).join(', ')})`,
    );
    return 1;
  }

  const scan = scanScenarios(REPO);
  for (const b of scan.broken) console.log(`rig: scenario file not loaded: ${b.split('\n')[0]}`);

  let entry = 'src/rig/guest.ts';
  if (!args.tsx) {
    entry = '.rig/guest.mjs';
    bundleGuest(REPO, join(REPO, entry));
  }
  const resultsDir = join(RIG, 'results');
  mkdirSync(resultsDir, { recursive: true });
  console.log(`rig: kernel ${version} (era ${era}), ${topologies.length} topologies, guest entry ${entry}`);

  let total = emptyTally();
  const summary: Record<string, unknown>[] = [];
  const started = Date.now();
  const ranAt = new Date(started).toISOString().slice(0, 10);
  const qemu = qemuVersion();
  for (const t of topologies) {
    const { run: scenarios, left } = selectScenarios(t, scan.scenarios, era);
    const remaining = args.budgetMs - (Date.now() - started);
    if (remaining < MIN_BOOT_MS) {
      const tally = tallyBoot(t.name, scenarios, null, 'not started: the time budget is spent');
      total = addTally(total, tally);
      console.log(`\n${t.name}: not started (time budget of ${args.budgetMs / 1000} s spent)`);
      summary.push({
        topology: t.name,
        scenarios: scenarios.length,
        failed: tally.failed,
        problem: 'not started',
      });
      continue;
    }
    const outcome = await bootTopology(t, scenarios, {
      kernel: `/boot/vmlinuz-${version}`,
      initrd: join(RIG, 'initramfs.cpio.gz'),
      repo: REPO,
      entry,
      node: process.execPath,
      resultsDir,
      timeoutMs: Math.min(args.timeoutMs, remaining),
      qemu: 'qemu-system-x86_64',
    });
    const tally = tallyBoot(t.name, scenarios, outcome.results, outcome.problem, {
      timingAdvisory: args.timingAdvisory,
    });
    const differential = differentialTally(t.name, outcome, args.timingAdvisory);
    total = addTally(addTally(total, tally), differential);
    const diffs = t.example ? modelDifferences(join(REPO, t.example), outcome) : [];
    report(t.name, outcome, tally, diffs);
    if (outcome.results)
      console.log(
        `  simulator on the guest's dump: ${differential.failed === 0 ? 'agrees on every step' : `${differential.failed} disagreements`}`,
      );
    for (const l of left) console.log(`  not run: ${l.file} — ${l.why}`);
    summary.push({
      topology: t.name,
      bootAndRunMs: Math.round(outcome.ms),
      nodeStartMs: Math.round(outcome.results?.timings.nodeStartMs ?? 0),
      scenariosMs: Math.round(outcome.results?.timings.scenariosMs ?? 0),
      scenarios: scenarios.length,
      passed: tally.passed,
      failed: tally.failed,
      skipped: tally.skipped,
      problem: outcome.problem,
      notRun: left,
      modelDifferences: diffs,
    });
  }
  const totalMs = Date.now() - started;
  writeFileSync(
    join(resultsDir, 'summary.json'),
    toJson({ kernel: version, ranAt, qemu, totalMs, topologies: summary }),
  );
  if (args.only === null) {
    const r = writeConformanceReport(resultsDir, join(REPO, 'docs/conformance.md'));
    console.log(
      `rig: docs/conformance.md: ${r.steps} steps compared, ${r.agreeing} agree, ${r.disagreeing} disagree, ${r.uncompared} runs not compared`,
    );
  }
  console.log(
    `\nrig: ${topologies.length} topologies in ${(totalMs / 1000).toFixed(1)} s; details in .rig/results/`,
  );
  if (total.advisories.length > 0) {
    console.log('\ntiming misses (advisory, not counted as failures):');
    for (const f of total.advisories) console.log(`  ${f}`);
  }
  if (total.failures.length > 0) {
    console.log('\nfailures:');
    for (const f of total.failures) console.log(`  ${f}`);
  }
  console.log(closingLine(total));
  return total.failed > 0 ? 1 : 0;
}

function modelDifferences(example: string, o: BootOutcome): string[] {
  const dump = join(o.outDir, 'sysfs');
  if (!existsSync(join(dump, 'bus/pci/devices'))) return [];
  try {
    const sim = new SimKernel(loadTopologyFile(example), { era: '6.1' });
    return differencesText(compareSysfs(sim.sysfs, new DirSysfsReader(dump)));
  } catch (e) {
    return [`comparison failed: ${firstLine(e)}`];
  }
}

/**
 * The differential verdict of one boot as a tally: every step where the simulator, loaded with the
 * guest's dump, disagrees with the kernel is a failure (counted on top of the kernel's own).
 */
function differentialTally(
  name: string,
  o: BootOutcome,
  timingAdvisory: boolean,
): ReturnType<typeof emptyTally> {
  const t = emptyTally();
  if (!o.results) return t;
  const cmp = compareTopologyRun(REPO, o.outDir, o.results);
  writeFileSync(join(o.outDir, 'differential.json'), toJson(cmp));
  if (agrees(cmp)) return t;
  for (const s of cmp.scenarios) {
    if (s.error !== null) {
      t.failed++;
      t.failures.push(`${name} ${s.file}: differential: ${s.error}`);
    }
    for (const st of s.steps) {
      if (st.disagreements.length === 0) continue;
      const line = `${name} ${s.file} step ${st.index + 1} (${st.text}): simulator disagrees: ${JSON.stringify(st.disagreements)}`;
      if (timingAdvisory && st.disagreements.every((d) => d.kind === 'duration')) t.advisories.push(line);
      else {
        t.failed++;
        t.failures.push(line);
      }
    }
  }
  return t;
}

function qemuVersion(): string | null {
  const r = spawnSync('qemu-system-x86_64', ['--version'], { encoding: 'utf8' });
  return /version (\S+)/.exec(r.stdout ?? '')?.[1] ?? null;
}

function report(name: string, o: BootOutcome, t: ReturnType<typeof emptyTally>, diffs: string[]): void {
  const r = o.results;
  const timing = r
    ? `node start ${(r.timings.nodeStartMs / 1000).toFixed(1)} s, scenarios ${(r.timings.scenariosMs / 1000).toFixed(1)} s`
    : 'no guest timings';
  console.log(
    `\n${name}: ${closingLine(t)} — ${o.scenarios.length} scenarios, boot+run ${(o.ms / 1000).toFixed(1)} s (${timing})`,
  );
  if (o.problem) console.log(`  problem: ${o.problem}`);
  if (r) console.log(`  kernel ${r.kernel}`);
  for (const d of diffs) console.log(`  model: ${d}`);
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (e) => {
    console.error(e instanceof Error ? (e.stack ?? e.message) : String(e));
    process.exitCode = 1;
  },
);
