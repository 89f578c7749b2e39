/**
 * D1 and the device-release request (vfio_unregister_group_dev, vfio_pci_core_request): an unbind
 * of vfio-pci while the device is open waits; with a REQ eventfd the user is asked at once and
 * every 10 s (a log line at #0, #10, …), and the unbind completes at the device's last close.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SimBlockedError, type SimKernel } from '../../src/sim/kernel.ts';
import { VFIO_PCI_IRQ_INDEX } from '../../src/uapi/vfio-irqs.ts';
import { openBound } from '../helpers/cdev-steps.ts';
import {
  eraKernel,
  groupIdOf,
  kernel,
  openDevice,
  setIrqTrigger,
  throwsErrno,
} from '../helpers/vfio-steps.ts';

const RP = '0000:01:00.0';
const UNBIND = 'bus/pci/drivers/vfio-pci/unbind';

const relayed = (k: SimKernel) =>
  k.log
    .all()
    .flatMap(({ atMs, event: e }) =>
      e.kind === 'log' && e.text.startsWith('Relaying device request')
        ? [`${e.driver} ${atMs}: ${e.text}`]
        : [],
    );

function blocked(f: () => void): SimBlockedError {
  try {
    f();
  } catch (e) {
    if (e instanceof SimBlockedError) return e;
    throw e;
  }
  assert.fail('the write was expected to block');
}

test('D1 with a REQ eventfd: the unbind blocks, the user is asked now and every 10 s, and the last close completes it', () => {
  const k = kernel('qemu-rp');
  const o = openDevice(k, RP);
  const efd = setIrqTrigger(k, o.device, VFIO_PCI_IRQ_INDEX.REQ);
  const t0 = k.clock.now();
  const e = blocked(() => k.sys.writeSysfs(UNBIND, RP));
  assert.equal(e.device, RP);
  assert.match(e.message, /blocks until 0000:01:00.0 is released/);
  assert.equal(k.host.state(RP)!.driver, 'vfio-pci', 'the write has not returned: still bound');
  assert.deepEqual(k.sys.poll([efd], 0), [efd]);
  assert.equal(k.sys.readEventfd(efd), 1);
  assert.deepEqual(relayed(k), [`vfio-pci ${t0}: Relaying device request to user (#0)`]);

  // The next ask comes 10 s later, on the virtual clock.
  assert.deepEqual(k.sys.poll([efd], 15_000), [efd]);
  assert.equal(k.clock.now() - t0, 10_000);
  assert.equal(k.sys.readEventfd(efd), 1);
  // Asks #2…#10 in the next 90 s; only #0 and #10 are logged (!(count % 10)).
  assert.deepEqual(k.sys.poll([], 90_000), []);
  assert.equal(k.sys.readEventfd(efd), 9);
  assert.deepEqual(relayed(k), [
    `vfio-pci ${t0}: Relaying device request to user (#0)`,
    `vfio-pci ${t0 + 100_000}: Relaying device request to user (#10)`,
  ]);

  // A second unbind joins the wait: no new request.
  blocked(() => k.sys.writeSysfs(UNBIND, RP));
  throwsErrno(() => k.sys.readEventfd(efd), 'EAGAIN', 'eventfd.EAGAIN');

  k.sys.close(o.device); // the user lets go: the unbind completes inside this close
  assert.equal(k.host.state(RP)!.driver, null);
  assert.equal(k.sysfs.kind(`bus/pci/devices/${RP}/driver`), null);
  throwsErrno(() => k.sys.open(`/dev/vfio/${groupIdOf(k, RP)}`), 'ENOENT', 'G1');
  k.sys.poll([], 60_000);
  throwsErrno(() => k.sys.readEventfd(efd), 'EAGAIN', 'eventfd.EAGAIN');
  assert.equal(relayed(k).length, 2, 'no request after the release');
});

test('D1 without a REQ eventfd stays a refusal (EBUSY) in the simulator; 2013 has no request at all', () => {
  for (const era of ['6.1', '2013'] as const) {
    const k = eraKernel('qemu-rp', era);
    openDevice(k, RP);
    throwsErrno(() => k.sys.writeSysfs(UNBIND, RP), 'EBUSY', 'D1');
  }
});

test('[6.6+] a cdev-opened device: REQ set on the cdev, the unbind waits for the cdev fd to close', () => {
  const k = eraKernel('qemu-rp', '6.6+');
  const b = openBound(k, RP);
  const efd = setIrqTrigger(k, b.cdev, VFIO_PCI_IRQ_INDEX.REQ);
  blocked(() => k.sys.writeSysfs(UNBIND, RP));
  assert.equal(k.sys.readEventfd(efd), 1);
  k.sys.close(b.cdev);
  assert.equal(k.host.state(RP)!.driver, null);
  assert.equal(k.sysfs.kind(`bus/pci/devices/${RP}/vfio-dev`), null);
});

test('poll needs a finite timeout in the simulator, and only eventfds', () => {
  const k = kernel('qemu-rp');
  const efd = k.sys.eventfd();
  assert.throws(() => k.sys.poll([efd], -1), /finite timeout/);
  throwsErrno(() => k.sys.poll([0], 0), 'EBADF', 'fd');
  const c = k.sys.open('/dev/vfio/vfio');
  throwsErrno(() => k.sys.readEventfd(c), 'EINVAL', 'eventfd.not-eventfd');
});
