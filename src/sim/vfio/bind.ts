/**
 * Driver binding as far as VFIO cares (§1.2, S0, S1, G1, D1): vfio-pci's probe (which creates the
 * vfio device, its dev_set membership and its group node), its remove, and host-driver probes
 * that DMA ownership can refuse. Read from `vfio_pci_core_register_device` /
 * `vfio_pci_core_unregister_device`, `vfio_unregister_group_dev` (the blocking wait and its
 * "request" to the user), `vfio_device_remove_group`, and the driver core's `bind_store`,
 * `unbind_store`, `really_probe` → `pci_dma_configure` → `iommu_device_use_default_domain`.
 * The wait of an unbind whose device is held, and its requests to the user, are in request.ts.
 * @module
 */

import { isDmaNeutralDriver, isVfioDriver } from '../../pci/drivers.ts';
import type { PciFunction } from '../../pci/topology.ts';
import { fail } from '../rules.ts';
import { linkVfioDev, relinkDriver, unlinkVfioDev } from '../sysfs.ts';
import { detachGroup } from './container.ts';
import { devSetKey, joinDevSet, leaveDevSet } from './dev-set.ts';
import type { KernelCtx, VfioDevice, VfioGroup } from './model.ts';
import { idle } from './power.ts';
import { blockUntilReleased } from './request.ts';
import { vfioOwnsDma } from './viability.ts';

/** The host driver the description names, i.e. what the function had before vfio-pci (null if unknown). */
export function hostDriverOf(fn: PciFunction): string | null {
  const d = fn.desc.driver;
  return d !== null && !isVfioDriver(d) ? d : null;
}

/** vfio-pci probe: S0 refusals, S1 dev_set key, G1 group node, O6 idle D3hot. */
function registerVfio(ctx: KernelCtx, fn: PciFunction, syscall: string): VfioDevice {
  if (fn.desc.header !== 'normal') fail('S0.bridge', syscall, fn.name);
  if (ctx.era !== '2013' && (fn.desc.sriov?.numVfs ?? 0) > 0) {
    ctx.log.print('warn', fn.name, 'Cannot bind to PF with SR-IOV enabled');
    fail('S0.sriov', syscall, fn.name);
  }
  const id = ctx.host.groups.groupOf(fn);
  if (id === null) fail('S0.no-group', syscall, fn.name);
  const devSet = ctx.era === '2013' ? null : joinDevSet(ctx, devSetKey(ctx, fn));
  let group = ctx.groups.get(id);
  if (!group) {
    group = {
      id,
      devices: [],
      gone: false,
      file: null,
      container: null,
      containerUsers: 0,
      iommufd: null,
      cdevOpenCount: 0,
      externalUsers: 0,
    };
    ctx.groups.set(id, group);
  }
  const dev: VfioDevice = {
    bdf: fn.name,
    fn,
    group,
    devSet,
    openCount: 0,
    resetWorks: false,
    opened: false,
    needsReset: false,
    memoryLockHeld: false,
    vmaLockHeld: false,
    index: freeDeviceIndex(ctx),
    cdevFiles: 0,
    cdevOpened: false,
    bound: null,
    errTrigger: null,
    reqTrigger: null,
  };
  group.devices.push(dev);
  devSet?.members.push(dev);
  ctx.devices.set(fn.name, dev);
  // 6.1 gave vfio_device a struct device (vfio-dev/vfioN); 6.6+ gives it a char device too.
  if (ctx.era !== '2013') linkVfioDev(ctx.vfs, fn, dev.index, ctx.era === '6.6+');
  idle(ctx, dev);
  return dev;
}

/** The indices registered vfio devices hold, and no free one is below `lowest`. */
interface DeviceIda {
  used: Set<number>;
  lowest: number;
}
const idas = new WeakMap<KernelCtx, DeviceIda>();

/**
 * `ida_alloc` of `vfio.device_ida`: the lowest index no registered vfio device uses. Kept per
 * kernel so that boot, which registers every vfio-pci device, is not quadratic; rebuilt from
 * `ctx.devices` should they ever disagree in size.
 */
function freeDeviceIndex(ctx: KernelCtx): number {
  let ida = idas.get(ctx);
  if (!ida || ida.used.size !== ctx.devices.size) {
    ida = { used: new Set([...ctx.devices.values()].map((d) => d.index)), lowest: 0 };
    idas.set(ctx, ida);
  }
  let i = ida.lowest;
  while (ida.used.has(i)) i++;
  ida.used.add(i);
  ida.lowest = i + 1;
  return i;
}

/** `ida_free`: the index is free again. */
function releaseDeviceIndex(ctx: KernelCtx, index: number): void {
  const ida = idas.get(ctx);
  if (!ida) return;
  ida.used.delete(index);
  ida.lowest = Math.min(ida.lowest, index);
}

/** vfio-pci remove once no device fd is left: the dev_set and group lose it; an empty group's node goes. */
function unregisterVfio(ctx: KernelCtx, dev: VfioDevice): void {
  leaveDevSet(ctx, dev);
  const g: VfioGroup = dev.group;
  g.devices = g.devices.filter((d) => d !== dev);
  ctx.devices.delete(dev.bdf);
  releaseDeviceIndex(ctx, dev.index);
  if (ctx.era !== '2013') unlinkVfioDev(ctx.vfs, dev.fn, dev.index);
  if (g.devices.length === 0) {
    // vfio_device_remove_group: revoke the IOMMU group; an open group file keeps a dead group.
    detachGroup(g);
    g.gone = true;
    ctx.groups.delete(g.id);
  }
  // pm_runtime_forbid resumes the device.
  if (ctx.pci.state(dev.bdf).power !== 'D0') ctx.pci.setPower(dev.bdf, 'D0');
}

