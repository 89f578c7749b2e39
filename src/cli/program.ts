/**
 * `vfio-reset`: wiring only. Each command opens the chosen host through the kernel boundary,
 * asks `host/`, `vfio/` or `scenario/` for data and hands it to `render/`.
 * @module
 */

import { writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { basename, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Command, CommanderError, Option } from '@commander-js/extra-typings';
import { snapshotHost } from '../capture/snapshot.ts';
import { writeSysfsDump } from '../host/dump.ts';
import { type Inventory, takeInventory } from '../host/inventory.ts';
import { openLinuxHost } from '../linux/host.ts';
import { checkDestructive, UnsafeOperationError } from '../linux/safety.ts';
import { formatBdf, parseBdf } from '../pci/bdf.ts';
import { ERAS, type Era } from '../pci/era.ts';
import { errorDocument, infoDocument, scanDocument } from '../render/json.ts';
import { type ResetRun, renderResetPlan, renderResetText, resetDocument } from '../render/reset.ts';
import { renderScenarioNdjson, renderScenarioText } from '../render/scenario.ts';
import { renderInfo, renderScan } from '../render/text.ts';
import { loadScenarioFile } from '../scenario/load.ts';
import { runScenario } from '../scenario/run.ts';
import { simTarget } from '../scenario/targets.ts';
import { SimKernel } from '../sim/kernel.ts';
import { loadTopologyFile } from '../topology/load.ts';
import { loadLspciFile } from '../topology/lspci.ts';
import { writeTopology } from '../topology/write.ts';
import { type ResetMethodChoice, resetDevice, type SessionMode } from '../vfio/reset-device.ts';
import { runDemo } from './demo.ts';
import { CommandError, toFailure } from './errors.ts';
import { type OpenedHost, openHost, parseHostSpec } from './host-spec.ts';

interface Globals {
  host: string;
  era: Era;
  json: boolean;
}

/** Where a run writes; tests pass their own to capture output. */
export interface CliIo {
  stdout: (s: string) => void;
  stderr: (s: string) => void;
}

const processIo: CliIo = { stdout: (s) => process.stdout.write(s), stderr: (s) => process.stderr.write(s) };
let io: CliIo = processIo;
const out = (s: string) => io.stdout(s);
const json = (doc: unknown) => out(`${JSON.stringify(doc, null, 2)}\n`);

function inventoryOf(g: Globals, opened = openHost(parseHostSpec(g.host), g.era)): Inventory {
  return takeInventory(opened.reader, {
    era: g.era,
    origin: opened.origin,
    ...(opened.sim ? { name: opened.sim.host.name } : {}),
  });
}

function findFunction(inv: Inventory, bdfText: string) {
  const bdf = formatBdf(parseBdf(bdfText));
  const f = inv.functions.find((x) => x.bdf === bdf);
  if (!f)
    throw new CommandError(
      'VFIO_RESET_E_NO_DEVICE',
      `${bdf} is not on host ${inv.host} (${inv.origin}); 'vfio-reset scan' lists the functions`,
    );
  return f;
}

function scan(g: Globals): number {
  const inv = inventoryOf(g);
  if (g.json) json(scanDocument(inv));
  else out(renderScan(inv));
  return 0;
}

function info(g: Globals, bdfText: string): number {
  const inv = inventoryOf(g);
  const f = findFunction(inv, bdfText);
  if (g.json) json(infoDocument(inv, f));
  else out(renderInfo(inv, f));
  return 0;
}

function dump(g: Globals, dir: string): number {
  const opened = openHost(parseHostSpec(g.host), g.era);
  const s = writeSysfsDump(opened.reader, dir);
  if (g.json) json({ schemaVersion: 1, command: 'dump', ok: true, ...s });
  else {
    out(
      `wrote ${s.functions} functions (${s.files} files, ${s.links} links) from ${opened.origin} to ${s.dir}\n`,
    );
    if (s.partialConfig.length > 0) {
      out(
        `note: config space of ${s.partialConfig.length} functions was cut to 64 bytes (not root); capabilities will be unknown\n`,
      );
    }
  }
  return 0;
}

/** Captures a host as a topology file and reports where the simulator disagrees with its sysfs. */
function snapshot(g: Globals, output: string): number {
  const opened = openHost(parseHostSpec(g.host), g.era);
  const s = snapshotHost(opened.reader, {
    era: g.era,
    name: opened.sim?.host.name ?? hostname(),
    from: opened.origin,
    at: new Date().toISOString(),
  });
  writeNewFile(output, s.yaml);
  if (g.json) {
    json({
      schemaVersion: 1,
      command: 'snapshot',
      ok: true,
      output,
      differences: s.differences,
      losses: s.losses,
      warnings: s.warnings,
    });
    return 0;
  }
  out(`wrote ${output}: ${s.desc.functions.length} functions from ${opened.origin}\n`);
  if (s.differences.length === 0)
    out(
      'the simulator, loaded with it, computes the same IOMMU groups and reset methods as the host shows\n',
    );
  else {
    out(
      `the simulator, loaded with it, differs from the host in ${s.differences.length} place${s.differences.length === 1 ? '' : 's'}:\n`,
    );
    for (const d of s.differences)
      out(
        `  ${d.bdf}  ${d.what}: host ${JSON.stringify(d.host)}, simulated ${JSON.stringify(d.simulated)}\n`,
      );
  }
  for (const w of [...s.warnings, ...s.losses.map((l) => (typeof l === 'string' ? l : JSON.stringify(l)))])
    out(`note: ${w}\n`);
  return 0;
}

/** Imports an `lspci -xxxx` dump as a topology file; groups and reset methods are left to the model. */
function importLspci(g: Globals, dump: string, output: string): number {
  const { host, warnings } = loadLspciFile(dump, { name: basename(dump) });
  const { yaml, losses } = writeTopology(host, {
    header: [`Imported from ${dump} (lspci -xxxx) at ${new Date().toISOString()}`],
  });
  writeNewFile(output, yaml);
  if (g.json)
    json({
      schemaVersion: 1,
      command: 'import-lspci',
      ok: true,
      output,
      functions: host.functions.length,
      warnings,
      losses,
    });
  else {
    out(`wrote ${output}: ${host.functions.length} functions from ${dump}\n`);
    for (const w of warnings) out(`note: ${w}\n`);
  }
  return 0;
}

/** Writes a new file; an existing one is refused rather than overwritten (nothing is lost). */
function writeNewFile(path: string, text: string): void {
  try {
    writeFileSync(path, text, { flag: 'wx' });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new CommandError(
      'VFIO_RESET_E_OUTPUT',
      code === 'EEXIST'
        ? `${path} already exists; choose another name or remove it`
        : `cannot write ${path}: ${code ?? String(e)}`,
    );
  }
}

/** A reset through VFIO. Nothing happens without --yes: the default is the dry-run plan. */
function reset(
  g: Globals,
  bdfText: string,
  method: ResetMethodChoice,
  yes: boolean,
  mode: SessionMode,
): number {
  const opened = openHost(parseHostSpec(g.host), g.era);
  const inv = inventoryOf(g, opened);
  const f = findFunction(inv, bdfText);
  if (!yes) {
    if (g.json)
      json({
        schemaVersion: 1,
        command: 'reset',
        ok: true,
        dryRun: true,
        bdf: f.bdf,
        method,
        function: infoDocument(inv, f).function,
      });
    else out(renderResetPlan(inv, f, method));
    return 0;
  }
  let run: ResetRun;
  if (opened.sim) {
    const sim = opened.sim;
    const t0 = sim.clock.now();
    const mark = sim.log.length;
    const report = resetDevice(sim, f.bdf, method, () => sim.clock.now(), mode);
    run = {
      report,
      origin: opened.origin,
      durationMs: sim.clock.now() - t0,
      clock: 'virtual',
      events: sim.log.since(mark),
    };
  } else {
    // A real host: refuse unless the IOMMU is on, the device is where the user said, and nothing the
    // host needs (mounted storage, the boot GPU, the default route) shares its group or reset scope.
    const root = opened.spec.kind === 'linux' ? opened.spec.root : '/sys';
    const refusals = checkDestructive(root, '/proc', f.bdf);
    if (refusals.length > 0) throw new UnsafeOperationError(refusals);
    const host = openLinuxHost(root);
    const t0 = performance.now();
    const report = resetDevice(host, f.bdf, method, () => performance.now(), mode);
    run = { report, origin: opened.origin, durationMs: performance.now() - t0, clock: 'wall', events: [] };
  }
  if (g.json) json(resetDocument(run));
  else out(renderResetText(run));
  return run.report.ok ? 0 : 1;
}

function requireSim(opened: OpenedHost, what: string): SimKernel {
  if (opened.sim) return opened.sim;
  throw new CommandError(
    'VFIO_RESET_E_UNSUPPORTED',
    `${what} binds, unbinds and resets devices, so on a real kernel it runs only inside the QEMU guest rig (npm run test:kernel); on ${opened.origin}, run it on a simulated copy: 'vfio-reset --host linux dump -o host.d' then '--host sim:host.d'`,
  );
}

/** Runs a scenario file; its own `topology:` is simulated unless --host names another host. */
function run(g: Globals, file: string, hostGiven: boolean): number {
  const { scenario, dir } = loadScenarioFile(file);
  const era = scenario.era ?? g.era;
  let kernel: SimKernel;
  let origin: string;
  if (hostGiven || !scenario.topology) {
    const opened = openHost(parseHostSpec(g.host), era);
    kernel = requireSim(opened, 'running a scenario');
    origin = opened.origin;
  } else {
    const topo = resolve(dir, scenario.topology);
    kernel = new SimKernel(loadTopologyFile(topo), { era });
    origin = `sim:${topo}`;
  }
  const result = runScenario(simTarget(kernel), scenario);
  if (g.json) out(renderScenarioNdjson(result));
  else out(`host ${origin}, rules of Linux ${era}\n${renderScenarioText(result)}`);
  return result.failed === 0 ? 0 : 1;
}

function program(state: { command: string; exit: number }) {
  const p = new Command('vfio-reset')
    .description(
      'Inventory, planner, VFIO client and simulated kernel for Linux PCI reset and VFIO hot reset',
    )
    .addOption(
      new Option(
        '--host <spec>',
        'linux | linux:<sysfs-dir> | sim:<topology.yaml> | sim:<sysfs-dump-dir>',
      ).default('linux'),
    )
    .addOption(new Option('--era <era>', 'kernel rules to apply').choices(ERAS).default('6.1' as Era))
    .option('--json', 'machine-readable output on stdout', false)
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.stdout(s), writeErr: (s) => io.stderr(s) });
  const globals = (): Globals => p.opts() as Globals;
  const act =
    <A extends unknown[]>(name: string, f: (...a: A) => number) =>
    (...a: A) => {
      state.command = name;
      state.exit = f(...a);
    };

  p.command('scan')
    .description('the PCI tree with IOMMU group, driver, reset methods and hot-reset scope per function')
    .action(act('scan', () => scan(globals())));
  p.command('info')
    .description('reset methods, hot-reset scope, problems and what must be owned, for one function')
    .argument('<bdf>', 'function address, e.g. 0000:01:00.0 or 01:00.0')
    .action(act('info', (bdf: string) => info(globals(), bdf)));
  p.command('dump')
    .description(
      'write the sysfs files vfio-reset reads into a directory (capture a host, or a simulated one)',
    )
    .requiredOption('-o, --output <dir>', 'new or empty directory')
    .action(act('dump', (o: { output: string }) => dump(globals(), o.output)));
  p.command('snapshot')
    .description(
      'capture the host as a topology file the simulator loads, and report where the simulation differs',
    )
    .requiredOption('-o, --output <file>', 'new topology file (YAML)')
    .action(act('snapshot', (o: { output: string }) => snapshot(globals(), o.output)));
  p.command('import-lspci')
    .description('turn an `lspci -xxxx` (or -vvvxxxx) dump into a topology file')
    .argument('<dump>', 'text file with the dump')
    .requiredOption('-o, --output <file>', 'new topology file (YAML)')
    .action(
      act('import-lspci', (dump: string, o: { output: string }) => importLspci(globals(), dump, o.output)),
    );
  p.command('reset')
    .description('reset one function through VFIO (dry run unless --yes)')
    .argument('<bdf>', 'function address')
    .addOption(
      new Option('--method <method>', 'function: VFIO_DEVICE_RESET; hot: bus/slot reset; auto: QEMU’s policy')
        .choices(['function', 'hot', 'auto'] as const)
        .default('auto' as const),
    )
    .addOption(
      new Option(
        '--mode <mode>',
        'group: container + group fds; cdev: iommufd + empty fd array (6.6+); auto: cdev when the kernel offers it',
      )
        .choices(['auto', 'group', 'cdev'] as const)
        .default('auto' as const),
    )
    .option('--yes', 'really do it', false)
    .action(
      act('reset', (bdf: string, o: { method: ResetMethodChoice; yes: boolean; mode: SessionMode }) =>
        reset(globals(), bdf, o.method, o.yes, o.mode),
      ),
    );
  p.command('run')
    .description('run a scenario file step by step against the simulated kernel')
    .argument('<scenario>', 'scenario YAML file')
    .action(
      act('run', (file: string) => {
        const hostGiven = p.getOptionValueSource('host') === 'cli';
        return run(globals(), file, hostGiven);
      }),
    );
  p.command('demo')
    .description('what `npm start` runs: scan, info and simulated resets on the bundled workstation')
    .action(act('demo', () => runDemo(out)));
  return p;
}

export function main(argv: string[], runIo: CliIo = processIo): number {
  io = runIo;
  const state = { command: 'vfio-reset', exit: 0 };
  const p = program(state);
  try {
    p.parse(argv, { from: 'user' });
    return state.exit;
  } catch (e) {
    if (e instanceof CommanderError) {
      // Help and version are not failures; every other parse problem is a usage error (exit 2).
      if (
        e.code === 'commander.helpDisplayed' ||
        e.code === 'commander.version' ||
        e.code === 'commander.help'
      )
        return 0;
      return 2;
    }
    const f = toFailure(e);
    if ((p.opts() as Globals).json) json(errorDocument(state.command, f.code, f.message));
    else io.stderr(`vfio-reset: ${f.message}\n`);
    return f.exitCode;
  }
}
