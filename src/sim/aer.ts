/**
 * Uncorrectable PCIe errors (AER) and their recovery, injected as a fault on one function.
 *
 * What happens, in the order Linux does it (drivers/pci/pcie/aer.c `aer_isr_one_error` /
 * `aer_print_error`, drivers/pci/pcie/err.c `pcie_do_recovery`, 6.1 wording):
 * 1. The Root Port's AER service logs the message and the error (`pcieport …: AER: Uncorrected
 *    (Non-Fatal) error received: <bdf>`, then `PCIe Bus Error: severity=…`, the status/mask and
 *    the error bit). The simulated error is a Completion Timeout (bit 14): the device stopped
 *    answering, so from now on its config reads return all-ones (`config` in sysfs reads 0xff;
 *    a pm reset sees No_Soft_Reset set and fails ENOTTY; an FLR first times out on Transactions
 *    Pending). Only a reset of the function clears it (`SimPciCore.physicalReset`).
 * 2. `error_detected` is broadcast to every function below the reporting port (the port above the
 *    function, or the function itself when it is one): vfio-pci (`vfio_pci_core_aer_err_detected`)
 *    signals the device's ERR eventfd, if the user set one (VFIO_PCI_ERR_IRQ_INDEX), and answers
 *    CAN_RECOVER: recovering is the user's job, by a function or hot reset — the host does not
 *    touch the device. A host driver with error handlers recovers its own device.
 * 3. A function whose driver has no `error_detected` logs `AER: can't recover (no error_detected
 *    callback)`. Mainline AER then gives up ("device recovery failed"); the simulator recovers
 *    such functions as powerpc EEH does for drivers without handlers (`eeh_handle_normal_event`
 *    removes them, resets, and adds them back) and as 4.18's `pcie_do_fatal_recovery` did:
 *    unbind the driver, `pci_reset_function`, bind it again. The port then logs "AER: device
 *    recovery successful", or "failed" when the reset did not work (the functions are left unbound).
 *    The reset is `pci_reset_bus` below the port (slot reset when the slot can, else bus reset),
 *    which also resets the other functions there — as EEH's PE reset does.
 *
 * Only non-fatal errors of endpoints below a root or downstream port are modelled (no RCEC, no
 * DPC, no fatal link reset). kernel-semantics.md has no AER rules; the sources above are cited.
 * @module
 */

import { hex } from '../pci/bdf.ts';
import { isVfioDriver } from '../pci/drivers.ts';
import { isDownstreamPort } from '../pci/model.ts';
import { busScope } from '../pci/reset-scope.ts';
import { type PciFunction, Topology } from '../pci/topology.ts';
import { signalEventfd } from './eventfd.ts';
import type { SimHost } from './host.ts';
import type { PciCore } from './pci-core.ts';
import { devicePath } from './sysfs.ts';
import { probeDriver, unbindDriver } from './vfio/bind.ts';
import type { KernelCtx } from './vfio/model.ts';
import type { Vfs } from './vfs.ts';

/** PCI_ERR_UNC_COMP_TIME: the error the simulator injects. */
const COMPLETION_TIMEOUT = { bit: 14, name: 'CmpltTO' } as const;

/**
 * Host drivers whose `pci_driver.err_handler` has `error_detected` (checked in their sources:
 * nvme, e1000, e1000e, igb, ixgbe, i40e, ice, tg3, bnxt_en, mlx5_core, amdgpu, qla2xxx, lpfc,
 * megaraid_sas, mpt3sas; pcieport for ports). Any other driver — snd_hda_intel, xhci_hcd, ahci,
 * firewire_ohci, nvidia … — has none.
 */
const DRIVERS_WITH_ERROR_HANDLERS: ReadonlySet<string> = new Set([
  'nvme',
  'e1000',
  'e1000e',
  'igb',
  'ixgbe',
  'i40e',
  'ice',
  'tg3',
  'bnxt_en',
  'mlx5_core',
  'amdgpu',
  'qla2xxx',
  'lpfc',
  'megaraid_sas',
  'mpt3sas',
  'pcieport',
]);

export function hasErrorHandlers(driver: string | null): boolean {
  return driver !== null && (isVfioDriver(driver) || DRIVERS_WITH_ERROR_HANDLERS.has(driver));
}

/** How one function below the reporting port took the error. */
export type AerOutcome =
  | { bdf: string; how: 'vfio'; signalled: boolean }
  | { bdf: string; how: 'driver'; driver: string }
  /** Unbound, reset with everything below the port (`reset`: "slot reset", "bus reset"), bound again. */
  | { bdf: string; how: 'rebound'; driver: string | null; reset: string }
  | { bdf: string; how: 'failed'; driver: string | null; reset: string };

export interface AerReport {
  bdf: string;
  port: string;
  outcomes: AerOutcome[];
  recovered: boolean;
}

/** Sysfs `config` of every function reads all-ones while the function is in error. */
export function installErrorReads(vfs: Vfs, host: SimHost, pci: PciCore): void {
  for (const f of host.topology.functions) {
    const path = `${devicePath(f)}/config`;
    // Wrapped, not read: the image is built at its first read, and the all-ones one only when needed.
    const normal = vfs.reader(path);
    let ones: Uint8Array | undefined;
    vfs.file(path, () => {
      const bytes = normal();
      if (!pci.state(f.name).uncorrectable) return bytes;
      ones ??= new Uint8Array(bytes.length).fill(0xff);
      return ones;
    });
  }
}

