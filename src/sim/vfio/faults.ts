/**
 * Fault injection at the VFIO level: another thread holding a vfio device's `memory_lock` or
 * `vma_lock` (H8: EBUSY; D3 would sleep), and an uncorrectable AER error (sim/aer.ts), whose
 * recovery involves VFIO and the drivers. Every PCI-level fault (device lock, readiness, link,
 * surprise removal, dirty state) passes through to the PCI core unchanged.
 * @module
 */

import { injectAer } from '../aer.ts';
import type { PciFault } from '../pci-core.ts';
import type { KernelCtx } from './model.ts';

export type KernelFault =
  /** An uncorrectable (AER) error on the function, and the recovery that follows (sim/aer.ts). */
  | { kind: 'aer'; bdf: string }
  | { kind: 'hold-memory-lock'; bdf: string; held: boolean }
  | { kind: 'hold-vma-lock'; bdf: string; held: boolean }
  | ({ bdf: string } & PciFault);

export function injectFault(ctx: KernelCtx, fault: KernelFault): void {
  if (fault.kind === 'aer') {
    injectAer(ctx, fault.bdf);
    return;
  }
  if (fault.kind === 'hold-memory-lock' || fault.kind === 'hold-vma-lock') {
    const dev = ctx.devices.get(fault.bdf);
    if (!dev) throw new Error(`${fault.bdf} is not bound to vfio-pci: it has no ${fault.kind.slice(5)}`);
    if (fault.kind === 'hold-memory-lock') dev.memoryLockHeld = fault.held;
    else dev.vmaLockHeld = fault.held;
    return;
  }
  const { bdf, ...pci } = fault;
  ctx.pci.inject(bdf, pci as PciFault);
}
