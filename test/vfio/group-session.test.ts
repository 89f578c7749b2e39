import assert from 'node:assert/strict';
import { test } from 'node:test';
import { VfioError } from '../../src/vfio/errors.ts';
import { GroupSession } from '../../src/vfio/group-session.ts';
import { bindTo, simOf } from '../helpers/sim.ts';

const vfioError =
  (code: string, check: (e: VfioError) => void = () => {}) =>
  (e: unknown) => {
    assert.ok(e instanceof VfioError, String(e));
    assert.equal(e.code, code, e.message);
    check(e);
    return true;
  };

test('Appendix A: open a device through container and group; RESET flag as the kernel reports it (D2)', () => {
  const k = simOf('qemu-rp');
  const s = new GroupSession(k);
  const d = s.openDevice('01:00.0');
  assert.equal(d.bdf, '0000:01:00.0');
  assert.equal(d.resetWorks, true, 'e1000e resets by pm at open (O1)');
  const ppb = new GroupSession(simOf('qemu-ppb')).openDevice('0000:02:01.0');
  assert.equal(ppb.resetWorks, false, '§9.3.4: no RESET flag behind the pcie-pci-bridge');
  s.close();
});

test('I4/I7: INFO through the two-call protocol lists the scope in walk order with group ids', () => {
  const k = simOf('qemu-ppb');
  const s = new GroupSession(k);
  const info = s.hotResetInfo(s.openDevice('0000:02:01.1'));
  assert.equal(info.devIdMode, false);
  assert.deepEqual(
    info.entries.map((e) => e.bdf),
    ['0000:02:01.0', '0000:02:01.1'],
  );
  assert.equal(new Set(info.entries.map((e) => e.id)).size, 1);
});

test('§10.4 #26: the PPB hot reset with the one group fd succeeds in about 13 ms (the rig: 13.5–15.6 ms with userspace)', () => {
  const k = simOf('qemu-ppb');
  const s = new GroupSession(k);
  const d = s.openDevice('0000:02:01.0');
  const t0 = k.clock.now();
  const r = s.hotReset(d);
  const ms = k.clock.now() - t0;
  assert.deepEqual(
    r.affected.map((a) => a.bdf),
    ['0000:02:01.0', '0000:02:01.1'],
  );
  assert.ok(ms >= 12 && ms <= 15, `${ms} ms`);
});

test('H6 precheck: a function in scope on a host driver is named with driver and group, before the kernel is asked', () => {
  const k = simOf('qemu-ppb');
  bindTo(k, '0000:02:01.1', 'pci-stub');
  const s = new GroupSession(k);
  const d = s.openDevice('0000:02:01.0');
  assert.throws(
    () => s.hotReset(d),
    vfioError('VFIO_RESET_E_NOT_OWNED', (e) => {
      assert.equal(e.blocker?.bdf, '0000:02:01.1');
      assert.equal(e.blocker?.driver, 'pci-stub');
      assert.match(
        e.message,
        /hot reset of 0000:02:01\.0 needs 0000:02:01\.1 \(group \d+, driver pci-stub\), which you do not own/,
      );
      assert.equal(e.step, 'precheck');
    }),
  );
});

test('H6 without precheck: the kernel answers EINVAL and the error still names the device in the way', () => {
  const k = simOf('qemu-ppb');
  bindTo(k, '0000:02:01.1', 'pci-stub');
  const s = new GroupSession(k, { precheck: false });
  const d = s.openDevice('0000:02:01.0');
  assert.throws(
    () => s.hotReset(d),
    vfioError('VFIO_RESET_E_NOT_OWNED', (e) => {
      assert.equal(e.errno, 'EINVAL');
      assert.equal(e.blocker?.bdf, '0000:02:01.1');
    }),
  );
});

test('G3: a non-viable group is refused at open, naming the host-driver member', () => {
  const k = simOf('workstation');
  bindTo(k, '0000:01:00.0', 'vfio-pci');
  const s = new GroupSession(k);
  assert.throws(
    () => s.openDevice('0000:01:00.0'),
    vfioError('VFIO_RESET_E_NOT_VIABLE', (e) => {
      assert.equal(e.blocker?.bdf, '0000:01:00.1');
      assert.equal(e.blocker?.driver, 'snd_hda_intel');
    }),
  );
});

