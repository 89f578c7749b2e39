/**
 * What opening and closing a vfio-pci device does (O1–O5): the open-time function reset that
 * decides `reset_works`, and the close-time function reset and dev_set reset. Read from
 * `vfio_pci_core_enable` / `vfio_pci_core_disable` (6.1) and, for [2013], the spec's account of
 * 3.12/3.13 `vfio_pci_enable` / `vfio_pci_disable`.
 * @module
 */

import { fail } from '../rules.ts';
import { tryDevSetReset } from './dev-set.ts';
import type { IommufdFile } from './fds.ts';
import { bindDevice, unbindDevice } from './iommufd-device.ts';
import type { KernelCtx, VfioDevice } from './model.ts';
import { idle, wake } from './power.ts';

/**
 * `vfio_df_open`: counts the open; the first one binds the device to `iommufd` when the open comes
 * from a cdev bind (K3) or a group with an iommufd (K7) — before the driver's open_device — and
 * then runs open_device (O1, O2).
 */
export function openDevice(
  ctx: KernelCtx,
  dev: VfioDevice,
  syscall: string,
  iommufd: IommufdFile | null = null,
): void {
  dev.openCount++;
  if (dev.openCount > 1) return; // O2: later opens neither reset nor recompute reset_works
  if (iommufd) {
    try {
      bindDevice(ctx, dev, iommufd, syscall);
    } catch (e) {
      dev.openCount--;
      throw e;
    }
  }
  if (ctx.era === '2013') {
    // [2013]: reset_works = (pci_reset_function() == 0), blocking lock.
    dev.resetWorks = ctx.pci.resetFunction(dev.bdf, 'block').errno === 0;
    dev.opened = true;
    return;
  }
  wake(ctx, dev);
  const r = ctx.pci.resetFunction(dev.bdf, 'try');
  if (r.errno === 'EAGAIN') {
    dev.openCount--;
    unbindDevice(dev);
    idle(ctx, dev);
    fail('O1', syscall, dev.bdf);
  }
  dev.resetWorks = r.errno === 0;
  dev.opened = true;
}

/**
 * `vfio_df_close`: the last close runs close_device (O3–O5) and then unbinds the device from its
 * iommufd ctx (K6), before the count drops.
 */
export function closeDevice(ctx: KernelCtx, dev: VfioDevice): void {
  if (dev.openCount === 1) {
    lastClose(ctx, dev);
    // vfio_pci_core_close_device: the ERR and REQ eventfds are put after close_device.
    dev.errTrigger = null;
    dev.reqTrigger = null;
    unbindDevice(dev);
  }
  dev.openCount--;
  idle(ctx, dev); // O3 ends with pm_runtime_put: an unused device with PM goes back to D3hot
}

function lastClose(ctx: KernelCtx, dev: VfioDevice): void {
  if (ctx.era !== '2013') wake(ctx, dev); // O3: force D0 before a possible pm reset
  dev.needsReset = true;
  if (dev.resetWorks) {
    // O3/O5: only if the device lock is free right now (trylock); the caller holds it ('held').
    if (ctx.pci.state(dev.bdf).deviceLockHeld) {
      ctx.log.print('warn', dev.bdf, 'vfio-pci: unable to acquire locks for close-time reset');
    } else if (ctx.pci.resetFunction(dev.bdf, 'held').errno === 0) {
      dev.needsReset = false;
    }
  }
  // O3: `pci_restore_state` of the image saved at open, reset or not (skipped only when no image
  // was saved and reset_works is false; open always saves one here). 3.12's vfio_pci_disable too.
  ctx.pci.restoreSavedState(dev.bdf);
  if (ctx.era !== '2013') tryDevSetReset(ctx, dev.devSet); // O4; [2013] had no dev_set reset (O5)
}
