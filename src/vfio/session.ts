/**
 * What both VFIO sessions offer — group mode (`GroupSession`) and cdev/iommufd mode
 * (`CdevSession`) — so strategies and the CLI are written once, with one hot-reset routine per
 * mode underneath (as QEMU's `pci_hot_reset` per IOMMU backend).
 * @module
 */

import type { DeviceRef } from '../host/problems.ts';
import type { KernelHost } from '../kernel/syscalls.ts';
import type { HotResetInfoResult } from './ioctls.ts';

export interface SessionDevice {
  readonly bdf: string;
  readonly fd: number;
  /** VFIO_DEVICE_FLAGS_RESET at open (D2). */
  readonly resetWorks: boolean;
}

export interface VfioSession<D extends SessionDevice = SessionDevice> {
  readonly host: KernelHost;
  readonly mode: 'group' | 'cdev';
  openDevice(bdf: string): D;
  functionReset(dev: D): void;
  hotResetInfo(dev: D): HotResetInfoResult;
  hotReset(dev: D): { affected: DeviceRef[] };
  heldDevices(): D[];
  /** Closes one device's fd (the kernel's close-time reset runs if it was the last user, O3/O4). */
  closeDevice(dev: D): void;
  close(): void;
}