test('a device not on vfio-pci, or not on the host, is refused before any open', () => {
  const s = new GroupSession(simOf('workstation'));
  assert.throws(
    () => s.openDevice('0000:04:00.0'),
    vfioError('VFIO_RESET_E_NOT_VFIO', (e) => assert.match(e.message, /bound to nvme, not vfio-pci/)),
  );
  assert.throws(() => s.openDevice('0000:7f:00.0'), vfioError('VFIO_RESET_E_NOT_VFIO'));
});

test('I2/H2: a device on the root bus cannot be hot reset (ENODEV → NO_HOT_RESET)', () => {
  const s = new GroupSession(simOf('qemu-root'));
  const d = s.openDevice('0000:00:02.0');
  assert.throws(
    () => s.hotReset(d),
    vfioError('VFIO_RESET_E_NO_HOT_RESET', (e) => assert.equal(e.errno, 'ENODEV')),
  );
});

test('§9.1: the root-port hot reset is issued but the link never comes back: NOT_READY (ENOTTY) after ≈2 s', () => {
  const k = simOf('qemu-rp');
  const s = new GroupSession(k);
  const d = s.openDevice('0000:01:00.0');
  const t0 = k.clock.now();
  assert.throws(
    () => s.hotReset(d),
    vfioError('VFIO_RESET_E_NOT_READY', (e) => assert.equal(e.errno, 'ENOTTY')),
  );
  const ms = k.clock.now() - t0;
  assert.ok(ms > 1845 && ms < 2255, `${ms} ms`);
});

test('D3: VFIO_DEVICE_RESET where reset_works is false → NO_FUNCTION_RESET (EINVAL)', () => {
  const s = new GroupSession(simOf('qemu-ppb'));
  const d = s.openDevice('0000:02:01.0');
  assert.throws(
    () => s.functionReset(d),
    vfioError('VFIO_RESET_E_NO_FUNCTION_RESET', (e) => assert.equal(e.errno, 'EINVAL')),
  );
});

test('H8 contention: a held memory lock is retried a bounded number of times, then BUSY', () => {
  const k = simOf('qemu-ppb');
  const s = new GroupSession(k, { busyRetries: 2 });
  const d = s.openDevice('0000:02:01.0');
  k.inject({ kind: 'hold-memory-lock', bdf: '0000:02:01.1', held: true });
  assert.throws(
    () => s.hotReset(d),
    vfioError('VFIO_RESET_E_BUSY', (e) => assert.equal(e.errno, 'EBUSY')),
  );
  k.inject({ kind: 'hold-memory-lock', bdf: '0000:02:01.1', held: false });
  s.hotReset(d);
});

test('G2: a group held open by another process makes the hot reset name that group', () => {
  const k = simOf('m2g');
  const other = new GroupSession(k);
  const s = new GroupSession(k);
  const fns = k.sysfs
    .list('bus/pci/drivers/vfio-pci')
    .filter((n) => /^[0-9a-f]{4}:/.test(n))
    .sort();
  assert.equal(fns.length, 2, 'm2g has two vfio-pci functions in two groups');
  const d = s.openDevice(fns[0]!);
  other.openDevice(fns[1]!);
  assert.throws(
    () => s.hotReset(d),
    vfioError('VFIO_RESET_E_NOT_OWNED', (e) => assert.equal(e.blocker?.bdf, fns[1])),
  );
  other.close();
  assert.equal(s.hotReset(d).groups.length, 2, '#37: both groups passed');
});

test('close releases every fd: the group can be opened again by another session (G2, G6)', () => {
  const k = simOf('qemu-rp');
  const a = new GroupSession(k);
  a.openDevice('0000:01:00.0');
  a.close();
  const b = new GroupSession(k);
  b.openDevice('0000:01:00.0');
  b.close();
});
