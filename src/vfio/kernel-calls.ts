/**
 * How both VFIO sessions (group and cdev) call the kernel: bounded retries on lock contention,
 * and one translation of kernel refusals into advice — naming the device in the way when sysfs
 * can tell. One place, so both modes say the same thing for the same refusal.
 * @module
 */

import type { DeviceRef } from '../host/problems.ts';
import { KernelError } from '../kernel/syscalls.ts';
import type { SysfsReader } from '../kernel/sysfs.ts';
import { isVfioDriver } from '../pci/drivers.ts';
import { refText, VfioError } from './errors.ts';
import { deviceRef, iommuGroupOf, resetMethodsOf } from './locate.ts';

export interface CallContext {
  mode: 'group' | 'cdev';
  sysfs: SysfsReader;
  busyRetries: number;
}

/** Runs `f`, translating a kernel refusal. */
export function kernelCall<T>(ctx: CallContext, step: string, bdf: string | null, f: () => T): T {
  try {
    return f();
  } catch (e) {
    throw translate(ctx, e, step, bdf);
  }
}

/**
 * Runs `f`, retrying EAGAIN/EBUSY — lock contention: the open-time reset (O1), D3, H8, H9 — up to
 * `busyRetries` times, then translating. Returns what `f` returns.
 */
export function kernelCallWithRetry<T>(
  ctx: CallContext,
  step: string,
  bdf: string,
  f: () => T,
  affected: DeviceRef[] = [],
): T {
  for (let attempt = 0; ; attempt++) {
    try {
      return f();
    } catch (e) {
      if (
        e instanceof KernelError &&
        (e.errno === 'EAGAIN' || e.errno === 'EBUSY') &&
        attempt < ctx.busyRetries
      )
        continue;
      throw translate(ctx, e, step, bdf, affected);
    }
  }
}

export function translate(
  ctx: CallContext,
  e: unknown,
  step: string,
  bdf: string | null,
  affected: DeviceRef[] = [],
): unknown {
  if (!(e instanceof KernelError)) return e;
  const base = { step, errno: e.errno, rule: e.rule, bdf };
  const who = bdf ?? 'the device';
  const on = (verb: string) => step.startsWith(verb);
  switch (e.errno) {
    case 'ENODEV':
      if (on('VFIO_DEVICE_GET_PCI_HOT_RESET_INFO') || on('VFIO_DEVICE_PCI_HOT_RESET')) {
        return new VfioError(
          'VFIO_RESET_E_NO_HOT_RESET',
          `${who} cannot be hot reset: no slot or bus reset is possible (root bus, SR-IOV VF, or a NO_BUS_RESET quirk)`,
          base,
        );
      }
      break;
    case 'EINVAL':
      if (on('VFIO_DEVICE_BIND_IOMMUFD') && e.rule !== 'K3.args') {
        // K3: one cdev bind per device; a device already open through another file belongs to its opener.
        return new VfioError(
          'VFIO_RESET_E_NOT_OWNED',
          `${who} is already open through another file (a device is bound through one cdev at a time, K3): another process is using it`,
          { ...base, blocker: bdf ? deviceRef(ctx.sysfs, bdf) : null },
        );
      }
      if (on('VFIO_DEVICE_PCI_HOT_RESET')) {
        const blocker = affected.find((a) => !isVfioDriver(a.driver)) ?? null;
        const why =
          ctx.mode === 'cdev'
            ? 'is not owned through this iommufd context'
            : 'is not owned through the groups passed, or is in another dev_set';
        return new VfioError(
          'VFIO_RESET_E_NOT_OWNED',
          blocker
            ? `hot reset of ${who} needs ${refText(blocker)}, which you do not own`
            : `hot reset of ${who} was refused (EINVAL): a function of its reset scope ${why}`,
          { ...base, blocker },
        );
      }
      if (on('VFIO_DEVICE_RESET')) {
        return new VfioError(
          'VFIO_RESET_E_NO_FUNCTION_RESET',
          `${who} has no working function reset (the kernel's open-time reset failed, so VFIO_DEVICE_FLAGS_RESET is clear); use a hot reset`,
          base,
        );
      }
      break;
    case 'ENOTTY':
      if (on('VFIO_DEVICE_RESET')) {
        // D3/M5: with methods listed, ENOTTY is what the method that ran returned — most often the
        // readiness poll giving up (W1/W2: the device did not answer within 60 s of its reset).
        const methods = bdf ? resetMethodsOf(ctx.sysfs, bdf) : null;
        if (methods && methods.length > 0)
          return new VfioError(
            'VFIO_RESET_E_NOT_READY',
            `the function reset of ${who} (reset_method: ${methods.join(' ')}) ended in ENOTTY: the device did not answer in time after its reset (the kernel polls up to 60 s; dmesg says "not ready … giving up"), or no listed method could run now`,
            base,
          );
        return new VfioError(
          'VFIO_RESET_E_NO_FUNCTION_RESET',
          `${who} has no reset method left (reset_method is empty or every method refused)`,
          base,
        );
      }
      if (on('VFIO_DEVICE_PCI_HOT_RESET')) {
        return new VfioError(
          'VFIO_RESET_E_NOT_READY',
          `the hot reset of ${who} was issued but the link or device did not come back in time (the kernel restored config space anyway)`,
          base,
        );
      }
      break;
    case 'EBUSY':
      if (on('VFIO_DEVICE_BIND_IOMMUFD')) {
        const group = bdf ? iommuGroupOf(ctx.sysfs, bdf) : null;
        return new VfioError(
          'VFIO_RESET_E_GROUP_BUSY',
          `${who}: its group ${group ?? '?'} is open through /dev/vfio/${group ?? 'N'}; a device cannot be used through its group and its cdev at once (K3)`,
          base,
        );
      }
      return new VfioError(
        'VFIO_RESET_E_BUSY',
        `${step}: EBUSY: another user holds a lock on a device in scope; retried ${ctx.busyRetries} times`,
        base,
      );
    case 'EAGAIN':
      return new VfioError(
        'VFIO_RESET_E_BUSY',
        `${step}: EAGAIN: another user holds a lock on a device in scope; retried ${ctx.busyRetries} times`,
        base,
      );
    case 'EPERM':
      if (on('VFIO_DEVICE_BIND_IOMMUFD')) {
        return new VfioError(
          'VFIO_RESET_E_NOT_VIABLE',
          `${who}: its IOMMU group is owned by something else (a host driver, a VFIO container or another iommufd context) (K3/K4)`,
          base,
        );
      }
      break;
  }
  return new VfioError('VFIO_RESET_E_IOCTL', `${step}: ${e.errno}${e.rule ? ` (rule ${e.rule})` : ''}`, base);
}
