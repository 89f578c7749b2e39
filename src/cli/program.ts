/**
 * `vfio-reset`: wiring only. Each command opens the chosen host through the kernel boundary,
 * asks `host/` for data and hands it to `render/`.
 * @module
 */

import { fileURLToPath } from 'node:url';
import { Command, CommanderError, Option } from '@commander-js/extra-typings';
import { writeSysfsDump } from '../host/dump.ts';
import { takeInventory } from '../host/inventory.ts';
import { formatBdf, parseBdf } from '../pci/bdf.ts';
import { ERAS, type Era } from '../pci/era.ts';
import { errorDocument, infoDocument, scanDocument } from '../render/json.ts';
import { renderInfo, renderScan } from '../render/text.ts';
import { CommandError, toFailure } from './errors.ts';
import { openHost, parseHostSpec } from './host-spec.ts';

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

function inventoryOf(g: Globals) {
  const opened = openHost(parseHostSpec(g.host), g.era);
  return takeInventory(opened.reader, opened.sim ? { era: g.era, name: opened.sim.name } : { era: g.era });
}

function scan(g: Globals): void {
  const inv = inventoryOf(g);
  if (g.json) json(scanDocument(inv));
  else out(renderScan(inv));
}

function info(g: Globals, bdfText: string): void {
  const bdf = formatBdf(parseBdf(bdfText));
  const inv = inventoryOf(g);
  const f = inv.functions.find((x) => x.bdf === bdf);
  if (!f)
    throw new CommandError(
      'VFIO_RESET_E_NO_DEVICE',
      `${bdf} is not on host ${inv.host} (${inv.origin}); 'vfio-reset scan' lists the functions`,
    );
  if (g.json) json(infoDocument(inv, f));
  else out(renderInfo(inv, f));
}

function dump(g: Globals, dir: string): void {
  const opened = openHost(parseHostSpec(g.host), g.era);
  const s = writeSysfsDump(opened.reader, dir);
  if (g.json) json({ schemaVersion: 1, command: 'dump', ok: true, ...s });
  else {
    out(
      `wrote ${s.functions} functions (${s.files} files, ${s.links} links) from ${opened.reader.origin} to ${s.dir}\n`,
    );
    if (s.partialConfig.length > 0) {
      out(
        `note: config space of ${s.partialConfig.length} functions was cut to 64 bytes (not root); capabilities will be unknown\n`,
      );
    }
  }
}

const EXAMPLE = fileURLToPath(new URL('../../examples/workstation.yaml', import.meta.url));

function demo(g: Globals): void {
  const demoHost = { ...g, host: g.host === 'linux' ? `sim:${EXAMPLE}` : g.host };
  out(`$ vfio-reset --host sim:examples/workstation.yaml scan\n`);
  scan(demoHost);
  for (const bdf of ['0000:01:00.0', '0000:05:00.0']) {
    out(`\n$ vfio-reset --host sim:examples/workstation.yaml info ${bdf}\n`);
    info(demoHost, bdf);
  }
}

function program(run: { command: string }) {
  const p = new Command('vfio-reset')
    .description('Inventory, planner and simulator for Linux PCI reset and VFIO hot reset')
    .addOption(
      new Option(
        '--host <spec>',
        'linux | linux:<sysfs-dir> | sim:<topology.yaml> | sim:<sysfs-dump-dir>',
      ).default('linux'),
    )
    .addOption(new Option('--era <era>', 'kernel rules to apply').choices(ERAS).default('6.1' as Era))
    .option('--json', 'one JSON document on stdout', false)
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.stdout(s), writeErr: (s) => io.stderr(s) });
  const globals = (): Globals => p.opts() as Globals;

  p.command('scan')
    .description('the PCI tree with IOMMU group, driver, reset methods and hot-reset scope per function')
    .action(() => {
      run.command = 'scan';
      scan(globals());
    });
  p.command('info')
    .description('reset methods, hot-reset scope, problems and what must be owned, for one function')
    .argument('<bdf>', 'function address, e.g. 0000:01:00.0 or 01:00.0')
    .action((bdf) => {
      run.command = 'info';
      info(globals(), bdf);
    });
  p.command('dump')
    .description(
      'write the sysfs files vfio-reset reads into a directory (capture a host, or a simulated one)',
    )
    .requiredOption('-o, --output <dir>', 'new or empty directory')
    .action((o) => {
      run.command = 'dump';
      dump(globals(), o.output);
    });
  p.command('demo')
    .description('scan and info on the bundled workstation example (what `npm start` runs)')
    .action(() => {
      run.command = 'demo';
      demo(globals());
    });
  return p;
}

export function main(argv: string[], runIo: CliIo = processIo): number {
  io = runIo;
  const run = { command: 'vfio-reset' };
  const p = program(run);
  try {
    p.parse(argv, { from: 'user' });
    return 0;
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
    if ((p.opts() as Globals).json) json(errorDocument(run.command, f.code, f.message));
    else io.stderr(`vfio-reset: ${f.message}\n`);
    return f.exitCode;
  }
}
