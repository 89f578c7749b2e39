import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SimKernel } from '../../src/sim/kernel.ts';
import { endpoint, host, hostBridge, rootPort } from '../helpers/builders.ts';
import {
  deviceView,
  eraKernel,
  groupIdOf,
  kernel,
  openContainer,
  openDevice,
  setContainer,
  throwsErrno,
} from '../helpers/vfio-steps.ts';

const F0 = '0000:02:01.0';
const F1 = '0000:02:01.1';
const RP = '0000:01:00.0';
const attr = (bdf: string, name: string) => `bus/pci/devices/${bdf}/${name}`;

/** A NIC on its host driver (e1000e) behind a root port: the usual starting point of a bind to vfio-pci. */
function hostNic(era: '2013' | '6.1' = '6.1'): SimKernel {
  const nic = endpoint('01:00.0', {
    vendor: 0x8086,
    device: 0x10d3,
    driver: 'e1000e',
    pm: { noSoftReset: false },
  });
  return new SimKernel(host([hostBridge(), rootPort('00:02.0', 1), nic]), { era });
}

test('Y3 (scenario 16): PPB 02:01.0 reads "bus"; 02:01.1 has no attribute; "default" empties it; then "bus" EINVAL', () => {
  const k = kernel('qemu-ppb');
  assert.equal(k.sysfs.readText(attr(F0, 'reset_method')), 'bus\n');
  throwsErrno(() => k.sys.writeSysfs(attr(F1, 'reset_method'), 'bus'), 'ENOENT', 'sysfs.ENOENT');
  throwsErrno(() => k.sys.writeSysfs(attr(F1, 'reset'), '1'), 'ENOENT', 'sysfs.ENOENT');
  k.sys.writeSysfs(attr(F0, 'reset_method'), 'default');
  assert.equal(k.sysfs.readText(attr(F0, 'reset_method')), '');
  throwsErrno(() => k.sys.writeSysfs(attr(F0, 'reset_method'), 'bus'), 'EINVAL', 'Y3');
});

test('Y3 (scenario 17): RP reads "pm bus"; "bus pm" reorders; "nosuch" EINVAL and keeps the list; 7×pm EINVAL, 6×pm ok', () => {
  const k = kernel('qemu-rp');
  const p = attr(RP, 'reset_method');
  assert.equal(k.sysfs.readText(p), 'pm bus\n');
  k.sys.writeSysfs(p, 'bus pm\n');
  assert.equal(k.sysfs.readText(p), 'bus pm\n');
  const e = throwsErrno(() => k.sys.writeSysfs(p, 'nosuch'), 'EINVAL', 'Y3');
  assert.match(e.message, /Invalid reset method 'nosuch'/);
  assert.equal(k.sysfs.readText(p), 'bus pm\n');
  throwsErrno(() => k.sys.writeSysfs(p, Array(7).fill('pm').join(' ')), 'EINVAL', 'Y3');
  k.sys.writeSysfs(p, Array(6).fill('pm').join(' '));
  assert.equal(k.sysfs.readText(p), 'pm pm pm pm pm pm\n');
  throwsErrno(() => k.sys.writeSysfs(p, 'flr'), 'EINVAL', 'Y3'); // known name, probe fails: "Unsupported"
});

test('Y3 [2013]: there is no reset_method attribute', () => {
  const k = eraKernel('qemu-rp', '2013');
  throwsErrno(() => k.sys.writeSysfs(attr(RP, 'reset_method'), 'pm'), 'ENOENT', 'sysfs.ENOENT');
});

test('Y4 (scenario 18): PPB "1" > 02:01.0/reset → ENOTTY; RP "1" → 0 (≈25 ms); "2" → EINVAL', () => {
  const k = kernel('qemu-ppb');
  throwsErrno(() => k.sys.writeSysfs(attr(F0, 'reset'), '1\n'), 'ENOTTY', 'Y4.ENOTTY');
  const r = kernel('qemu-rp');
  const t0 = r.clock.now();
  r.sys.writeSysfs(attr(RP, 'reset'), '1');
  const ms = r.clock.now() - t0;
  assert.ok(ms >= 20 && ms <= 80, `${ms} ms (includes waking from D3hot)`);
  throwsErrno(() => r.sys.writeSysfs(attr(RP, 'reset'), '2'), 'EINVAL', 'Y4.value');
  throwsErrno(() => r.sys.writeSysfs(attr(RP, 'reset'), 'yes'), 'EINVAL', 'Y4.value');
  r.sys.writeSysfs(attr(RP, 'reset'), '0x1');
});

