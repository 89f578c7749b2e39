import assert from 'node:assert/strict';
import { test } from 'node:test';
import { resetDevice } from '../../src/vfio/reset-device.ts';
import { bindTo, simOf } from '../helpers/sim.ts';

test('a hot reset report lists every affected function with group and driver, and the time by phase', () => {
  const k = simOf('qemu-sw');
  const r = resetDevice(k, '03:00.0', 'hot', () => k.clock.now());
  assert.equal(r.ok, true);
  assert.equal(r.performed, 'hot-reset');
  assert.deepEqual(
    r.affected.map((a) => [a.bdf, a.driver]),
    [['0000:03:00.0', 'vfio-pci']],
  );
  assert.ok(r.timing && r.timing.resetMs > 1000 && r.timing.resetMs < 1260, JSON.stringify(r.timing));
});

test('a refused reset is data: code, errno, the blocking device; the session is closed afterwards', () => {
  const k = simOf('workstation');
  bindTo(k, '0000:01:00.0', 'vfio-pci');
  const r = resetDevice(k, '0000:01:00.0', 'hot');
  assert.equal(r.ok, false);
  assert.equal(r.error?.code, 'VFIO_RESET_E_NOT_VIABLE');
  assert.equal(r.error?.blocker?.bdf, '0000:01:00.1');
  assert.equal(k.vfioState().fds.length, 0, 'no fd left open');
});

test('auto follows QEMU’s policy and records each step', () => {
  const k = simOf('qemu-sw');
  const r = resetDevice(k, '0000:03:00.0', 'auto');
  assert.equal(r.performed, 'function-reset');
  assert.equal(r.steps[0]?.outcome, 'done');
});
