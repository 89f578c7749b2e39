import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { BARE_METAL, QEMU_GUEST, SimClock } from '../../src/sim/clock.ts';
import { KernelLog } from '../../src/sim/log.ts';

test('T0: msleep at HZ=250 lasts ceil(ms/4)+1 ticks on bare metal (msleep(2) 8 ms, msleep(10) 16 ms, msleep(1100) 1104 ms)', () => {
  const c = new SimClock(BARE_METAL);
  assert.equal(c.msleepDuration(2), 8);
  assert.equal(c.msleepDuration(10), 16);
  assert.equal(c.msleepDuration(20), 24);
  assert.equal(c.msleepDuration(100), 104);
  assert.equal(c.msleepDuration(1100), 1104);
});

test('T1: in the QEMU guest each msleep overshoots by one more tick (the fit that gives 2.05 s / 1.14 s / 20 ms, §9.4)', () => {
  const c = new SimClock(QEMU_GUEST);
  assert.equal(c.msleepDuration(10), 20);
  // §9.1: msleep(2) + msleep(20) + 100 × msleep(10) ≈ 2.04 s before save/restore costs.
  assert.equal(c.msleepDuration(2) + c.msleepDuration(20) + 100 * c.msleepDuration(10), 2040);
  // §9.2: msleep(2) + msleep(1100).
  assert.equal(c.msleepDuration(2) + c.msleepDuration(1100), 1120);
});

test('T0: usleep_range is hrtimer based: it ends at its upper bound, with no jiffy rounding', () => {
  const c = new SimClock(QEMU_GUEST);
  c.usleepRange(10000, 12000);
  assert.equal(c.now(), 12);
});

test('property T0: msleep(ms) lasts at least ms and at most ceil(ms·HZ/1000)+1 ticks (+ the guest overshoot)', () => {
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 70000 }), fc.constantFrom(100, 250, 300, 1000), (ms, hz) => {
      const c = new SimClock({ ...BARE_METAL, hz });
      const d = c.msleepDuration(ms);
      const tick = 1000 / hz;
      assert.ok(d >= ms);
      assert.ok(d <= (Math.ceil((ms * hz) / 1000) + 1) * tick + 1e-9);
    }),
  );
});

test('the virtual clock only moves forward', () => {
  const c = new SimClock();
  c.msleep(5);
  assert.throws(() => c.advance(-1), RangeError);
  assert.throws(() => c.advance(Number.NaN), RangeError);
  assert.equal(c.now(), c.msleepDuration(5));
});

test('the kernel log stamps events with virtual time and prints them as dmesg does', () => {
  const c = new SimClock(BARE_METAL);
  const log = new KernelLog(() => c.now());
  c.advance(1234.5);
  log.print('warn', '0000:00:02.0', 'Data Link Layer Link Active not set in 1000 msec');
  log.emit({ kind: 'hot-remove', device: '0000:01:00.0', reason: 'link down' });
  assert.deepEqual(log.dmesg(), [
    '[    1.234500] pci 0000:00:02.0: Data Link Layer Link Active not set in 1000 msec',
  ]);
  assert.equal(log.since(1)[0]?.event.kind, 'hot-remove');
});

test('kernel timers run at their deadline, in order, whoever moves the clock; a cancelled one never runs', () => {
  const c = new SimClock(BARE_METAL);
  const seen: string[] = [];
  c.at(30, () => seen.push(`b@${c.now()}`));
  c.at(10, () => {
    seen.push(`a@${c.now()}`);
    c.at(c.now() + 5, () => seen.push(`a2@${c.now()}`));
  });
  const cancel = c.at(20, () => seen.push('never'));
  cancel();
  assert.equal(c.nextTimer(), 10);
  c.advance(100);
  assert.deepEqual(seen, ['a@10', 'a2@15', 'b@30']);
  assert.equal(c.now(), 100);
  assert.equal(c.nextTimer(), null);
});
