import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { SimKernel } from '../../src/sim/kernel.ts';
import { SimDeadlockError } from '../../src/sim/pci-exec.ts';
import { VFIO } from '../../src/uapi/ioctl.ts';
import { encodeHotReset } from '../../src/uapi/vfio-structs.ts';
import { sriovKernel } from '../helpers/vfio-hosts.ts';
import {
  deviceView,
  eraKernel,
  getDeviceFd,
  groupIdOf,
  hotReset,
  hotResetInfo,
  kernel,
  openContainer,
  openDevice,
  setContainer,
  throwsErrno,
} from '../helpers/vfio-steps.ts';

const F0 = '0000:02:01.0';
const F1 = '0000:02:01.1';
const RP = '0000:01:00.0';
const M0 = '0000:01:00.0';
const M1 = '0000:01:00.1';

function timed<T>(k: SimKernel, f: () => T): { value: T; ms: number } {
  const t0 = k.clock.now();
  const value = f();
  return { value, ms: k.clock.now() - t0 };
}

/** The hot reset answer: 0 or the errno, and the virtual time it took. */
function attempt(k: SimKernel, f: () => number): { result: number | string; ms: number } {
  const t0 = k.clock.now();
  try {
    return { result: f(), ms: k.clock.now() - t0 };
  } catch (e) {
    return { result: (e as { errno: string }).errno, ms: k.clock.now() - t0 };
  }
}

function ppbWith(driver: 'pci-stub' | null, era: '2013' | '6.1' = '6.1') {
  const k = eraKernel('qemu-ppb', era);
  k.sys.writeSysfs('bus/pci/drivers/vfio-pci/unbind', F1);
  if (driver) {
    k.sys.writeSysfs(`bus/pci/devices/${F1}/driver_override`, driver);
    k.sys.writeSysfs(`bus/pci/drivers/${driver}/bind`, F1);
  }
  return k;
}

test('H12 (scenario 26): PPB from 02:01.0 with [G] → 0 in ≈10–20 ms', () => {
  const k = kernel('qemu-ppb');
  const o = openDevice(k, F0);
  const { value, ms } = timed(k, () => hotReset(k, o.device, [o.group]));
  assert.equal(value, 0);
  assert.ok(ms >= 10 && ms <= 25, `${ms} ms`);
});

test('H3 (scenario 27): count 0 → EINVAL; count 3 → EINVAL; [G, G] → 0 (count ≤ functions, duplicates fine)', () => {
  const k = kernel('qemu-ppb');
  const o = openDevice(k, F0);
  throwsErrno(() => hotReset(k, o.device, []), 'EINVAL', 'H3');
  throwsErrno(() => hotReset(k, o.device, [o.group, o.group, o.group]), 'EINVAL', 'H3');
  assert.equal(hotReset(k, o.device, [o.group, o.group]), 0);
});

test('H1/H4 (scenario 28): flags 1 → EINVAL; argsz 8 → EINVAL; argsz 12 with count 1 and the fd present → 0', () => {
  const k = kernel('qemu-ppb');
  const o = openDevice(k, F0);
  throwsErrno(() => hotReset(k, o.device, [o.group], { flags: 1 }), 'EINVAL', 'H1');
  throwsErrno(() => hotReset(k, o.device, [o.group], { argsz: 8 }), 'EINVAL', 'H1');
  assert.equal(hotReset(k, o.device, [o.group], { argsz: 12 }), 0);
});

test('H4: the fd array is copied by count, whatever argsz says: a buffer too short for it faults', () => {
  const k = kernel('qemu-ppb');
  const o = openDevice(k, F0);
  const buf = encodeHotReset({ argsz: 100, flags: 0, count: 2, fds: [o.group] });
  throwsErrno(() => k.sys.ioctl(o.device, VFIO.DEVICE_PCI_HOT_RESET, buf), 'EFAULT', 'copy_from_user');
  throwsErrno(
    () => k.sys.ioctl(o.device, VFIO.DEVICE_PCI_HOT_RESET, new Uint8Array(8)),
    'EFAULT',
    'copy_from_user',
  );
});

