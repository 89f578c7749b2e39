/**
 * Errors of the VFIO client. Each carries a stable `code`, the step that failed, the errno the
 * kernel gave (when it gave one) and — when another device is in the way — that device by BDF
 * with its driver and group. Messages read as advice: what failed, who is in the way, what to do.
 * @module
 */

import type { DeviceRef } from '../host/problems.ts';

export const VFIO_ERROR_CODES = [
  /** The IOMMU group holds a device bound to a DMA-using host driver (G3). */
  'VFIO_RESET_E_NOT_VIABLE',
  /** A device the reset would hit is not owned by the caller (H6/H8/H22). */
  'VFIO_RESET_E_NOT_OWNED',
  /** Neither slot nor bus reset is possible (I2/H2: ENODEV). */
  'VFIO_RESET_E_NO_HOT_RESET',
  /** The device has no working function reset (D3: EINVAL / ENOTTY). */
  'VFIO_RESET_E_NO_FUNCTION_RESET',
  /** Lock contention (EAGAIN / EBUSY) persisted after the bounded retries. */
  'VFIO_RESET_E_BUSY',
  /** The reset was issued but the device or link did not come back (ENOTTY after the wait). */
  'VFIO_RESET_E_NOT_READY',
  /** The device is not bound to vfio-pci, has no group, or is not on the host. */
  'VFIO_RESET_E_NOT_VFIO',
  /** A group is open elsewhere (EBUSY on open, G2). */
  'VFIO_RESET_E_GROUP_BUSY',
  /** The kernel interface offers no eventfds (or cannot wait on them), so events cannot be watched. */
  'VFIO_RESET_E_NO_EVENTFD',
  /** The device cannot report what was asked (no ERR index on a conventional PCI function). */
  'VFIO_RESET_E_NO_ERROR_REPORTING',
  /** An awaited event (error, release request) did not come within the time allowed. */
  'VFIO_RESET_E_NO_EVENT',
  /** Any other kernel refusal; the errno says which. */
  'VFIO_RESET_E_IOCTL',
] as const;
export type VfioErrorCode = (typeof VFIO_ERROR_CODES)[number];

export class VfioError extends Error {
  readonly code: VfioErrorCode;
  /** What the client was doing: `open /dev/vfio/7`, `VFIO_DEVICE_PCI_HOT_RESET` … */
  readonly step: string;
  readonly errno: string | null;
  /** The kernel-semantics rule behind the errno, when the kernel (simulator) names it. */
  readonly rule: string | null;
  readonly bdf: string | null;
  readonly blocker: DeviceRef | null;
  constructor(
    code: VfioErrorCode,
    message: string,
    detail: {
      step: string;
      errno?: string | null;
      rule?: string | null;
      bdf?: string | null;
      blocker?: DeviceRef | null;
    },
  ) {
    super(message);
    this.name = 'VfioError';
    this.code = code;
    this.step = detail.step;
    this.errno = detail.errno ?? null;
    this.rule = detail.rule ?? null;
    this.bdf = detail.bdf ?? null;
    this.blocker = detail.blocker ?? null;
  }
}

export function refText(r: DeviceRef): string {
  return `${r.bdf} (group ${r.group ?? 'none'}, driver ${r.driver ?? 'none'})`;
}