/** `really_probe` of `driver` on an unbound function; errors leave it unbound. */
export function probeDriver(ctx: KernelCtx, fn: PciFunction, driver: string, syscall: string): void {
  if (isVfioDriver(driver)) {
    registerVfio(ctx, fn, syscall);
  } else if (!isDmaNeutralDriver(driver)) {
    const id = ctx.host.groups.groupOf(fn);
    if (id !== null && vfioOwnsDma(ctx, id))
      fail('bind.dma-owned', syscall, `${fn.name}: group ${id} is owned by a VFIO container or iommufd`);
    if (id !== null && ctx.era === '2013' && ctx.groups.get(id)?.container)
      ctx.log.print(
        'err',
        fn.name,
        `vfio: device bound to non-whitelisted driver ${driver} in live group ${id}`,
      );
  }
  const st = ctx.host.state(fn.name)!;
  st.driver = driver;
  relinkDriver(ctx.vfs, fn, null, driver);
  ctx.log.emit({ kind: 'bind', device: fn.name, driver });
}

function lookup(ctx: KernelCtx, name: string, syscall: string): PciFunction {
  const fn = ctx.host.topology.get(name);
  if (!fn || fn.name !== name) return fail('bind.no-device', syscall, name);
  return fn;
}

/** `driver_match_device`: driver_override wins; otherwise only the function's own host driver matches. */
function matches(ctx: KernelCtx, fn: PciFunction, driver: string): boolean {
  const override = ctx.host.state(fn.name)?.driverOverride ?? null;
  return override !== null ? override === driver : hostDriverOf(fn) === driver;
}

/** `bus/pci/drivers/<driver>/bind`. */
export function bindDriver(ctx: KernelCtx, name: string, driver: string, syscall: string): void {
  const fn = lookup(ctx, name, syscall);
  if (!matches(ctx, fn, driver)) fail('bind.no-match', syscall, `${driver} does not match ${name}`);
  const current = ctx.host.state(name)!.driver;
  if (current !== null) fail('bind.bound', syscall, `${name} is bound to ${current}`);
  probeDriver(ctx, fn, driver, syscall);
}

/** `bus/pci/drivers/<driver>/unbind`; vfio-pci with open device fds blocks (D1). */
export function unbindDriver(ctx: KernelCtx, name: string, driver: string, syscall: string): void {
  const fn = ctx.host.topology.get(name);
  const st = fn && fn.name === name ? ctx.host.state(name) : undefined;
  if (!fn || !st || st.driver !== driver)
    fail('unbind.not-bound', syscall, `${name} is not bound to ${driver}`);
  const dev = ctx.devices.get(name);
  const finish = () => {
    if (dev) unregisterVfio(ctx, dev);
    st.driver = null;
    relinkDriver(ctx.vfs, fn, driver, null);
    ctx.log.emit({ kind: 'unbind', device: name, driver });
  };
  if (dev && (dev.openCount > 0 || dev.cdevFiles > 0)) {
    // D1: the unbind waits for the user; with a REQ eventfd the user is asked (request.ts).
    if (ctx.era !== '2013' && (dev.reqTrigger || ctx.removals.has(name)))
      blockUntilReleased(ctx, dev, driver, syscall, finish);
    // vfio_pci_core_request with no request eventfd registered, as the kernel prints it.
    ctx.log.print('warn', name, 'No device request channel registered, blocked until released by user');
    fail('D1', syscall, `${name}: ${dev.openCount} open(s), ${dev.cdevFiles} cdev file(s)`);
  }
  finish();
}

/** `bus/pci/drivers_probe`: an unbound function gets its matching driver; probe errors are only logged. */
export function driversProbe(ctx: KernelCtx, name: string, syscall: string): void {
  const fn = lookup(ctx, name, syscall);
  const st = ctx.host.state(name)!;
  if (st.driver !== null) return;
  const driver = st.driverOverride ?? hostDriverOf(fn);
  if (driver === null) return;
  try {
    probeDriver(ctx, fn, driver, syscall);
  } catch (e) {
    const errno = (e as { errno?: string }).errno ?? 'error';
    ctx.log.print('warn', name, `${driver}: probe failed with error ${errno}`);
  }
}

/** `driver_override` store: up to the first newline; empty clears it. Takes effect at the next probe. */
export function setDriverOverride(ctx: KernelCtx, name: string, value: string, syscall: string): void {
  const fn = lookup(ctx, name, syscall);
  const nl = value.indexOf('\n');
  const v = nl < 0 ? value : value.slice(0, nl);
  ctx.host.state(fn.name)!.driverOverride = v === '' ? null : v;
}

/**
 * Boot: functions the description shows on vfio-pci go through vfio-pci's probe, in registration
 * order; a function vfio-pci would refuse (S0) is left unbound and the refusal logged.
 */
export function bootProbe(ctx: KernelCtx): void {
  for (const fn of ctx.host.topology.functions) {
    const st = ctx.host.state(fn.name)!;
    if (!isVfioDriver(st.driver)) continue;
    try {
      registerVfio(ctx, fn, 'boot');
    } catch (e) {
      const errno = (e as { errno?: string }).errno ?? 'error';
      ctx.log.print('warn', fn.name, `vfio-pci: probe failed with error ${errno}; left unbound`);
      relinkDriver(ctx.vfs, fn, st.driver, null);
      st.driver = null;
    }
  }
}