test('H5 (scenario 29): container fd EINVAL; device fd EINVAL; -1 EBADF; [G, 987] EBADF; [987, container] EBADF', () => {
  const k = kernel('qemu-ppb');
  const o = openDevice(k, F0);
  throwsErrno(() => hotReset(k, o.device, [o.container]), 'EINVAL', 'H5.not-group');
  throwsErrno(() => hotReset(k, o.device, [o.device]), 'EINVAL', 'H5.not-group');
  throwsErrno(() => hotReset(k, o.device, [k.sys.open('/dev/null')]), 'EINVAL', 'H5.not-group');
  throwsErrno(() => hotReset(k, o.device, [-1]), 'EBADF', 'H5.fd');
  throwsErrno(() => hotReset(k, o.device, [o.group, 987]), 'EBADF', 'H5.fd');
  throwsErrno(() => hotReset(k, o.device, [987, o.container]), 'EBADF', 'H5.fd');
});

test('H6 (scenario 30): PPB with 02:01.1 driverless or on pci-stub → EINVAL (scope not inside the dev_set)', () => {
  for (const driver of [null, 'pci-stub'] as const) {
    const k = ppbWith(driver);
    const o = openDevice(k, F0);
    const e = throwsErrno(() => hotReset(k, o.device, [o.group]), 'EINVAL', 'H6');
    assert.match(e.message, new RegExp(`${F1} \\(${driver ?? 'no driver'}\\)`));
  }
});

test('H6 [2013] (scenario 30): the same PPB hot reset succeeds (≈1 s): drivers do not matter, groups do', () => {
  for (const driver of [null, 'pci-stub'] as const) {
    const k = ppbWith(driver, '2013');
    const o = openDevice(k, F0);
    const { result, ms } = attempt(k, () => hotReset(k, o.device, [o.group]));
    assert.equal(result, 0);
    assert.ok(ms >= 1000 && ms < 1100, `${ms} ms`);
  }
});

test('H9 (scenario 31): RP in ACPI-hotplug mode → ENOTTY after ≈2 s; [2013] → 0 after ≈1 s', () => {
  const k = kernel('qemu-rp');
  const o = openDevice(k, RP);
  const r = attempt(k, () => hotReset(k, o.device, [o.group]));
  assert.equal(r.result, 'ENOTTY');
  assert.ok(r.ms > 1500 && r.ms < 2500, `${r.ms} ms`);
  assert.ok(k.log.dmesg().some((l) => /Data Link Layer Link Active not set/.test(l)));
  throwsErrno(() => hotReset(k, o.device, [o.group]), 'ENOTTY', 'H9.ENOTTY');

  const old = eraKernel('qemu-rp', '2013');
  const oo = openDevice(old, RP);
  const r13 = attempt(old, () => hotReset(old, oo.device, [oo.group]));
  assert.equal(r13.result, 0);
  assert.ok(r13.ms >= 1000 && r13.ms < 1100, `${r13.ms} ms`);
});

test('H9 (scenario 39): after the failed RP hot reset the device still works (config restored)', () => {
  const k = kernel('qemu-rp');
  const o = openDevice(k, RP);
  const saved = k.pci.state(RP).config.slice(0, 64);
  assert.equal(attempt(k, () => hotReset(k, o.device, [o.group])).result, 'ENOTTY');
  assert.deepEqual(k.pci.state(RP).config.slice(0, 64), saved);
  assert.equal(k.sys.ioctl(o.device, VFIO.DEVICE_RESET), 0);
});

test('H9 (scenarios 32–34): RPN (pciehp slot) ≈0.13 s, RP25 ≈0.11 s, SW nvme ≈1.1 s — all 0', () => {
  for (const [ex, bdf, lo, hi] of [
    ['qemu-rpn', RP, 100, 200],
    ['qemu-rp25', RP, 100, 200],
    ['qemu-sw', '0000:03:00.0', 1050, 1200],
  ] as const) {
    const k = kernel(ex);
    const o = openDevice(k, bdf);
    const r = attempt(k, () => hotReset(k, o.device, [o.group]));
    assert.equal(r.result, 0, ex);
    assert.ok(r.ms >= lo && r.ms <= hi, `${ex}: ${r.ms} ms`);
  }
});

test('H2/H15 (scenario 35): ROOT → ENODEV; with flags 1 → EINVAL (flags are checked first)', () => {
  const k = kernel('qemu-root');
  const o = openDevice(k, '0000:00:02.0');
  throwsErrno(() => hotReset(k, o.device, [o.group]), 'ENODEV', 'H2');
  throwsErrno(() => hotReset(k, o.device, [o.group], { flags: 1 }), 'EINVAL', 'H1');
  throwsErrno(() => hotReset(k, o.device, []), 'ENODEV', 'H2');
});

