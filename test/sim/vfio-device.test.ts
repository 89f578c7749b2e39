import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { SimKernel } from '../../src/sim/kernel.ts';
import type { KernelEvent } from '../../src/sim/log.ts';
import { SimDeadlockError } from '../../src/sim/pci-exec.ts';
import { VFIO } from '../../src/uapi/ioctl.ts';
import { VFIO_DEVICE_FLAGS } from '../../src/uapi/vfio-structs.ts';
import {
  deviceInfo,
  deviceView,
  eraKernel,
  getDeviceFd,
  hotReset,
  kernel,
  openDevice,
  throwsErrno,
} from '../helpers/vfio-steps.ts';

const RP = '0000:01:00.0';
const F0 = '0000:02:01.0';
const F1 = '0000:02:01.1';
const PCI = VFIO_DEVICE_FLAGS.PCI;
const RESET = VFIO_DEVICE_FLAGS.RESET;

/** Events logged while `f` runs, and how long it took on the virtual clock. */
function during(k: SimKernel, f: () => void): { events: KernelEvent[]; ms: number } {
  const i = k.log.length;
  const t0 = k.clock.now();
  f();
  return { events: k.log.since(i).map((e) => e.event), ms: k.clock.now() - t0 };
}

const kinds = (events: KernelEvent[]) =>
  events.map((e) => (e.kind === 'function-reset' ? `fn:${e.method}` : e.kind));

test('D1: unbinding vfio-pci with a device fd open is refused (EBUSY) and the kernel asks the user to release it', () => {
  const k = kernel('qemu-ppb');
  const o = openDevice(k, F0);
  const { events } = during(k, () =>
    throwsErrno(() => k.sys.writeSysfs('bus/pci/drivers/vfio-pci/unbind', F0), 'EBUSY', 'D1'),
  );
  assert.ok(
    events.some((e) => e.kind === 'log' && e.device === F0 && /blocked until released by user/.test(e.text)),
  );
  assert.equal(k.host.state(F0)!.driver, 'vfio-pci');
  k.sys.close(o.device);
  k.sys.writeSysfs('bus/pci/drivers/vfio-pci/unbind', F0); // only the group fd is open: fine
  assert.equal(k.host.state(F0)!.driver, null);
  assert.equal(k.sysfs.kind(`bus/pci/devices/${F0}/driver`), null);
});

test('D2 (scenario 11): PPB GET_INFO on 02:01.0 and 02:01.1 → flags PCI (2), 9 regions, 5 irqs', () => {
  const k = kernel('qemu-ppb');
  const o = openDevice(k, F0);
  const d1 = getDeviceFd(k, o.group, F1);
  for (const fd of [o.device, d1]) {
    const i = deviceInfo(k, fd);
    assert.deepEqual([i.flags, i.numRegions, i.numIrqs], [PCI, 9, 5]);
  }
});

test('D2 (scenario 12): RP GET_INFO on the e1000e → flags RESET|PCI (3) (reset via pm)', () => {
  const k = kernel('qemu-rp');
  assert.equal(deviceInfo(k, openDevice(k, RP).device).flags, RESET | PCI);
});

test('D2: argsz below 16 fails with EINVAL', () => {
  const k = kernel('qemu-rp');
  const o = openDevice(k, RP);
  throwsErrno(() => deviceInfo(k, o.device, 15), 'EINVAL', 'D2.argsz');
});

test('D2: copy-back size per era — 6.1 16 bytes (20 when argsz ≥ 20), 2013 16, 6.6+ min(argsz, 24)', () => {
  const tail = (era: '2013' | '6.1' | '6.6+', argsz: number) => {
    const k = eraKernel('qemu-rp', era);
    const raw = deviceInfo(k, openDevice(k, RP).device, argsz).raw;
    return [...raw.subarray(16)];
  };
  // deviceInfo() pre-fills the buffer with 0xaa; bytes the kernel does not write keep it.
  const aa = 0xaa;
  assert.deepEqual(tail('6.1', 16), []);
  assert.deepEqual(tail('6.1', 19), [aa, aa, aa]);
  assert.deepEqual(tail('6.1', 24), [0, 0, 0, 0, aa, aa, aa, aa], 'cap_offset written, pad not');
  assert.deepEqual(tail('2013', 24), [aa, aa, aa, aa, aa, aa, aa, aa]);
  assert.deepEqual(tail('6.6+', 18), [0, 0]);
  assert.deepEqual(tail('6.6+', 28), [0, 0, 0, 0, 0, 0, 0, 0, aa, aa, aa, aa]);
});

