/**
 * An eventfd as a held device's ERR or REQ trigger (`VFIO_DEVICE_SET_IRQS`), through a session:
 * refusals come back as `VfioError`s, with no EAGAIN/EBUSY retries.
 * Error recovery (recovery.ts) and the release answer (release.ts) both watch a device this way.
 * @module
 */

import { VFIO_PCI_IRQ_INDEX } from '../uapi/vfio-irqs.ts';
import { eventfdCalls, setIrqEventfd } from './irqs.ts';
import { type CallContext, kernelCall } from './kernel-calls.ts';
import type { SessionDevice, VfioSession } from './session.ts';

/** The call context of a session's notification ioctls: translated, never retried. */
export function notifyCalls(session: VfioSession): CallContext {
  return { mode: session.mode, sysfs: session.host.sysfs, busyRetries: 0 };
}

/** Sets (`efd` ≥ 0) or removes (-1) the device's `index` trigger. */
export function setTrigger(
  session: VfioSession,
  dev: SessionDevice,
  index: 'ERR' | 'REQ',
  efd: number,
): void {
  kernelCall(notifyCalls(session), `VFIO_DEVICE_SET_IRQS ${index} ${dev.bdf}`, dev.bdf, () =>
    setIrqEventfd(session.host.sys, dev.fd, VFIO_PCI_IRQ_INDEX[index], efd),
  );
}

/** A new eventfd set as the device's `index` trigger; closed again when the kernel refuses it. */
export function triggerEventfd(session: VfioSession, dev: SessionDevice, index: 'ERR' | 'REQ'): number {
  const sys = session.host.sys;
  const efd = eventfdCalls(sys, 'eventfd').eventfd();
  try {
    setTrigger(session, dev, index, efd);
  } catch (e) {
    sys.close(efd);
    throw e;
  }
  return efd;
}