test('H8/H13 (scenario 36): MF from 00.0 with [G] while 00.1 is bound but unopened → 0 (≈0.11 s), INFO count 2', () => {
  const k = kernel('qemu-mf');
  const o = openDevice(k, M0);
  assert.equal(hotResetInfo(k, o.device).count, 2);
  const r = attempt(k, () => hotReset(k, o.device, [o.group]));
  assert.equal(r.result, 0);
  assert.ok(r.ms >= 90 && r.ms <= 200, `${r.ms} ms`);
  assert.equal(deviceView(k, M1).openCount, 0);
});

test('H8 (scenario 37): M-2G — only the caller group → EINVAL; both groups → 0', () => {
  const k = kernel('m2g');
  const o = openDevice(k, M0);
  throwsErrno(() => hotReset(k, o.device, [o.group]), 'EINVAL', 'H8.group');
  const g2 = k.sys.open(`/dev/vfio/${groupIdOf(k, M1)}`);
  assert.equal(hotReset(k, o.device, [o.group, g2]), 0);
  assert.equal(hotReset(k, o.device, [g2, o.group]), 0, 'order does not matter');
});

test('H13 (scenario 37): a group fd opened without any container proves ownership in 6.1', () => {
  const k = kernel('m2g');
  const o = openDevice(k, M0);
  const g2 = k.sys.open(`/dev/vfio/${groupIdOf(k, M1)}`);
  assert.equal(k.vfioState().groups.find((g) => g.id === groupIdOf(k, M1))!.container, null);
  assert.equal(hotReset(k, o.device, [o.group, g2]), 0);
});

test('E1 [2013] (scenario 37): the second group fd without a container → EINVAL; with container and IOMMU → 0', () => {
  const k = eraKernel('m2g', '2013');
  const o = openDevice(k, M0);
  const g2 = k.sys.open(`/dev/vfio/${groupIdOf(k, M1)}`);
  throwsErrno(() => hotReset(k, o.device, [o.group, g2]), 'EINVAL', 'E1.no-container');
  const c2 = openContainer(k);
  setContainer(k, g2, c2);
  throwsErrno(() => hotReset(k, o.device, [o.group, g2]), 'EINVAL', 'E1.no-iommu');
  k.sys.ioctl(c2, VFIO.SET_IOMMU, 3);
  assert.equal(hotReset(k, o.device, [o.group, g2]), 0);
});

test('E1 [2013]: the external-user checks refuse a non-group fd (EINVAL) and a group gone non-viable (EINVAL)', () => {
  const k = eraKernel('qemu-ppb', '2013');
  const o = openDevice(k, F0);
  throwsErrno(() => hotReset(k, o.device, [o.container]), 'EINVAL', 'E1.not-group');
  throwsErrno(() => hotReset(k, o.device, [-1]), 'EBADF', 'H5.fd');
  // 2013 lets a host driver bind into a live group (it only complains); the group is then not viable.
  k.sys.writeSysfs(`bus/pci/devices/${F1}/driver_override`, 'e1000');
  k.sys.writeSysfs('bus/pci/drivers/vfio-pci/unbind', F1);
  k.sys.writeSysfs('bus/pci/drivers_probe', F1);
  assert.equal(k.host.state(F1)!.driver, 'e1000');
  assert.ok(k.log.dmesg().some((l) => /non-whitelisted driver e1000 in live group/.test(l)));
  throwsErrno(() => hotReset(k, o.device, [o.group]), 'EINVAL', 'E1.not-viable');
});

test('H2013 [2013]: every function in scope needs its group among the fds (EINVAL), and a group at all (EPERM)', () => {
  const k = eraKernel('m2g', '2013');
  const o = openDevice(k, M0);
  throwsErrno(() => hotReset(k, o.device, [o.group]), 'EINVAL', 'H2013.group');
  const groups = k.host.groups;
  const orig = groups.groupOf.bind(groups);
  Object.assign(groups, {
    groupOf: (f: Parameters<typeof orig>[0]) =>
      (typeof f === 'string' ? f : f.name) === M1 ? null : orig(f),
  });
  throwsErrno(() => hotReset(k, o.device, [o.group]), 'EPERM', 'H2013.no-group');
});