test('D2: the RESET flag is frozen at the first open (O2), not re-probed per call', () => {
  const k = kernel('qemu-rp');
  const o = openDevice(k, RP);
  k.sys.writeSysfs(`bus/pci/devices/${RP}/reset_method`, '');
  assert.equal(deviceInfo(k, o.device).flags, RESET | PCI);
  const d2 = getDeviceFd(k, o.group, RP);
  assert.equal(deviceInfo(k, d2).flags, RESET | PCI, 'a later open does not recompute reset_works');
});

test('D3 (scenario 13): RP with reset_method emptied before the first open → flags PCI; VFIO_DEVICE_RESET EINVAL', () => {
  const k = kernel('qemu-rp');
  k.sys.writeSysfs(`bus/pci/devices/${RP}/reset_method`, '');
  const o = openDevice(k, RP);
  assert.equal(deviceInfo(k, o.device).flags, PCI);
  throwsErrno(() => k.sys.ioctl(o.device, VFIO.DEVICE_RESET), 'EINVAL', 'D3.no-reset');
});

test('D3 (scenario 14): RP opened (flags 3), reset_method emptied after → VFIO_DEVICE_RESET ENOTTY', () => {
  const k = kernel('qemu-rp');
  const o = openDevice(k, RP);
  assert.equal(k.sys.ioctl(o.device, VFIO.DEVICE_RESET), 0);
  k.sys.writeSysfs(`bus/pci/devices/${RP}/reset_method`, '');
  throwsErrno(() => k.sys.ioctl(o.device, VFIO.DEVICE_RESET), 'ENOTTY', 'D3.ENOTTY');
});

test('D3 (scenario 15): PPB VFIO_DEVICE_RESET on 02:01.0 → EINVAL', () => {
  const k = kernel('qemu-ppb');
  throwsErrno(() => k.sys.ioctl(openDevice(k, F0).device, VFIO.DEVICE_RESET), 'EINVAL', 'D3.no-reset');
});

test('D3: another thread holding the PCI device lock → EAGAIN (pci_try_reset_function)', () => {
  const k = kernel('qemu-rp');
  const o = openDevice(k, RP);
  k.inject({ kind: 'hold-device-lock', bdf: RP, held: true });
  throwsErrno(() => k.sys.ioctl(o.device, VFIO.DEVICE_RESET), 'EAGAIN', 'D3.EAGAIN');
});

test('D3 [2013]: VFIO_DEVICE_RESET uses the blocking pci_reset_function: a held device lock would sleep', () => {
  const k = eraKernel('qemu-rp', '2013');
  const o = openDevice(k, RP);
  assert.equal(k.sys.ioctl(o.device, VFIO.DEVICE_RESET), 0);
  k.inject({ kind: 'hold-device-lock', bdf: RP, held: true });
  assert.throws(() => k.sys.ioctl(o.device, VFIO.DEVICE_RESET), SimDeadlockError);
});

test('D3: the reset runs the first working method (RP: pm) and leaves the device in D0', () => {
  const k = kernel('qemu-rp');
  const o = openDevice(k, RP);
  const { events } = during(k, () => k.sys.ioctl(o.device, VFIO.DEVICE_RESET));
  assert.deepEqual(kinds(events), ['fn:pm']);
  assert.equal(k.pci.state(RP).power, 'D0');
});

