/**
 * Device fd ioctls of vfio-pci (D2–D4; IRQ and region info in irqs.ts / regions.ts). Read from
 * `vfio_pci_core_ioctl`, `vfio_pci_ioctl_get_info` (6.1: copies back 16 bytes, or 20 when argsz
 * covers `cap_offset`), `vfio_pci_ioctl_reset` (memory lock, D0, `pci_try_reset_function`).
 * @module
 */

import type { IoctlArg } from '../../kernel/syscalls.ts';
import { VFIO } from '../../uapi/ioctl.ts';
import {
  BIND_IOMMUFD_MINSZ,
  type BindIommufd,
  DEVICE_INFO_MINSZ,
  DEVICE_INFO_SIZE,
  decodeBindIommufd,
  encodeDeviceInfo,
  VFIO_DEVICE_FLAGS,
  VFIO_PCI_NUM_REGIONS,
} from '../../uapi/vfio-structs.ts';
import { SimDeadlockError } from '../pci-exec.ts';
import { fail, passRule } from '../rules.ts';
import type { DeviceFile } from './fds.ts';
import { hotReset } from './hot-reset.ts';
import { hotReset2013 } from './hot-reset-2013.ts';
import { hotResetInfo } from './hot-reset-info.ts';
import { getIrqInfo, numIrqs, setIrqs } from './irqs.ts';
import type { KernelCtx, VfioDevice } from './model.ts';
import { wake } from './power.ts';
import { getRegionInfo } from './regions.ts';
import { decodeIn, u32, userIn, userOut } from './user-mem.ts';

/** `offsetofend(struct vfio_iommu_type1_info, cap_offset)`: 6.1's threshold for the longer copy. */
const CAPSZ_6_1 = 20;

/** D2: how many bytes of `vfio_device_info` the era writes back. */
function infoCopySize(era: KernelCtx['era'], argsz: number): number {
  if (era === '2013') return DEVICE_INFO_MINSZ;
  if (era === '6.1') return argsz >= CAPSZ_6_1 ? CAPSZ_6_1 : DEVICE_INFO_MINSZ;
  return Math.min(argsz, DEVICE_INFO_SIZE);
}

function getInfo(ctx: KernelCtx, dev: VfioDevice, arg: IoctlArg | undefined, syscall: string): number {
  const buf = userIn(arg, DEVICE_INFO_MINSZ, syscall);
  const argsz = u32(buf, 0);
  if (argsz < DEVICE_INFO_MINSZ) fail('D2.argsz', syscall, `argsz ${argsz}`);
  // The RESET flag is reset_works as computed at the last first-open, not a fresh probe.
  const flags = VFIO_DEVICE_FLAGS.PCI | (dev.resetWorks ? VFIO_DEVICE_FLAGS.RESET : 0);
  const info = encodeDeviceInfo({
    argsz,
    flags,
    numRegions: VFIO_PCI_NUM_REGIONS,
    numIrqs: numIrqs(ctx.era),
    capOffset: 0,
  });
  userOut(buf, 0, info.subarray(0, infoCopySize(ctx.era, argsz)), syscall);
  return 0;
}

/** D3. [2013]: `pci_reset_function` (blocking); 6.1: memory lock, D0, `pci_try_reset_function`. */
function reset(ctx: KernelCtx, dev: VfioDevice, syscall: string): number {
  if (!dev.resetWorks) fail('D3.no-reset', syscall, dev.bdf);
  if (ctx.era === '2013') {
    const r = ctx.pci.resetFunction(dev.bdf, 'block');
    if (r.errno !== 0) fail(passRule('D3_2013', r.errno), syscall, dev.bdf);
    return 0;
  }
  // vfio_pci_zap_and_down_write_memory_lock takes both locks blockingly: with another holder the
  // kernel sleeps, which the simulator reports the way the PCI core reports a blocking lock.
  if (dev.memoryLockHeld || dev.vmaLockHeld)
    throw new SimDeadlockError(dev.bdf, `${syscall}: ${dev.memoryLockHeld ? 'memory_lock' : 'vma_lock'}`);
  wake(ctx, dev);
  const r = ctx.pci.resetFunction(dev.bdf, 'try');
  if (r.errno !== 0) fail(passRule('D3', r.errno), syscall, `${dev.bdf}${r.method ? ` (${r.method})` : ''}`);
  return 0;
}

/** K3's first checks, shared by cdev and group-obtained device fds: copy 16 bytes, then argsz/flags/fd. */
export function bindArgs(arg: IoctlArg | undefined, syscall: string): { buf: Uint8Array; bind: BindIommufd } {
  const buf = userIn(arg, BIND_IOMMUFD_MINSZ, syscall);
  const bind = decodeIn(syscall, () => decodeBindIommufd(buf));
  if (bind.argsz < BIND_IOMMUFD_MINSZ || bind.flags !== 0 || bind.iommufd < 0)
    fail('K3.args', syscall, `argsz ${bind.argsz}, flags ${bind.flags}, iommufd ${bind.iommufd}`);
  return { buf, bind };
}

/** A device fd obtained from a group. [6.6+] BIND_IOMMUFD reaches the bind code, which refuses it (K3). */
export function deviceIoctl(
  ctx: KernelCtx,
  file: DeviceFile,
  request: number,
  arg: IoctlArg | undefined,
  syscall: string,
): number {
  if (ctx.era === '6.6+' && request === VFIO.DEVICE_BIND_IOMMUFD) {
    bindArgs(arg, syscall);
    return fail('K3.group-fd', syscall, file.device.bdf);
  }
  return vfioPciIoctl(ctx, file.device, request, arg, syscall);
}

/** `vfio_pci_core_ioctl`: what a device fd with access does, however it was opened. */
export function vfioPciIoctl(
  ctx: KernelCtx,
  dev: VfioDevice,
  request: number,
  arg: IoctlArg | undefined,
  syscall: string,
): number {
  switch (request) {
    case VFIO.DEVICE_GET_INFO:
      return getInfo(ctx, dev, arg, syscall);
    case VFIO.DEVICE_RESET:
      return reset(ctx, dev, syscall);
    case VFIO.DEVICE_GET_PCI_HOT_RESET_INFO:
      return hotResetInfo(ctx, dev, arg, syscall);
    case VFIO.DEVICE_PCI_HOT_RESET:
      return ctx.era === '2013' ? hotReset2013(ctx, dev, arg, syscall) : hotReset(ctx, dev, arg, syscall);
    case VFIO.DEVICE_GET_REGION_INFO:
      return getRegionInfo(ctx, dev, arg, syscall);
    case VFIO.DEVICE_GET_IRQ_INFO:
      return getIrqInfo(ctx, dev, arg, syscall);
    case VFIO.DEVICE_SET_IRQS:
      return setIrqs(ctx, dev, arg, syscall);
    case VFIO.DEVICE_IOEVENTFD:
    case VFIO.DEVICE_FEATURE:
      // Both arrived after 2013 (4.17, 5.7).
      return fail(ctx.era === '2013' ? 'D4' : 'D4.unmodelled', syscall);
    default:
      return fail('D4', syscall);
  }
}
