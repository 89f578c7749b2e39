/**
 * One reset on the simulated kernel, as `reset --yes` and the local page's reset button both run
 * it: the VFIO client's reset with the virtual clock, and the kernel log it produced.
 * @module
 */

import type { ResetRun } from '../render/reset.ts';
import type { SimKernel } from '../sim/kernel.ts';
import { type ResetMethodChoice, resetDevice, type SessionMode } from '../vfio/reset-device.ts';

export function simResetRun(
  sim: SimKernel,
  origin: string,
  bdf: string,
  method: ResetMethodChoice,
  mode: SessionMode,
): ResetRun {
  const t0 = sim.clock.now();
  const mark = sim.log.length;
  const report = resetDevice(sim, bdf, method, () => sim.clock.now(), mode);
  return { report, origin, durationMs: sim.clock.now() - t0, clock: 'virtual', events: sim.log.since(mark) };
}
