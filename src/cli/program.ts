/**
 * `vfio-reset`: the root command and its global options. Each command registers itself from its
 * own file under `commands/` (name, options, help: commander and types only); its work is in
 * `actions/`, imported when the command runs, so a run loads only what its command needs (a scan
 * of a real host loads neither the simulator nor zod and yaml). The actions open the chosen host
 * through the kernel boundary, ask `host/`, `vfio/` or `scenario/` for data and hand it to `render/`.
 * @module
 */

import { Command, CommanderError, Option } from '@commander-js/extra-typings';
import { ERAS, type Era } from '../pci/era.ts';
import { registerBind } from './commands/bind.ts';
import { registerDemo } from './commands/demo.ts';
import { registerDump } from './commands/dump.ts';
import { registerImportLspci } from './commands/import-lspci.ts';
import { registerInfo } from './commands/info.ts';
import { registerPlan } from './commands/plan.ts';
import { registerReset } from './commands/reset.ts';
import { registerRestore } from './commands/restore.ts';
import { registerRun } from './commands/run.ts';
import { registerScan } from './commands/scan.ts';
import { registerServe } from './commands/serve.ts';
import { registerSnapshot } from './commands/snapshot.ts';
import type { CommandContext, Globals, RegisterCommand } from './context.ts';
import { toFailure } from './errors.ts';
import { type CliIo, currentIo, json, processIo, setIo } from './io.ts';

export type { CliIo } from './io.ts';

/** In the order `--help` lists them. */
const COMMANDS: RegisterCommand[] = [
  registerScan,
  registerInfo,
  registerDump,
  registerSnapshot,
  registerImportLspci,
  registerPlan,
  registerBind,
  registerRestore,
  registerReset,
  registerRun,
  registerServe,
  registerDemo,
];

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
    .option(
      '--pci-ids <file>',
      'device names from this pci.ids (default: /usr/share/misc/pci.ids or /usr/share/hwdata/pci.ids)',
    )
    .exitOverride()
    .configureOutput({ writeOut: (s) => currentIo().stdout(s), writeErr: (s) => currentIo().stderr(s) });
  const ctx: CommandContext = {
    globals: () => p.opts() as Globals,
    hostGiven: () => p.getOptionValueSource('host') === 'cli',
    act:
      <A extends unknown[]>(name: string, f: (...a: A) => number | Promise<number>) =>
      async (...a: A) => {
        state.command = name;
        state.exit = await f(...a);
      },
  };
  for (const register of COMMANDS) register(p, ctx);
  return p;
}

/**
 * Async because each command's action is imported when it runs. One run at a time in a process:
 * output goes through io.ts's one current `CliIo`, so runs awaited side by side would mix it.
 */
export async function main(argv: string[], runIo: CliIo = processIo): Promise<number> {
  setIo(runIo);
  const state = { command: 'vfio-reset', exit: 0 };
  const p = program(state);
  try {
    await p.parseAsync(argv, { from: 'user' });
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
    if ((p.opts() as Globals).json)
      json((await import('../render/json.ts')).errorDocument(state.command, f.code, f.message));
    else runIo.stderr(`vfio-reset: ${f.message}\n`);
    return f.exitCode;
  }
}
