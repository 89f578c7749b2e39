/**
 * `VFIO_DEVICE_GET_REGION_INFO` of vfio-pci (`vfio_pci_ioctl_get_region_info`, vfio_pci_core.c):
 * the config region (`pdev->cfg_size`), BAR0–5 (`pci_resource_len`: size 0 means flags 0), the
 * ROM, and VGA. What the model has: BAR sizes are the PCI core's per-function state (the `bars`
 * fault sets them; a pending `after-reset` change becomes current at the function's next reset),
 * no option ROM, and VGA support off (`disable_vga`/no CONFIG_VFIO_PCI_VGA: EINVAL).
 *
 * Simplification, on purpose: Linux sizes BARs once, at enumeration, and a reset does not re-read
 * them (a device whose BARs change needs remove + rescan). The simulator lets the new sizes show
 * after the reset so that a client's re-read after a reset is exercised; a client that sees a
 * change must treat it as "this device is not what was assigned".
 * @module
 */

import type { IoctlArg } from '../../kernel/syscalls.ts';
import { CONFIG_SIZE } from '../../pci/config-space.ts';
import {
  encodeRegionInfo,
  VFIO_PCI_REGION_INDEX as R,
  REGION_INFO_SIZE,
  regionOffset,
  VFIO_REGION_INFO,
} from '../../uapi/vfio-irqs.ts';
import { fail } from '../rules.ts';
import type { KernelCtx, VfioDevice } from './model.ts';
import { PAGE_SIZE, u32, userIn, userOut } from './user-mem.ts';

export function getRegionInfo(
  ctx: KernelCtx,
  dev: VfioDevice,
  arg: IoctlArg | undefined,
  syscall: string,
): number {
  const buf = userIn(arg, REGION_INFO_SIZE, syscall);
  const argsz = u32(buf, 0);
  const index = u32(buf, 8);
  if (argsz < REGION_INFO_SIZE) fail('REGION_INFO.argsz', syscall, `argsz ${argsz}`);
  let size = 0;
  let flags = 0;
  if (index === R.CONFIG) {
    size = dev.fn.desc.pcie ? CONFIG_SIZE.express : CONFIG_SIZE.conventional;
    flags = VFIO_REGION_INFO.READ | VFIO_REGION_INFO.WRITE;
  } else if (index <= R.BAR5) {
    size = ctx.pci.state(dev.bdf).bars[index] ?? 0;
    // BARs of at least a page are mmap-able (smaller ones would need a page of their own).
    if (size > 0)
      flags =
        VFIO_REGION_INFO.READ | VFIO_REGION_INFO.WRITE | (size >= PAGE_SIZE ? VFIO_REGION_INFO.MMAP : 0);
  } else if (index !== R.ROM) {
    // VGA (has_vga is false) and anything past VFIO_PCI_NUM_REGIONS (no device-specific regions).
    fail('REGION_INFO.index', syscall, `index ${index}`);
  }
  const info = encodeRegionInfo({
    argsz,
    flags,
    index,
    capOffset: u32(buf, 12),
    size: BigInt(size),
    offset: regionOffset(index),
  });
  userOut(buf, 0, info, syscall);
  return 0;
}