test('H8 (scenario 38): a dev_set member memory or vma lock held → EBUSY; a PCI device lock held → EAGAIN', () => {
  const k = kernel('qemu-ppb');
  const o = openDevice(k, F0);
  k.inject({ kind: 'hold-memory-lock', bdf: F1, held: true });
  throwsErrno(() => hotReset(k, o.device, [o.group]), 'EBUSY', 'H8.memory');
  k.inject({ kind: 'hold-memory-lock', bdf: F1, held: false });
  k.inject({ kind: 'hold-vma-lock', bdf: F0, held: true });
  throwsErrno(() => hotReset(k, o.device, [o.group]), 'EBUSY', 'H8.vma');
  k.inject({ kind: 'hold-vma-lock', bdf: F0, held: false });
  k.inject({ kind: 'hold-device-lock', bdf: F1, held: true });
  throwsErrno(() => hotReset(k, o.device, [o.group]), 'EAGAIN', 'H9.EAGAIN');
  k.inject({ kind: 'hold-device-lock', bdf: F1, held: false });
  // The bridge above the bus is locked too (pci_bus_trylock takes bus->self).
  k.inject({ kind: 'hold-device-lock', bdf: '0000:01:00.0', held: true });
  throwsErrno(() => hotReset(k, o.device, [o.group]), 'EAGAIN', 'H9.EAGAIN');
  k.inject({ kind: 'hold-device-lock', bdf: '0000:01:00.0', held: false });
  assert.equal(hotReset(k, o.device, [o.group]), 0, 'H10: every lock was released');
});

test('H8: group membership is checked before the vma lock, member by member', () => {
  const k = kernel('m2g');
  const o = openDevice(k, M0);
  k.inject({ kind: 'hold-vma-lock', bdf: M0, held: true });
  throwsErrno(() => hotReset(k, o.device, [o.group]), 'EBUSY', 'H8.vma');
  k.inject({ kind: 'hold-vma-lock', bdf: M0, held: false });
  k.inject({ kind: 'hold-vma-lock', bdf: M1, held: true });
  throwsErrno(() => hotReset(k, o.device, [o.group]), 'EINVAL', 'H8.group');
});

test('H8 [2013]: the 2013 hot reset has no memory or vma locks; its PCI locks block', () => {
  const k = eraKernel('qemu-ppb', '2013');
  const o = openDevice(k, F0);
  k.inject({ kind: 'hold-memory-lock', bdf: F1, held: true });
  assert.equal(hotReset(k, o.device, [o.group]), 0);
  k.inject({ kind: 'hold-device-lock', bdf: F1, held: true });
  assert.throws(() => hotReset(k, o.device, [o.group]), SimDeadlockError);
});

test('H10: a user hot reset leaves needs_reset alone', () => {
  const k = kernel('qemu-ppb');
  const o = openDevice(k, F0);
  const d1 = getDeviceFd(k, o.group, F1);
  k.sys.close(d1); // 02:01.1 now needs a reset (its close could not reset the bus: 02:01.0 is open)
  assert.equal(deviceView(k, F1).needsReset, true);
  assert.equal(hotReset(k, o.device, [o.group]), 0);
  assert.equal(deviceView(k, F1).needsReset, true);
});

test('H11: the caller need not be first in the scope (PPB from 02:01.1 alone)', () => {
  const k = kernel('qemu-ppb');
  const o = openDevice(k, F1);
  assert.equal(hotReset(k, o.device, [o.group]), 0);
  assert.deepEqual(k.pci.state(F0).lastReset?.how, 'bus', 'the unopened first function was reset too');
});

test('H15: an SR-IOV VF on its PF bus → EINVAL (singleton dev_set, PF in scope); on a virtual bus → ENODEV', () => {
  const k = sriovKernel();
  const o = openDevice(k, '0000:01:10.0');
  throwsErrno(() => hotReset(k, o.device, [o.group]), 'EINVAL', 'H6');
  const v = sriovKernel({ vfBus: 2 });
  const vo = openDevice(v, '0000:02:10.0');
  throwsErrno(() => hotReset(v, vo.device, [vo.group]), 'ENODEV', 'H2');
});

test('H20 [6.6+]: a group-opened device passing count 0 fails EINVAL before the scope is even looked at', () => {
  const k = eraKernel('qemu-root', '6.6+');
  const o = openDevice(k, '0000:00:02.0');
  throwsErrno(() => hotReset(k, o.device, []), 'EINVAL', 'H20');
  throwsErrno(() => hotReset(k, o.device, [o.group]), 'ENODEV', 'H2');
  const p = eraKernel('qemu-ppb', '6.6+');
  const po = openDevice(p, F0);
  throwsErrno(() => hotReset(p, po.device, []), 'EINVAL', 'H20');
  assert.equal(hotReset(p, po.device, [po.group]), 0);
});