test('Y4: the sysfs reset wakes an idle vfio-pci device and lets it idle again (O6); a held lock would block', () => {
  const k = kernel('qemu-rp');
  assert.equal(deviceView(k, RP).power, 'D3hot');
  k.sys.writeSysfs(attr(RP, 'reset'), '1');
  assert.equal(deviceView(k, RP).power, 'D3hot');
  assert.equal(k.pci.state(RP).lastReset?.how, 'pm');
  k.inject({ kind: 'hold-device-lock', bdf: RP, held: true });
  assert.throws(() => k.sys.writeSysfs(attr(RP, 'reset'), '1'), /would block/);
});

test('bind: the Appendix recipe — driver_override vfio-pci, unbind the host driver, drivers_probe', () => {
  const k = hostNic();
  assert.throws(() => k.sys.open('/dev/vfio/3'));
  k.sys.writeSysfs(attr(RP, 'driver_override'), 'vfio-pci\n');
  assert.equal(k.sysfs.readText(attr(RP, 'driver_override')), 'vfio-pci\n');
  k.sys.writeSysfs('bus/pci/drivers/e1000e/unbind', `${RP}\n`);
  assert.equal(k.sysfs.kind(attr(RP, 'driver')), null);
  k.sys.writeSysfs('bus/pci/drivers_probe', RP);
  assert.equal(k.sysfs.readLink(attr(RP, 'driver')).split('/').pop(), 'vfio-pci');
  assert.deepEqual(k.sysfs.list('bus/pci/drivers/vfio-pci'), [RP]);
  assert.deepEqual(k.sysfs.list('bus/pci/drivers/e1000e'), []);
  const g = groupIdOf(k, RP);
  const o = openDevice(k, RP);
  assert.ok(o.device >= 3, `/dev/vfio/${g} appeared (G1)`);
  assert.equal(deviceView(k, RP).devSet, 'bus:0000:01');
});

test('bind: restoring the host driver — clear driver_override, unbind vfio-pci, drivers_probe binds e1000e again', () => {
  const k = hostNic();
  k.sys.writeSysfs(attr(RP, 'driver_override'), 'vfio-pci');
  k.sys.writeSysfs('bus/pci/drivers/e1000e/unbind', RP);
  k.sys.writeSysfs('bus/pci/drivers/vfio-pci/bind', RP);
  k.sys.writeSysfs(attr(RP, 'driver_override'), '\n');
  assert.equal(k.sysfs.readText(attr(RP, 'driver_override')), '(null)\n');
  k.sys.writeSysfs('bus/pci/drivers/vfio-pci/unbind', RP);
  k.sys.writeSysfs('bus/pci/drivers_probe', RP);
  assert.equal(k.host.state(RP)!.driver, 'e1000e');
  assert.equal(k.sysfs.readLink(attr(RP, 'driver')).split('/').pop(), 'e1000e');
  assert.deepEqual(k.vfioState().devices, []);
  assert.deepEqual(
    k.log
      .all()
      .map((e) => e.event)
      .filter((e) => e.kind === 'bind' || e.kind === 'unbind')
      .map((e) => `${e.kind} ${'driver' in e ? e.driver : ''}`),
    ['unbind e1000e', 'bind vfio-pci', 'unbind vfio-pci', 'bind e1000e'],
  );
});

test('bind: a driver that does not match (no override, not the host driver) → ENODEV; a bound device → EBUSY', () => {
  const k = hostNic();
  k.sys.writeSysfs('bus/pci/drivers/e1000e/unbind', RP);
  throwsErrno(() => k.sys.writeSysfs('bus/pci/drivers/vfio-pci/bind', RP), 'ENODEV', 'bind.no-match');
  k.sys.writeSysfs('bus/pci/drivers/e1000e/bind', RP);
  k.sys.writeSysfs(attr(RP, 'driver_override'), 'vfio-pci');
  throwsErrno(() => k.sys.writeSysfs('bus/pci/drivers/e1000e/bind', RP), 'ENODEV', 'bind.no-match');
  throwsErrno(() => k.sys.writeSysfs('bus/pci/drivers/vfio-pci/bind', RP), 'EBUSY', 'bind.bound');
  throwsErrno(() => k.sys.writeSysfs('bus/pci/drivers/vfio-pci/bind', '01:00.0'), 'ENODEV', 'bind.no-device');
});