function reportingPort(fn: PciFunction): PciFunction {
  const port = fn.bus.self;
  if (fn.desc.header !== 'normal')
    throw new Error(`${fn.name} is a bridge: the simulator injects AER errors on endpoints only`);
  if (!fn.desc.pcie) throw new Error(`${fn.name} is conventional PCI: AER errors come from PCIe functions`);
  if (!port || !isDownstreamPort(port.desc))
    throw new Error(
      `${fn.name} has no root or downstream port above it (root-bus functions report through an RCEC, which the simulator does not model)`,
    );
  return port;
}

/** The Root Port whose AER service receives the error message. */
function rootPortOf(fn: PciFunction): PciFunction {
  return Topology.upstreamBridges(fn).find((b) => b.desc.pcie?.type === 'root-port') ?? fn.bus.self!;
}

/** Injects an uncorrectable non-fatal error on `bdf` and runs the recovery; returns what each function did. */
export function injectAer(ctx: KernelCtx, bdf: string): AerReport {
  const fn = ctx.host.topology.get(bdf);
  if (!fn || fn.name !== bdf) throw new Error(`no PCI function ${bdf} on host ${ctx.host.name}`);
  if (!ctx.pci.state(bdf).present) throw new Error(`${bdf} is not present (hot-removed)`);
  const port = reportingPort(fn);
  const drv = (f: PciFunction) => ctx.host.state(f.name)!.driver;
  const say = (f: PciFunction, text: string, level: 'info' | 'warn' | 'err' = 'err') =>
    ctx.log.print(level, f.name, text, drv(f) ?? 'pci');

  ctx.pci.state(bdf).uncorrectable = { atMs: ctx.clock.now(), status: 1 << COMPLETION_TIMEOUT.bit };
  const root = rootPortOf(fn);
  say(root, `AER: Uncorrected (Non-Fatal) error received: ${bdf}`);
  say(fn, 'PCIe Bus Error: severity=Uncorrected (Non-Fatal), type=Transaction Layer, (Requester ID)');
  say(
    fn,
    `  device [${hex(fn.desc.vendor, 4)}:${hex(fn.desc.device, 4)}] error status/mask=${hex(1 << COMPLETION_TIMEOUT.bit, 8)}/00000000`,
  );
  say(fn, `   [${String(COMPLETION_TIMEOUT.bit).padStart(2)}] ${COMPLETION_TIMEOUT.name.padEnd(22)} (First)`);

  // error_detected, broadcast below the port (pci_walk_bridge).
  const below = busScope(port.subordinate!).filter((g) => ctx.pci.state(g.name).present);
  const outcomes: AerOutcome[] = [];
  const unhandled: PciFunction[] = [];
  for (const g of below) {
    const driver = drv(g);
    if (isVfioDriver(driver)) {
      const trigger = ctx.devices.get(g.name)?.errTrigger ?? null;
      if (trigger) signalEventfd(trigger);
      outcomes.push({ bdf: g.name, how: 'vfio', signalled: trigger !== null });
    } else if (driver !== null && hasErrorHandlers(driver)) {
      // The driver's error_detected/slot_reset/resume bring its own device back.
      ctx.pci.state(g.name).uncorrectable = null;
      outcomes.push({ bdf: g.name, how: 'driver', driver });
    } else if (g.desc.header === 'normal') {
      say(g, "AER: can't recover (no error_detected callback)", 'info');
      unhandled.push(g);
    }
  }

  // Functions without handlers: unbind → reset → rebind (see the module comment). The reset is
  // the one that reaches every function below the port — `pci_reset_bus` (slot, else bus), as
  // EEH resets the whole PE and AER's reset_subordinates resets the link — since a function reset
  // cannot always reach a function in error (a pm reset reads PMCSR as all-ones).
  if (unhandled.length > 0) {
    const drivers = unhandled.map((g) => drv(g));
    unhandled.forEach((g, i) => {
      const driver = drivers[i]!;
      if (driver !== null) unbindDriver(ctx, g.name, driver, 'aer recovery');
    });
    const r = ctx.pci.resetBus(unhandled[0]!.name);
    const reset = r.errno === 0 ? `${r.kind} reset` : String(r.errno);
    unhandled.forEach((g, i) => {
      const driver = drivers[i]!;
      if (r.errno !== 0) {
        outcomes.push({ bdf: g.name, how: 'failed', driver, reset });
        return;
      }
      if (driver !== null) {
        try {
          probeDriver(ctx, g, driver, 'aer recovery');
        } catch (e) {
          const errno = (e as { errno?: string }).errno ?? 'error';
          say(g, `${driver}: probe failed with error ${errno}`, 'warn');
        }
      }
      outcomes.push({ bdf: g.name, how: 'rebound', driver, reset });
    });
  }

  const recovered = outcomes.every((o) => o.how !== 'failed');
  say(port, `AER: device recovery ${recovered ? 'successful' : 'failed'}`, 'info');
  return { bdf, port: port.name, outcomes, recovered };
}
