/**
 * What every command shares: the global options and the few lookups each command's action needs
 * (the chosen host, its inventory, one function by BDF, a new output file). Output goes through
 * io.ts. Commands register one per file in `commands/` and get `CommandContext`; their work is in
 * `actions/`, loaded only when the command runs.
 * @module
 */

import { writeFileSync } from 'node:fs';
import type { Command } from '@commander-js/extra-typings';
import { type Inventory, takeInventory } from '../host/inventory.ts';
import { formatBdf, parseBdf } from '../pci/bdf.ts';
import type { Era } from '../pci/era.ts';
import type { SimKernel } from '../sim/kernel.ts';
import { CommandError } from './errors.ts';
import { type OpenedHost, openHost, parseHostSpec } from './host-spec.ts';

export interface Globals {
  host: string;
  era: Era;
  json: boolean;
  /** `--pci-ids <file>`: names from this file instead of the system pci.ids. */
  pciIds?: string;
}

/** What `program.ts` hands each command's `register`. */
export interface CommandContext {
  globals(): Globals;
  /** True when the user gave --host (rather than its default). */
  hostGiven(): boolean;
  /** Wraps an action so its name and exit status reach `main` (commander awaits it: `parseAsync`). */
  act<A extends unknown[]>(
    name: string,
    f: (...a: A) => number | Promise<number>,
  ): (...a: A) => Promise<void>;
}

export type RegisterCommand = (p: Command, ctx: CommandContext) => void;

/**
 * What becomes of each simulated kernel a command boots: by default it is used as booted. Tests set
 * a hook to inject a fault first, to let another process hold a group, or to hand back one kernel
 * for several commands in a row (a host that stays up between a plan and a reset).
 */
let simHook: ((booted: SimKernel) => SimKernel) | null = null;
export function setSimHook(hook: ((booted: SimKernel) => SimKernel) | null): void {
  simHook = hook;
}

/** Async: a `sim:` host loads the simulator and the topology loader first (a `linux` host needs neither). */
export async function openGlobalHost(g: Globals): Promise<OpenedHost> {
  const opened = await openHost(parseHostSpec(g.host), g.era);
  if (!opened.sim || !simHook) return opened;
  const sim = simHook(opened.sim);
  return { ...opened, sim, reader: sim.sysfs };
}

export function inventoryOf(g: Globals, opened: OpenedHost): Inventory {
  return takeInventory(opened.reader, {
    era: g.era,
    origin: opened.origin,
    ...(opened.sim ? { name: opened.sim.host.name } : {}),
  });
}

/** The function at `bdfText`; `lister` is what the error points to for the list (the page names its API). */
export function findFunction(inv: Inventory, bdfText: string, lister = "'vfio-reset scan'") {
  const bdf = formatBdf(parseBdf(bdfText));
  const f = inv.functions.find((x) => x.bdf === bdf);
  if (!f)
    throw new CommandError(
      'VFIO_RESET_E_NO_DEVICE',
      `${bdf} is not on host ${inv.host} (${inv.origin}); ${lister} lists the functions`,
    );
  return f;
}

/** Writes a new file; an existing one is refused rather than overwritten (nothing is lost). */
export function writeNewFile(path: string, text: string): void {
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

/** Commands that bind, unbind or reset run a real kernel only inside the rig. */
export function requireSim(opened: OpenedHost, what: string): SimKernel {
  if (opened.sim) return opened.sim;
  throw new CommandError(
    'VFIO_RESET_E_UNSUPPORTED',
    `${what} binds, unbinds and resets devices, so on a real kernel it runs only inside the QEMU guest rig (npm run test:kernel); on ${opened.origin}, run it on a simulated copy: 'vfio-reset --host linux dump -o host.d' then '--host sim:host.d'`,
  );
}
