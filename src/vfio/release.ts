/**
 * Answering the host's request to give a device back. When the host unbinds vfio-pci from a device
 * this client holds, the unbind waits, and vfio-pci signals the device's REQ eventfd
 * (`VFIO_PCI_REQ_IRQ_INDEX`) at once and every 10 s until the device is closed
 * (`vfio_unregister_group_dev`, `vfio_pci_core_request`). QEMU answers by asking the guest to
 * unplug the device; this client answers by closing the device, which lets the unbind finish.
 * The REQ index exists since Linux 4.0 (not in the 2013 era).
 * @module
 */

import { VfioError } from './errors.ts';
import { waitEventfd } from './irqs.ts';
import type { SessionDevice, VfioSession } from './session.ts';
import { triggerEventfd } from './trigger.ts';

export interface ReleaseWatch<D extends SessionDevice = SessionDevice> {
  readonly dev: D;
  readonly efd: number;
}

export interface ReleaseAnswer {
  bdf: string;
  /** Requests read from the eventfd before the device was closed. */
  requests: number;
}

/** Sets an eventfd as the device's REQ trigger. */
export function watchReleaseRequests<D extends SessionDevice>(
  session: VfioSession<D>,
  dev: D,
): ReleaseWatch<D> {
  const efd = triggerEventfd(session, dev, 'REQ');
  return { dev, efd };
}

/**
 * Waits up to `timeoutMs` for a release request; when one comes, closes the device (and the
 * eventfd) so the host's unbind can complete.
 */
export function answerReleaseRequest<D extends SessionDevice>(
  session: VfioSession<D>,
  watch: ReleaseWatch<D>,
  timeoutMs: number,
): ReleaseAnswer {
  const requests = waitEventfd(session.host.sys, watch.efd, timeoutMs);
  if (requests === 0)
    throw new VfioError(
      'VFIO_RESET_E_NO_EVENT',
      `the host did not ask for ${watch.dev.bdf} back within ${timeoutMs} ms`,
      { step: 'poll REQ eventfd', bdf: watch.dev.bdf },
    );
  session.closeDevice(watch.dev);
  session.host.sys.close(watch.efd);
  return { bdf: watch.dev.bdf, requests };
}
