/**
 * How long a reset takes, predicted by the simulator's own PCI core — the same sleeps, link waits
 * and readiness polls `reset --yes` runs on a simulated host (kernel-semantics §7), so the planner
 * never keeps a second timing model. Each prediction runs on a fresh simulated copy of the host
 * with the bare-metal clock, so one prediction never disturbs another.
 * @module
 */

import type { Era } from '../pci/era.ts';
import type { HostDesc } from '../pci/model.ts';
import { BARE_METAL } from '../sim/clock.ts';
import { SimKernel } from '../sim/kernel.ts';

export type ResetKind = 'function' | 'hot';

export interface ResetPrediction {
  kind: ResetKind;
  /** Virtual milliseconds the PCI core spends in the reset. */
  ms: number;
  /** null when the reset succeeds in the model; else the errno it ends with. */
  errno: string | null;
  /** The method a function reset used, or `slot`/`bus` for a hot reset. */
  method: string | null;
}

export type Predictor = (bdf: string, kind: ResetKind) => ResetPrediction;

/** `pci_try_reset_function` (what VFIO_DEVICE_RESET runs) or `pci_reset_bus` (HOT_RESET), on a copy. */
export function simulatedTiming(desc: HostDesc, era: Era): Predictor {
  const cache = new Map<string, ResetPrediction>();
  return (bdf, kind) => {
    const key = `${kind} ${bdf}`;
    const have = cache.get(key);
    if (have) return have;
    const k = new SimKernel(desc, { era, clock: BARE_METAL });
    let p: ResetPrediction;
    if (kind === 'function') {
      const r = k.pci.resetFunction(bdf, 'try');
      p = { kind, ms: r.durationMs, errno: r.errno === 0 ? null : String(r.errno), method: r.method };
    } else {
      const r = k.pci.resetBus(bdf);
      p = { kind, ms: r.durationMs, errno: r.errno === 0 ? null : String(r.errno), method: r.kind };
    }
    cache.set(key, p);
    return p;
  };
}
