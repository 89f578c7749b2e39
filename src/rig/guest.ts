/**
 * The guest side of the rig; runs as root inside the QEMU guest (chrooted into the host's root,
 * shared read-only), never on the host: it refuses to start unless the kernel command line
 * carries the rig's `rig.repo=` marker. Given the job (`job.json` in the results export):
 *
 * 1. creates SR-IOV VFs and binds the job's functions (vfio-pci or a host driver);
 * 2. writes a sysfs dump of the guest (`sysfs.tar`) and every function's driver, group and
 *    `reset_method`;
 * 3. warms up: runs every scenario once on a simulated twin built from that dump, and makes a
 *    few harmless VFIO calls (API version, extension checks) — under TCG the first run of a code
 *    path in node costs 100–400 ms of JIT, which would otherwise land in a step's duration;
 * 4. runs each scenario against the real kernel, wall-clock timed, recording the kernel log
 *    lines it caused; after each, closes the fds it left open and puts drivers back;
 * 5. writes `results.json` — always, also after an internal error (then with `errors`).
 *
 *   node .rig/guest.mjs /tmp/out/job.json         (what rig/init.sh runs)
 * @module
 */

import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { release, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { writeSysfsDump } from '../host/dump.ts';
import { readSysfsHost } from '../host/read-sysfs.ts';
import { openLinuxHost } from '../linux/host.ts';
import { DirSysfsReader } from '../linux/sysfs-reader.ts';
import { loadScenarioFile } from '../scenario/load.ts';
import { runScenario } from '../scenario/run.ts';
import { simTarget, wallClockTarget } from '../scenario/targets.ts';
import { SimKernel } from '../sim/kernel.ts';
import { VFIO } from '../uapi/ioctl.ts';
import { closeLeftovers, errText, GuestSysfs, openFds } from './guest-sysfs.ts';
import { type GuestResults, JOB_VERSION, type Job, parseJob, type ScenarioRun, toJson } from './job.ts';
import { KernelLog } from './kmsg.ts';

function main(jobPath: string): number {
  const nodeStartMs = process.uptime() * 1000;
  const cmdline = readFileSync('/proc/cmdline', 'utf8').trim();
  if (!/(^|\s)rig\.repo=/.test(cmdline)) {
    console.error(
      'guest.ts: not in a rig guest (no rig.repo= on the kernel command line); refusing to bind or reset anything',
    );
    return 2;
  }
  const job = parseJob(readFileSync(jobPath, 'utf8'));
  const results: GuestResults = {
    version: JOB_VERSION,
    topology: job.topology,
    kernel: release(),
    cmdline,
    timings: { nodeStartMs, setupMs: 0, dumpMs: 0, scenariosMs: 0 },
    setup: [],
    dump: { error: 'not written' },
    state: [],
    scenarios: [],
    bootKmsg: [],
    errors: [],
  };
  const save = () => writeFileSync(join(job.out, 'results.json'), toJson(results));
  try {
    run(job, results, save);
  } catch (e) {
    results.errors.push(e instanceof Error ? (e.stack ?? e.message) : String(e));
  }
  save();
  return results.errors.length > 0 ? 1 : 0;
}

function run(job: Job, results: GuestResults, save: () => void): void {
  const sysfs = new GuestSysfs('/sys');
  const kmsg = new KernelLog();

  let t = performance.now();
  results.setup = sysfs.setup(job);
  results.timings.setupMs = performance.now() - t;
  results.state = sysfs.functions().map((b) => sysfs.state(b));

  t = performance.now();
  let dumpDir: string | null = null;
  try {
    // Written on the guest's tmpfs and sent as one tar: file by file over 9p took 3–30 s.
    const tmp = mkdtempSync(join(tmpdir(), 'rig-dump-'));
    const d = writeSysfsDump(new DirSysfsReader('/sys'), join(tmp, 'sysfs'));
    const tar = spawnSync('tar', ['-C', tmp, '-cf', join(job.out, 'sysfs.tar'), 'sysfs'], {
      encoding: 'utf8',
    });
    if (tar.status !== 0) throw new Error(`tar: ${tar.stderr || tar.error?.message || `exit ${tar.status}`}`);
    results.dump = { functions: d.functions, files: d.files, links: d.links };
    dumpDir = join(tmp, 'sysfs');
  } catch (e) {
    results.dump = { error: errText(e) };
  }
  results.timings.dumpMs = performance.now() - t;

  t = performance.now();
  warmUp(job, dumpDir);
  results.timings.warmupMs = performance.now() - t;
  results.bootKmsg = kmsg.drain();
  save();

  const started = performance.now();
  for (const file of job.scenarios) {
    results.scenarios.push(runOne(job, file, sysfs, kmsg, results));
    save(); // a crash later still leaves the scenarios done so far
  }
  results.timings.scenariosMs = performance.now() - started;
}

/**
 * Runs each scenario once on a simulated twin and makes a few VFIO calls that touch no device, so
 * that JIT compilation of the scenario runner, the codecs and the ioctl path happens before any
 * step is timed. Failures here are irrelevant (the real run reports its own).
 */
function warmUp(job: Job, dumpDir: string | null): void {
  if (dumpDir !== null) {
    const desc = readSysfsHost(new DirSysfsReader(dumpDir), dumpDir).desc;
    for (const file of job.scenarios) {
      try {
        runScenario(simTarget(new SimKernel(desc, { era: '6.1' })), loadScenarioFile(file).scenario);
      } catch {
        // a scenario the twin cannot run is still warmed up to where it stopped
      }
    }
  }
  const { sys } = openLinuxHost('/sys');
  for (let i = 0; i < 20; i++) {
    const c = sys.open('/dev/vfio/vfio');
    try {
      sys.ioctl(c, VFIO.GET_API_VERSION);
      sys.ioctl(c, VFIO.CHECK_EXTENSION, 1);
    } finally {
      sys.close(c);
    }
  }
}

function runOne(
  job: Job,
  file: string,
  sysfs: GuestSysfs,
  kmsg: KernelLog,
  results: GuestResults,
): ScenarioRun {
  const run: ScenarioRun = { file, name: null, ms: 0, result: null, error: null, kmsg: [], restored: [] };
  const fdsBefore = openFds();
  const t = performance.now();
  try {
    const { scenario } = loadScenarioFile(file);
    run.name = scenario.name;
    // A fresh host per scenario: the backend's per-fd bookkeeping starts empty, like the fd table.
    run.result = runScenario(wallClockTarget(openLinuxHost('/sys')), scenario);
  } catch (e) {
    run.error = e instanceof Error ? e.message : String(e);
  }
  run.ms = performance.now() - t;
  run.restored.push(...closeLeftovers(fdsBefore));
  run.restored.push(...sysfs.restore(job, results.state));
  run.kmsg = kmsg.drain();
  return run;
}

const jobPath = process.argv[2];
if (!jobPath) {
  console.error('usage: guest.ts <job.json>');
  process.exitCode = 2;
} else {
  process.exitCode = main(jobPath);
}
