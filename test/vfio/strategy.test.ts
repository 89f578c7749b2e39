import assert from 'node:assert/strict';
import { test } from 'node:test';
import { GroupSession } from '../../src/vfio/group-session.ts';
import { qemuReset, resetCapabilities } from '../../src/vfio/strategy.ts';
import { simOf } from '../helpers/sim.ts';

test('QEMU policy: FLR-capable nvme with working kernel reset → VFIO_DEVICE_RESET first', () => {
  const s = new GroupSession(simOf('qemu-sw'));
  const d = s.openDevice('0000:03:00.0');
  assert.deepEqual(resetCapabilities(s, d.bdf), { hasFlr: true, hasPmReset: false });
  const r = qemuReset(s, d);
  assert.equal(r.performed, 'function-reset');
  assert.equal(r.steps.length, 1);
});

test('QEMU policy: PM-only e1000e → the hot reset is preferred over the PM reset (peers §1.1 step 5 before 6)', () => {
  const k = simOf('qemu-rp25');
  const s = new GroupSession(k);
  const d = s.openDevice('0000:01:00.0');
  assert.deepEqual(resetCapabilities(s, d.bdf), { hasFlr: false, hasPmReset: true });
  const r = qemuReset(s, d);
  assert.deepEqual(
    r.steps.map((x) => `${x.action}:${x.outcome}`),
    ['function-reset:skipped', 'hot-reset:done'],
  );
  assert.equal(r.performed, 'hot-reset');
});

test('QEMU policy: when the hot reset fails (§9.1 link never active) the PM reset is the last resort', () => {
  const s = new GroupSession(simOf('qemu-rp'));
  const d = s.openDevice('0000:01:00.0');
  const r = qemuReset(s, d);
  assert.deepEqual(
    r.steps.map((x) => `${x.action}:${x.outcome}`),
    ['function-reset:skipped', 'hot-reset:failed', 'pm-reset:done'],
  );
  assert.equal(r.steps[1]!.error?.code, 'VFIO_RESET_E_NOT_READY');
  assert.equal(r.performed, 'pm-reset');
});

test('QEMU policy "single": a hot reset that would hit another in-use device is refused, naming it', () => {
  const k = simOf('qemu-ppb');
  const s = new GroupSession(k);
  const a = s.openDevice('0000:02:01.0');
  s.openDevice('0000:02:01.1');
  const r = qemuReset(s, a);
  assert.equal(r.performed, null);
  const hot = r.steps.find((x) => x.action === 'hot-reset')!;
  assert.equal(hot.outcome, 'failed');
  assert.equal(hot.error?.blocker?.bdf, '0000:02:01.1');
});
