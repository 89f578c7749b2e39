/**
 * Runtime PM of vfio-pci devices (O6): a bound device that nobody has open and that has a PM
 * capability idles in D3hot (`disable_idle_d3=0`); open, reset and hot reset wake it first.
 * [2013] had no idle D3, so nothing moves there.
 * @module
 */

import type { KernelCtx, VfioDevice } from './model.ts';

/** `pm_runtime_resume_and_get` / `vfio_pci_set_power_state(D0)`: back to D0 (the core charges the d3hot delay). */
export function wake(ctx: KernelCtx, dev: VfioDevice): void {
  if (ctx.pci.state(dev.bdf).power !== 'D0') ctx.pci.setPower(dev.bdf, 'D0');
}

/** `pm_runtime_put` on an unused device: D3hot when it has a PM capability (O6). */
export function idle(ctx: KernelCtx, dev: VfioDevice): void {
  if (ctx.era === '2013' || dev.openCount > 0 || !dev.fn.desc.pm) return;
  if (!ctx.devices.has(dev.bdf)) return;
  // The suspend itself runs from the runtime-PM workqueue, not inside the syscall that let go.
  if (ctx.pci.state(dev.bdf).power === 'D0') ctx.pci.setPower(dev.bdf, 'D3hot', { background: true });
}