test('D4 (scenario 8): an unknown ioctl on a vfio-pci device fd fails with ENOTTY', () => {
  const k = kernel('qemu-rp');
  const o = openDevice(k, RP);
  throwsErrno(() => k.sys.ioctl(o.device, 0x3b00 | 99), 'ENOTTY', 'D4');
  throwsErrno(() => k.sys.ioctl(o.device, VFIO.SET_IOMMU, 3), 'ENOTTY', 'D4');
  throwsErrno(
    () => k.sys.ioctl(o.device, VFIO.DEVICE_FEATURE, new Uint8Array(16)),
    'ENOTTY',
    'D4.unmodelled',
  );
});

test('O1: the first open runs pci_try_reset_function; a held device lock fails the open with EAGAIN', () => {
  const k = kernel('qemu-rp');
  const o = openDevice(k, RP);
  k.sys.close(o.device);
  k.inject({ kind: 'hold-device-lock', bdf: RP, held: true });
  throwsErrno(() => getDeviceFd(k, o.group, RP), 'EAGAIN', 'O1');
  assert.equal(deviceView(k, RP).openCount, 0);
  assert.equal(deviceView(k, RP).fds.length, 0);
  k.inject({ kind: 'hold-device-lock', bdf: RP, held: false });
  assert.ok(getDeviceFd(k, o.group, RP) >= 3);
});

test('O1 (scenario 19): RP with reset_method "bus" before the first open: the open takes ≈2 s, succeeds, no RESET flag', () => {
  const k = kernel('qemu-rp');
  k.sys.writeSysfs(`bus/pci/devices/${RP}/reset_method`, 'bus');
  let fd = -1;
  const { ms } = during(k, () => {
    fd = openDevice(k, RP).device;
  });
  assert.ok(ms > 1500 && ms < 2500, `open took ${ms} ms`);
  assert.equal(deviceInfo(k, fd).flags, PCI);
});

test('O1 [2013]: reset_works comes from the blocking pci_reset_function at the first open', () => {
  const k = eraKernel('qemu-rp', '2013');
  const o = openDevice(k, RP);
  assert.equal(deviceInfo(k, o.device).flags, RESET | PCI);
  assert.equal(deviceView(k, RP).resetWorks, true);
});

test('O3 (scenario 42): RP close → function reset via pm (≈25 ms), no bus reset attempt', () => {
  const k = kernel('qemu-rp');
  const o = openDevice(k, RP);
  const { events, ms } = during(k, () => k.sys.close(o.device));
  assert.deepEqual(
    kinds(events).filter((x) => x !== 'log'),
    ['fn:pm'],
  );
  assert.ok(ms >= 20 && ms <= 60, `close took ${ms} ms`);
  assert.equal(deviceView(k, RP).needsReset, false);
});

test('O3: a held device lock at the last close silently skips the function reset; needs_reset stays set', () => {
  const k = kernel('qemu-rp');
  const o = openDevice(k, RP);
  k.inject({ kind: 'hold-device-lock', bdf: RP, held: true });
  const { events } = during(k, () => k.sys.close(o.device));
  assert.ok(!events.some((e) => e.kind === 'function-reset'));
  // O4 then tries the bus: the device lock makes pci_reset_bus fail with EAGAIN, silently.
  assert.equal(deviceView(k, RP).needsReset, true);
});

test('O4 (scenario 43): RP with reset_method "" before open: close → dev_set bus reset fails silently after ≈2 s', () => {
  const k = kernel('qemu-rp');
  k.sys.writeSysfs(`bus/pci/devices/${RP}/reset_method`, '');
  const o = openDevice(k, RP);
  const { events, ms } = during(k, () => k.sys.close(o.device));
  assert.ok(events.some((e) => e.kind === 'bus-reset' && e.result === 'ENOTTY'));
  assert.ok(ms > 1500 && ms < 2500, `close took ${ms} ms`);
  assert.equal(deviceView(k, RP).needsReset, true);
});

