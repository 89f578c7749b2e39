/**
 * The device-release request (D1, `VFIO_PCI_REQ_IRQ_INDEX`): unbinding vfio-pci from a device a
 * user still holds does not fail; the unbind waits in `vfio_unregister_group_dev` until the last
 * device file is released, asking the user to let go — at once, then again every 10 s
 * (`wait_for_completion_interruptible_timeout(&device->comp, HZ * 10)`). Each ask is
 * `vfio_pci_core_request(count)`: with a REQ eventfd set it signals it, logging
 * "Relaying device request to user (#N)" when N is a multiple of 10 (`!(count % 10)`, so #0, #10,
 * #20 … — one line per 100 s, not per ask); without one it warns once, at count 0.
 * Read from vfio_main.c and vfio_pci_core.c (6.1; the request exists since 4.0, so not in 2013).
 *
 * The simulator has one thread: the blocked write(2) is kept as a pending removal and the call
 * throws `SimBlockedError`; the 10 s re-asks are timers on the virtual clock, and the unbind
 * completes when the kernel sees the device's last file close. Without a REQ eventfd nobody would
 * be asked, and the simulator keeps refusing such an unbind with EBUSY (rule D1) instead.
 * @module
 */

import { signalEventfd } from '../eventfd.ts';
import type { KernelCtx, PendingRemoval, VfioDevice } from './model.ts';

/** HZ * 10 of `vfio_unregister_group_dev`'s wait. */
export const REQUEST_INTERVAL_MS = 10_000;

/** A sysfs write that Linux would leave blocked until a user acts; the simulator returns at once. */
export class SimBlockedError extends Error {
  readonly code = 'VFIO_RESET_E_SIM_BLOCKED';
  readonly device: string;
  constructor(device: string, syscall: string) {
    super(
      `${syscall}: blocks until ${device} is released: vfio-pci signals the user's device-request eventfd now and every ${REQUEST_INTERVAL_MS / 1000} s; the unbind completes when the last file of the device is closed`,
    );
    this.name = 'SimBlockedError';
    this.device = device;
  }
}

/** `vfio_pci_core_request(vdev, count)`. */
function vfioPciRequest(ctx: KernelCtx, p: PendingRemoval, count: number): void {
  const dev = p.device;
  if (dev.reqTrigger) {
    if (count % 10 === 0)
      ctx.log.print('info', dev.bdf, `Relaying device request to user (#${count})`, p.driver);
    signalEventfd(dev.reqTrigger);
  } else if (count === 0) {
    ctx.log.print(
      'warn',
      dev.bdf,
      'No device request channel registered, blocked until released by user',
      p.driver,
    );
  }
}

/** One turn of the wait loop: ask, then wait up to 10 s for the completion. */
function relay(ctx: KernelCtx, p: PendingRemoval): void {
  vfioPciRequest(ctx, p, p.requests++);
  p.cancel = ctx.clock.at(ctx.clock.now() + REQUEST_INTERVAL_MS, () => relay(ctx, p));
}

/**
 * The unbind of `driver` from `dev` while it is held: starts the wait (or joins the one under way)
 * and reports the blocked write. `finish` performs the rest of the unbind once the device is free.
 */
export function blockUntilReleased(
  ctx: KernelCtx,
  dev: VfioDevice,
  driver: string,
  syscall: string,
  finish: () => void,
): never {
  if (!ctx.removals.has(dev.bdf)) {
    const p: PendingRemoval = { device: dev, driver, requests: 0, cancel: () => {}, finish };
    ctx.removals.set(dev.bdf, p);
    relay(ctx, p);
  }
  throw new SimBlockedError(dev.bdf, syscall);
}

/** Completes every pending unbind whose device has no open file left (the `device->comp` completion). */
export function settleRemovals(ctx: KernelCtx): void {
  for (const [bdf, p] of [...ctx.removals]) {
    if (p.device.openCount > 0 || p.device.cdevFiles > 0) continue;
    p.cancel();
    ctx.removals.delete(bdf);
    p.finish();
  }
}