test('unbind: a device not bound to that driver → ENODEV', () => {
  const k = kernel('qemu-ppb');
  throwsErrno(() => k.sys.writeSysfs('bus/pci/drivers/pci-stub/unbind', F0), 'ENODEV', 'unbind.not-bound');
  throwsErrno(
    () => k.sys.writeSysfs('bus/pci/drivers/vfio-pci/unbind', '0000:00:1f.0'),
    'ENODEV',
    'unbind.not-bound',
  );
});

test('drivers_probe: an unknown device → ENODEV; a bound device is left alone; probe failures are only logged', () => {
  const k = kernel('qemu-ppb');
  throwsErrno(() => k.sys.writeSysfs('bus/pci/drivers_probe', '0000:09:00.0'), 'ENODEV', 'bind.no-device');
  k.sys.writeSysfs('bus/pci/drivers_probe', F0);
  assert.equal(k.host.state(F0)!.driver, 'vfio-pci');
  const bridge = '0000:01:00.0';
  k.sys.writeSysfs(attr(bridge, 'driver_override'), 'vfio-pci');
  k.sys.writeSysfs('bus/pci/drivers_probe', bridge); // S0 refuses; the write still succeeds
  assert.equal(k.host.state(bridge)!.driver, null);
  assert.ok(k.log.dmesg().some((l) => l.includes(bridge) && /probe failed with error EINVAL/.test(l)));
});

/** A two-function NIC without ACS (one IOMMU group): fn 0 on vfio-pci, fn 1 on its host driver e1000e. */
function splitNic(era: '2013' | '6.1'): SimKernel {
  const nic = (bdf: string, driver: string, mf: boolean) =>
    endpoint(bdf, { vendor: 0x8086, device: 0x10d3, driver, driverOverride: null, multifunctionBit: mf });
  const fn0 = { ...nic('01:00.0', 'vfio-pci', true), driverOverride: 'vfio-pci' };
  return new SimKernel(host([hostBridge(), rootPort('00:02.0', 1), fn0, nic('01:00.1', 'e1000e', false)]), {
    era,
  });
}

test('bind §1.2: a DMA-API driver cannot bind into a group VFIO owns (EBUSY); once the group is released it can', () => {
  const k = splitNic('6.1');
  const f1 = '0000:01:00.1';
  k.sys.writeSysfs('bus/pci/drivers/e1000e/unbind', f1);
  const g = k.sys.open(`/dev/vfio/${groupIdOf(k, RP)}`);
  setContainer(k, g, openContainer(k));
  throwsErrno(() => k.sys.writeSysfs('bus/pci/drivers/e1000e/bind', f1), 'EBUSY', 'bind.dma-owned');
  assert.equal(k.host.state(f1)!.driver, null);
  k.sys.close(g); // G6: the group file goes, and DMA ownership with it
  k.sys.writeSysfs('bus/pci/drivers/e1000e/bind', f1);
  assert.equal(k.host.state(f1)!.driver, 'e1000e');
});

test('bind §1.2 [2013]: the host driver binds into the live group (logged); the group is then not viable', () => {
  const k = splitNic('2013');
  const f1 = '0000:01:00.1';
  k.sys.writeSysfs('bus/pci/drivers/e1000e/unbind', f1);
  openDevice(k, RP);
  k.sys.writeSysfs('bus/pci/drivers/e1000e/bind', f1);
  assert.equal(k.host.state(f1)!.driver, 'e1000e');
  assert.equal(k.vfioState().groups[0]!.statusFlags, 2);
});

test('sysfs: read-only attributes refuse writes (EACCES); unknown paths ENOENT; a /sys/ prefix is accepted', () => {
  const k = kernel('qemu-rp');
  throwsErrno(() => k.sys.writeSysfs(attr(RP, 'vendor'), '0x1234'), 'EACCES', 'sysfs.read-only');
  throwsErrno(() => k.sys.writeSysfs(attr(RP, 'nosuch'), '1'), 'ENOENT', 'sysfs.ENOENT');
  throwsErrno(() => k.sys.writeSysfs('bus/pci/drivers/nosuch/bind', RP), 'ENOENT', 'sysfs.ENOENT');
  k.sys.writeSysfs(`/sys/${attr(RP, 'reset_method')}`, 'pm');
  assert.equal(k.sysfs.readText(attr(RP, 'reset_method')), 'pm\n');
});
