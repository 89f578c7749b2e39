/**
 * eventfd(2) in the simulated kernel: a counter that kernel code signals (`eventfd_signal`) and a
 * process reads (the read returns the count and resets it; EAGAIN at 0, the fd being
 * non-blocking) or waits for with poll(2). VFIO keeps the `eventfd_ctx`, not the file: a trigger
 * goes on counting after the process closed its fd, as in Linux.
 *
 * Waiting is where a process's own time passes in the simulator: `poll` moves the virtual clock
 * to the next kernel timer (a vfio-pci device request re-sent every 10 s, …) or to the timeout.
 * @module
 */

import type { SimClock } from './clock.ts';

/** `struct eventfd_ctx`. */
export interface EventfdCtx {
  count: number;
  /** Every signal ever received, for tests and snapshots (the counter is reset by reads). */
  signals: number;
}

export function newEventfd(): EventfdCtx {
  return { count: 0, signals: 0 };
}

/** `eventfd_signal(ctx)`: adds 1 (the kernel caps at ULLONG_MAX; no simulation gets there). */
export function signalEventfd(ctx: EventfdCtx): void {
  ctx.count++;
  ctx.signals++;
}

/** Reads and resets the counter; null when it is 0 (the non-blocking read's EAGAIN). */
export function readEventfd(ctx: EventfdCtx): number | null {
  if (ctx.count === 0) return null;
  const n = ctx.count;
  ctx.count = 0;
  return n;
}

/**
 * poll(2) for POLLIN on eventfds: returns the indexes of readable ones. While none is, the clock
 * moves to the next kernel timer that falls before the timeout (which may signal one) or to the
 * timeout itself. A negative timeout would wait for ever: the simulator refuses it rather than hang.
 */
export function pollEventfds(clock: SimClock, ctxs: readonly EventfdCtx[], timeoutMs: number): number[] {
  if (!(timeoutMs >= 0) || !Number.isFinite(timeoutMs))
    throw new RangeError(`poll: the simulator needs a finite timeout (got ${timeoutMs} ms)`);
  const end = clock.now() + timeoutMs;
  for (;;) {
    const ready = ctxs.flatMap((c, i) => (c.count > 0 ? [i] : []));
    if (ready.length > 0 || clock.now() >= end) return ready;
    const next = clock.nextTimer();
    clock.advance((next !== null && next < end ? next : end) - clock.now());
  }
}