test('O4 (scenario 40): PPB both open; closing 02:01.0 does nothing, closing 02:01.1 bus-resets both (≈10–20 ms)', () => {
  const k = kernel('qemu-ppb');
  const o = openDevice(k, F0);
  const d1 = getDeviceFd(k, o.group, F1);
  const first = during(k, () => k.sys.close(o.device));
  assert.ok(!first.events.some((e) => e.kind === 'bus-reset'));
  assert.ok(first.ms < 5, `first close took ${first.ms} ms`);
  const second = during(k, () => k.sys.close(d1));
  const bus = second.events.find((e) => e.kind === 'bus-reset');
  assert.ok(bus && bus.kind === 'bus-reset' && bus.result === '0');
  assert.deepEqual(bus.scope, [F0, F1]);
  assert.ok(second.ms >= 10 && second.ms <= 30, `second close took ${second.ms} ms`);
  assert.deepEqual(
    k.vfioState().devices.map((d) => d.needsReset),
    [false, false],
  );
});

test('O4 (scenario 41): PPB only 02:01.0 opened: its close bus-resets; not while 02:01.1 is open elsewhere', () => {
  const k = kernel('qemu-ppb');
  const o = openDevice(k, F0);
  const { events } = during(k, () => k.sys.close(o.device));
  assert.ok(events.some((e) => e.kind === 'bus-reset'));

  const k2 = kernel('qemu-ppb');
  const o2 = openDevice(k2, F0);
  const other = getDeviceFd(k2, o2.group, F1); // "another process" holds 02:01.1
  const d = during(k2, () => k2.sys.close(o2.device));
  assert.ok(!d.events.some((e) => e.kind === 'bus-reset'));
  assert.equal(deviceView(k2, F0).needsReset, true);
  k2.sys.close(other);
  assert.equal(deviceView(k2, F0).needsReset, false, 'the other close finds the set idle and resets it');
});

test('O5 [2013]: no dev_set and no close-time bus reset; only a function reset when reset_works', () => {
  const k = eraKernel('qemu-ppb', '2013');
  const o = openDevice(k, F0);
  const { events } = during(k, () => k.sys.close(o.device));
  assert.ok(!events.some((e) => e.kind === 'bus-reset' || e.kind === 'function-reset'));
  assert.equal(deviceView(k, F0).devSet, null);
  const r = eraKernel('qemu-rp', '2013');
  const ro = openDevice(r, RP);
  assert.deepEqual(kinds(during(r, () => r.sys.close(ro.device)).events), ['fn:pm']);
});

test('O6: unopened vfio-pci devices with a PM capability idle in D3hot; open wakes them, close puts them back', () => {
  const k = kernel('qemu-rp');
  assert.equal(deviceView(k, RP).power, 'D3hot');
  const o = openDevice(k, RP);
  assert.equal(deviceView(k, RP).power, 'D0');
  k.sys.close(o.device);
  assert.equal(deviceView(k, RP).power, 'D3hot');
  // No PM capability (the e1000s behind the PPB): always D0.
  assert.equal(deviceView(kernel('qemu-ppb'), F0).power, 'D0');
  // [2013] had no idle D3.
  assert.equal(deviceView(eraKernel('qemu-rp', '2013'), RP).power, 'D0');
});

test('O6/H7: a hot reset wakes an unopened dev_set member, resets it, and lets it idle again', () => {
  const k = kernel('qemu-mf');
  const f1 = '0000:01:00.1';
  const o = openDevice(k, '0000:01:00.0');
  assert.equal(deviceView(k, f1).power, 'D3hot');
  const before = k.pci.state(f1).resets;
  assert.equal(hotReset(k, o.device, [o.group]), 0);
  assert.equal(k.pci.state(f1).resets, before + 1);
  assert.equal(deviceView(k, f1).power, 'D3hot');
});

test('O6: unbinding vfio-pci resumes the device to D0 (pm_runtime_forbid)', () => {
  const k = kernel('qemu-rp');
  k.sys.writeSysfs('bus/pci/drivers/vfio-pci/unbind', RP);
  assert.equal(k.pci.state(RP).power, 'D0');
});
