/**
 * Typed calls of the vfio-pci notification and region ioctls over any `Syscalls`: IRQ info, an
 * eventfd as the ERR or REQ trigger (`VFIO_DEVICE_SET_IRQS`, DATA_EVENTFD | ACTION_TRIGGER), region
 * info, and the eventfd plumbing itself (create, wait, read). Kernel refusals stay `KernelError`s.
 * @module
 */

import type { Syscalls } from '../kernel/syscalls.ts';
import { KernelError } from '../kernel/syscalls.ts';
import { VFIO } from '../uapi/ioctl.ts';
import {
  decodeIrqInfo,
  decodeRegionInfo,
  encodeIrqInfo,
  encodeIrqSet,
  encodeRegionInfo,
  IRQ_INFO_SIZE,
  IRQ_SET_HEADER_SIZE,
  type IrqInfo,
  REGION_INFO_SIZE,
  type RegionInfo,
  VFIO_IRQ_SET,
  VFIO_PCI_REGION_INDEX,
} from '../uapi/vfio-irqs.ts';
import { VfioError } from './errors.ts';

export function irqInfo(sys: Syscalls, device: number, index: number): IrqInfo {
  const buf = encodeIrqInfo({ argsz: IRQ_INFO_SIZE, flags: 0, index, count: 0 });
  sys.ioctl(device, VFIO.DEVICE_GET_IRQ_INFO, buf);
  return decodeIrqInfo(buf);
}

/** Sets (`efd` ≥ 0) or removes (-1) the eventfd trigger of a single-vector index (ERR, REQ). */
export function setIrqEventfd(sys: Syscalls, device: number, index: number, efd: number): void {
  const buf = encodeIrqSet({
    argsz: IRQ_SET_HEADER_SIZE + 4,
    flags: VFIO_IRQ_SET.DATA_EVENTFD | VFIO_IRQ_SET.ACTION_TRIGGER,
    index,
    start: 0,
    count: 1,
    data: [efd],
  });
  sys.ioctl(device, VFIO.DEVICE_SET_IRQS, buf);
}

export function regionInfo(sys: Syscalls, device: number, index: number): RegionInfo {
  const buf = encodeRegionInfo({
    argsz: REGION_INFO_SIZE,
    flags: 0,
    index,
    capOffset: 0,
    size: 0n,
    offset: 0n,
  });
  sys.ioctl(device, VFIO.DEVICE_GET_REGION_INFO, buf);
  return decodeRegionInfo(buf);
}

/** BAR0–BAR5 sizes in bytes, as the kernel reports them now (0: no such BAR). */
export function barSizes(sys: Syscalls, device: number): number[] {
  return Array.from({ length: VFIO_PCI_REGION_INDEX.BAR5 + 1 }, (_, i) =>
    Number(regionInfo(sys, device, i).size),
  );
}

/** The eventfd calls, or a clear refusal when the kernel interface has none. */
export function eventfdCalls(
  sys: Syscalls,
  step: string,
): Required<Pick<Syscalls, 'eventfd' | 'readEventfd' | 'poll'>> {
  if (!sys.eventfd || !sys.readEventfd || !sys.poll)
    throw new VfioError(
      'VFIO_RESET_E_NO_EVENTFD',
      `${step}: this kernel interface offers no eventfd/poll, so VFIO notifications cannot be watched (the simulator and the Linux backend have them)`,
      { step },
    );
  return {
    eventfd: sys.eventfd.bind(sys),
    readEventfd: sys.readEventfd.bind(sys),
    poll: sys.poll.bind(sys),
  };
}

/**
 * Waits up to `timeoutMs` for the eventfd and reads it: the number of signals since the last read,
 * or 0 when none came in time.
 */
export function waitEventfd(sys: Syscalls, efd: number, timeoutMs: number): number {
  const calls = eventfdCalls(sys, 'poll');
  if (calls.poll([efd], timeoutMs).length === 0) return 0;
  try {
    return calls.readEventfd(efd);
  } catch (e) {
    if (e instanceof KernelError && e.errno === 'EAGAIN') return 0; // another reader took it
    throw e;
  }
}
