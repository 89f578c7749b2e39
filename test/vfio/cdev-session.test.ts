import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CdevSession, hostHasCdev } from '../../src/vfio/cdev-session.ts';
import { VfioError } from '../../src/vfio/errors.ts';
import { GroupSession } from '../../src/vfio/group-session.ts';
import { resetDevice } from '../../src/vfio/reset-device.ts';
import { bindTo, simOf } from '../helpers/sim.ts';

test('K1/K3: the cdev is found through sysfs only on 6.6+; the bind returns a devid ≥ 1', () => {
  assert.equal(hostHasCdev(simOf('qemu-ppb', '6.1'), '0000:02:01.0'), false);
  const k = simOf('qemu-ppb', '6.6+');
  assert.equal(hostHasCdev(k, '0000:02:01.0'), true);
  const d = new CdevSession(k).openDevice('0000:02:01.0');
  assert.ok(d.devid >= 1);
});

test('#49 / H22: the unopened sibling in the same group is OWNED; the hot reset takes an empty fd array', () => {
  const k = simOf('qemu-ppb', '6.6+');
  const s = new CdevSession(k, { bindMissing: false });
  const d = s.openDevice('0000:02:01.0');
  const info = s.hotResetInfo(d);
  assert.equal(info.devIdMode, true);
  assert.equal(info.allOwned, true);
  assert.deepEqual(
    s.hotReset(d).affected.map((a) => a.bdf),
    ['0000:02:01.0', '0000:02:01.1'],
  );
});

test('#50: a function in scope off vfio-pci is NOT_OWNED and is named with driver and group', () => {
  const k = simOf('qemu-ppb', '6.6+');
  bindTo(k, '0000:02:01.1', 'pci-stub');
  const s = new CdevSession(k);
  const d = s.openDevice('0000:02:01.0');
  assert.throws(
    () => s.hotReset(d),
    (e: unknown) =>
      e instanceof VfioError &&
      e.code === 'VFIO_RESET_E_NOT_OWNED' &&
      e.blocker?.bdf === '0000:02:01.1' &&
      e.blocker.driver === 'pci-stub',
  );
});

test('#52: on M-2G the other group’s device is bound to the same context first (bindMissing), then the reset passes', () => {
  const k = simOf('m2g', '6.6+');
  const fns = k.sysfs
    .list('bus/pci/drivers/vfio-pci')
    .filter((n) => /^[0-9a-f]{4}:/.test(n))
    .sort();
  const strict = new CdevSession(k, { bindMissing: false });
  assert.throws(
    () => strict.hotReset(strict.openDevice(fns[0]!)),
    (e: unknown) => e instanceof VfioError && e.code === 'VFIO_RESET_E_NOT_OWNED',
  );
  strict.close();
  const s = new CdevSession(k);
  const d = s.openDevice(fns[0]!);
  assert.equal(s.hotReset(d).affected.length, 2);
  assert.deepEqual(
    s
      .heldDevices()
      .map((x) => x.bdf)
      .sort(),
    fns,
  );
});

test('K3/G2: a device cannot be used through its cdev while its group is open in group mode', () => {
  const k = simOf('qemu-rp', '6.6+');
  const g = new GroupSession(k);
  g.openDevice('0000:01:00.0');
  assert.throws(
    () => new CdevSession(k).openDevice('0000:01:00.0'),
    (e: unknown) => e instanceof VfioError && e.code === 'VFIO_RESET_E_GROUP_BUSY',
  );
});

test('reset --mode auto picks cdev on 6.6+ and group on 6.1', () => {
  const a = simOf('qemu-ppb', '6.6+');
  const r = resetDevice(a, '0000:02:01.0', 'hot');
  assert.equal(r.ok, true, r.error?.message);
  assert.equal(r.mode, 'cdev');
  assert.equal(resetDevice(simOf('qemu-ppb', '6.1'), '0000:02:01.0', 'hot').mode, 'group');
  assert.equal(
    resetDevice(simOf('qemu-ppb', '6.6+'), '0000:02:01.0', 'hot', undefined, 'group').mode,
    'group',
  );
});
