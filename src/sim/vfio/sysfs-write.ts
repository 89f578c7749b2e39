/**
 * `writeSysfs`: the attribute stores the reset path uses — `driver_override`, `drivers/<d>/bind`,
 * `drivers/<d>/unbind`, `drivers_probe` (bind.ts), `reset_method` (Y3) and `reset` (Y4). Paths are
 * relative to the sysfs root, as the reader uses them (a leading `/sys/` is accepted).
 * @module
 */

import { parseResetMethodWrite, RUNTIME_CONTEXT } from '../../pci/reset-methods.ts';
import { fail, passRule } from '../rules.ts';
import { bindDriver, driversProbe, setDriverOverride, unbindDriver } from './bind.ts';
import type { KernelCtx } from './model.ts';
import { idle, wake } from './power.ts';

const DEVICE_ATTR = /^bus\/pci\/devices\/([^/]+)\/(driver_override|reset_method|reset)$/;
const DRIVER_ATTR = /^bus\/pci\/drivers\/([^/]+)\/(bind|unbind)$/;

/** `sysfs_streq`-style name: one trailing newline is ignored. */
function chomp(s: string): string {
  return s.endsWith('\n') ? s.slice(0, -1) : s;
}

/** `kstrtoul(buf, 0, …)`: decimal, 0x-hex or 0-octal, one trailing newline allowed; NaN when malformed. */
function kstrtoul(s: string): number {
  const t = chomp(s);
  if (/^0[xX][0-9a-fA-F]+$/.test(t)) return Number.parseInt(t.slice(2), 16);
  if (/^0[0-7]*$/.test(t)) return Number.parseInt(t, 8);
  if (/^[1-9][0-9]*$/.test(t)) return Number.parseInt(t, 10);
  return Number.NaN;
}

/** Y3: `reset_method_store` (6.1 does not resume the device first; 6.18 does). */
function writeResetMethod(ctx: KernelCtx, bdf: string, value: string, syscall: string): void {
  const st = ctx.host.state(bdf)!;
  if (!st.resetMethodAttr) fail('sysfs.ENOENT', syscall, 'no reset_method attribute (Y1)');
  const r = parseResetMethodWrite(value, st.fn, RUNTIME_CONTEXT, ctx.era);
  if (!r.ok) fail(r.errno === 'ENOENT' ? 'sysfs.ENOENT' : 'Y3', syscall, r.message);
  st.resetMethods = r.list;
  for (const line of r.log) ctx.log.print('info', bdf, line);
}

/** Y4: `reset_store` — only "1"; runtime resume, `pci_reset_function` (blocking lock), put. */
function writeReset(ctx: KernelCtx, bdf: string, value: string, syscall: string): void {
  const st = ctx.host.state(bdf)!;
  if (!st.resetAttr) fail('sysfs.ENOENT', syscall, 'no reset attribute (Y1)');
  if (kstrtoul(value) !== 1) fail('Y4.value', syscall, JSON.stringify(value));
  const dev = ctx.devices.get(bdf);
  if (dev) wake(ctx, dev);
  const r = ctx.pci.resetFunction(bdf, 'block');
  if (dev) idle(ctx, dev);
  if (r.errno !== 0) fail(passRule('Y4', r.errno), syscall, bdf);
}

export function writeSysfs(ctx: KernelCtx, path: string, value: string): void {
  const p = path.replace(/^\/+/, '').replace(/^sys\//, '');
  const syscall = `write(${p})`;
  const dm = DEVICE_ATTR.exec(p);
  if (dm && ctx.vfs.kind(`bus/pci/devices/${dm[1]}`) !== null) {
    const bdf = dm[1]!;
    if (dm[2] === 'driver_override') setDriverOverride(ctx, bdf, value, syscall);
    else if (dm[2] === 'reset_method') writeResetMethod(ctx, bdf, value, syscall);
    else writeReset(ctx, bdf, value, syscall);
    return;
  }
  const drv = DRIVER_ATTR.exec(p);
  if (drv && ctx.vfs.kind(`bus/pci/drivers/${drv[1]}`) === 'dir') {
    const name = chomp(value);
    if (drv[2] === 'bind') bindDriver(ctx, name, drv[1]!, syscall);
    else unbindDriver(ctx, name, drv[1]!, syscall);
    return;
  }
  if (p === 'bus/pci/drivers_probe') {
    driversProbe(ctx, chomp(value), syscall);
    return;
  }
  if (ctx.vfs.kind(p) === 'file') fail('sysfs.read-only', syscall);
  fail('sysfs.ENOENT', syscall);
}
