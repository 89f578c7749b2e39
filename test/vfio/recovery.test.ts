/**
 * The client's error recovery and release answer (vfio/recovery.ts, vfio/release.ts) against the
 * simulated kernel, in group and cdev mode: the ERR event is observed, the device is reset and
 * works again, BAR sizes are re-read (not assumed) and changes reported; a release request is
 * answered by closing the device.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SimBlockedError, type SimKernel } from '../../src/sim/kernel.ts';
import { CdevSession } from '../../src/vfio/cdev-session.ts';
import { GroupSession } from '../../src/vfio/group-session.ts';
import { formatBarChange, recoverFromError, stopWatching, watchErrors } from '../../src/vfio/recovery.ts';
import { answerReleaseRequest, watchReleaseRequests } from '../../src/vfio/release.ts';
import { simOf } from '../helpers/sim.ts';
import { caughtVfioError, eraKernel, kernel } from '../helpers/vfio-steps.ts';

const NVME = '0000:05:00.0'; // workstation: vfio-pci, FLR
const RP = '0000:01:00.0'; // qemu-rp: e1000e, pm then bus
const RPN = '0000:01:00.0'; // qemu-rpn: e1000e in a pciehp slot

test('group mode: the owner sees the ERR event, resets the function, re-reads the BARs and reports the change', () => {
  const k = simOf('workstation');
  k.inject({ kind: 'bars', bdf: NVME, sizes: [0x4000] });
  const s = new GroupSession(k);
  const dev = s.openDevice(NVME);
  const watch = watchErrors(s, dev);
  assert.deepEqual(watch.bars, [0x4000, 0, 0, 0, 0, 0]);
  k.inject({ kind: 'after-reset', bdf: NVME, bars: [0x8000, 0, 0x1000] });
  k.injectError(NVME);
  const r = recoverFromError(s, watch, 1000);
  assert.equal(r.events, 1);
  assert.equal(r.reset, 'function-reset');
  assert.equal(r.answering, true);
  assert.deepEqual(r.barChanges, [
    { bar: 0, before: 0x4000, after: 0x8000 },
    { bar: 2, before: 0, after: 0x1000 },
  ]);
  assert.deepEqual(r.barChanges.map(formatBarChange), ['BAR0 16 KiB → 32 KiB', 'BAR2 none → 4 KiB']);
  stopWatching(s, watch);
  s.close();
});

test('cdev mode: a function reset that cannot run falls back to the hot reset', () => {
  const k = eraKernel('qemu-rpn', '6.6+');
  const s = new CdevSession(k);
  const dev = s.openDevice(RPN);
  const watch = watchErrors(s, dev);
  k.injectError(RPN);
  k.inject({ kind: 'hold-device-lock', bdf: RPN, held: true });
  // With the device lock held the function reset keeps failing (EAGAIN); release it for the hot reset.
  const functionReset = s.functionReset.bind(s);
  s.functionReset = (d) => {
    try {
      functionReset(d);
    } finally {
      k.inject({ kind: 'hold-device-lock', bdf: RPN, held: false });
    }
  };
  const r = recoverFromError(s, watch, 1000);
  assert.deepEqual(
    r.attempts.map((a) => [a.reset, a.error === null]),
    [
      ['function-reset', false],
      ['hot-reset', true],
    ],
  );
  assert.equal(r.reset, 'hot-reset');
  assert.equal(r.answering, true);
  assert.equal(k.pci.state(RPN).uncorrectable, null);
  s.close();
});

test('no error within the time allowed, and a conventional PCI function, are reported as such', () => {
  const k = kernel('qemu-rp');
  const s = new GroupSession(k);
  const watch = watchErrors(s, s.openDevice(RP));
  const t0 = k.clock.now();
  assert.equal(caughtVfioError(() => recoverFromError(s, watch, 5000)).code, 'VFIO_RESET_E_NO_EVENT');
  assert.equal(k.clock.now() - t0, 5000, 'waited on the virtual clock');
  s.close();
  const ppb = kernel('qemu-ppb');
  const g = new GroupSession(ppb);
  const e = caughtVfioError(() => watchErrors(g, g.openDevice('0000:02:01.0')));
  assert.equal(e.code, 'VFIO_RESET_E_NO_ERROR_REPORTING');
  assert.match(e.message, /0000:02:01.0 reports no errors through VFIO .*only PCIe functions do/);
  g.close();
});

test('a kernel interface without eventfds is refused with a clear code', () => {
  const k = kernel('qemu-rp');
  const { eventfd: _e, readEventfd: _r, poll: _p, ...plain } = k.sys;
  const host = { sysfs: k.sysfs, sys: plain };
  const s = new GroupSession(host);
  const e = caughtVfioError(() => watchErrors(s, s.openDevice(RP)));
  assert.equal(e.code, 'VFIO_RESET_E_NO_EVENTFD');
  s.close();
});

function unbindAsAdmin(k: SimKernel, bdf: string): boolean {
  try {
    k.sys.writeSysfs('bus/pci/drivers/vfio-pci/unbind', bdf);
    return false;
  } catch (e) {
    if (e instanceof SimBlockedError) return true;
    throw e;
  }
}

test('release request: the host unbinds vfio-pci, the client answers by closing the device, the unbind completes', () => {
  for (const [era, make] of [
    ['6.1', (k: SimKernel) => new GroupSession(k)],
    ['6.6+', (k: SimKernel) => new CdevSession(k)],
  ] as const) {
    const k = eraKernel('qemu-rp', era);
    const s = make(k);
    const dev = s.openDevice(RP);
    const watch = watchReleaseRequests(s, dev);
    assert.equal(unbindAsAdmin(k, RP), true, `${era}: the unbind waits`);
    const a = answerReleaseRequest(s, watch, 30_000);
    assert.deepEqual(a, { bdf: RP, requests: 1 });
    assert.equal(k.host.state(RP)!.driver, null, `${era}: the unbind completed`);
    assert.deepEqual(s.heldDevices(), []);
    s.close();
  }
});
