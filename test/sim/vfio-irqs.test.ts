/**
 * vfio-pci IRQ and region info, and SET_IRQS for the ERR/REQ triggers (vfio_pci_core.c
 * vfio_pci_ioctl_get_irq_info / _set_irqs / _get_region_info, vfio_pci_intrs.c
 * vfio_pci_set_ctx_trigger_single, vfio_main.c vfio_set_irqs_validate_and_prepare).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { SimKernel } from '../../src/sim/kernel.ts';
import { VFIO } from '../../src/uapi/ioctl.ts';
import {
  decodeIrqInfo,
  decodeRegionInfo,
  encodeIrqInfo,
  encodeIrqSet,
  encodeRegionInfo,
  VFIO_PCI_IRQ_INDEX as IRQ,
  VFIO_IRQ_INFO,
  VFIO_IRQ_SET,
  VFIO_REGION_INFO,
} from '../../src/uapi/vfio-irqs.ts';
import {
  deviceInfo,
  eraKernel,
  getDeviceFd,
  kernel,
  openDevice,
  throwsErrno,
} from '../helpers/vfio-steps.ts';

const RP = '0000:01:00.0'; // qemu-rp: e1000e (PCIe), reset by pm
const F0 = '0000:02:01.0'; // qemu-ppb: conventional e1000 behind a pcie-pci-bridge

function irqInfo(k: SimKernel, fd: number, index: number, argsz = 16) {
  const b = encodeIrqInfo({ argsz, flags: 0, index, count: 0 });
  k.sys.ioctl(fd, VFIO.DEVICE_GET_IRQ_INFO, b);
  return decodeIrqInfo(b);
}

const TRIGGER = VFIO_IRQ_SET.ACTION_TRIGGER;
function setIrqs(
  k: SimKernel,
  fd: number,
  over: { index: number; flags?: number; start?: number; count?: number; data?: number[]; argsz?: number },
) {
  const flags = over.flags ?? VFIO_IRQ_SET.DATA_EVENTFD | TRIGGER;
  const data = over.data ?? [];
  const b = encodeIrqSet({
    argsz:
      over.argsz ??
      20 + (flags & VFIO_IRQ_SET.DATA_EVENTFD ? 4 : flags & VFIO_IRQ_SET.DATA_BOOL ? 1 : 0) * data.length,
    flags,
    index: over.index,
    start: over.start ?? 0,
    count: over.count ?? data.length,
    data,
  });
  return k.sys.ioctl(fd, VFIO.DEVICE_SET_IRQS, b);
}

function regionInfo(k: SimKernel, fd: number, index: number, argsz = 32) {
  const b = encodeRegionInfo({ argsz, flags: 0, index, capOffset: 0, size: 0n, offset: 0n });
  k.sys.ioctl(fd, VFIO.DEVICE_GET_REGION_INFO, b);
  return decodeRegionInfo(b);
}

test('GET_IRQ_INFO: ERR and REQ have one vector on a PCIe function; INTx/MSI/MSI-X follow the config image', () => {
  const k = kernel('qemu-rp');
  const { device } = openDevice(k, RP);
  const norsz = VFIO_IRQ_INFO.EVENTFD | VFIO_IRQ_INFO.NORESIZE;
  assert.deepEqual(irqInfo(k, device, IRQ.ERR), { argsz: 16, flags: norsz, index: IRQ.ERR, count: 1 });
  assert.deepEqual(irqInfo(k, device, IRQ.REQ), { argsz: 16, flags: norsz, index: IRQ.REQ, count: 1 });
  const intx = irqInfo(k, device, IRQ.INTX);
  assert.equal(intx.flags, VFIO_IRQ_INFO.EVENTFD | VFIO_IRQ_INFO.MASKABLE | VFIO_IRQ_INFO.AUTOMASKED);
  assert.equal(intx.count, 0, 'the model gives no interrupt pin');
  assert.equal(irqInfo(k, device, IRQ.MSIX).count, 0, 'and no MSI-X capability');
  throwsErrno(() => irqInfo(k, device, 5), 'EINVAL', 'IRQ_INFO.args');
  throwsErrno(() => irqInfo(k, device, IRQ.ERR, 15), 'EINVAL', 'IRQ_INFO.args');
  throwsErrno(
    () => k.sys.ioctl(device, VFIO.DEVICE_GET_IRQ_INFO, new Uint8Array(8)),
    'EFAULT',
    'copy_from_user',
  );
});

test('GET_IRQ_INFO: the ERR index of a conventional PCI function is EINVAL, its SET_IRQS has no vector', () => {
  const k = kernel('qemu-ppb');
  const { device } = openDevice(k, F0);
  throwsErrno(() => irqInfo(k, device, IRQ.ERR), 'EINVAL', 'IRQ_INFO.err-not-pcie');
  const efd = k.sys.eventfd();
  throwsErrno(() => setIrqs(k, device, { index: IRQ.ERR, data: [efd] }), 'EINVAL', 'SET_IRQS.range');
  assert.equal(irqInfo(k, device, IRQ.REQ).count, 1);
});

test('2013 kernels have 4 IRQ indexes (no REQ, added in 4.0); 6.1 and 6.6+ have 5', () => {
  for (const [era, n] of [
    ['2013', 4],
    ['6.1', 5],
    ['6.6+', 5],
  ] as const) {
    const k = eraKernel('qemu-rp', era);
    const { device } = openDevice(k, RP);
    assert.equal(deviceInfo(k, device).numIrqs, n, era);
    assert.equal(irqInfo(k, device, IRQ.ERR).count, 1, `${era}: ERR exists since 3.10`);
    if (era === '2013') {
      throwsErrno(() => irqInfo(k, device, IRQ.REQ), 'EINVAL', 'IRQ_INFO.args');
      throwsErrno(
        () => setIrqs(k, device, { index: IRQ.REQ, data: [k.sys.eventfd()] }),
        'EINVAL',
        'SET_IRQS.args',
      );
    }
  }
});

test('SET_IRQS ERR: an eventfd trigger, DATA_NONE/BOOL loopback signals it, -1 and count 0 tear it down', () => {
  const k = kernel('qemu-rp');
  const { device } = openDevice(k, RP);
  const efd = k.sys.eventfd();
  throwsErrno(
    () => setIrqs(k, device, { index: IRQ.ERR, flags: VFIO_IRQ_SET.DATA_NONE | TRIGGER, count: 1 }),
    'EINVAL',
    'SET_IRQS.single',
  );
  assert.equal(setIrqs(k, device, { index: IRQ.ERR, data: [efd] }), 0);
  throwsErrno(() => k.sys.readEventfd(efd), 'EAGAIN', 'eventfd.EAGAIN');
  setIrqs(k, device, { index: IRQ.ERR, flags: VFIO_IRQ_SET.DATA_NONE | TRIGGER, count: 1 });
  setIrqs(k, device, { index: IRQ.ERR, flags: VFIO_IRQ_SET.DATA_BOOL | TRIGGER, data: [1] });
  setIrqs(k, device, { index: IRQ.ERR, flags: VFIO_IRQ_SET.DATA_BOOL | TRIGGER, data: [0] });
  assert.equal(k.sys.readEventfd(efd), 2, 'two loopback signals');
  setIrqs(k, device, { index: IRQ.ERR, data: [-1] });
  throwsErrno(
    () => setIrqs(k, device, { index: IRQ.ERR, flags: VFIO_IRQ_SET.DATA_NONE | TRIGGER, count: 1 }),
    'EINVAL',
    'SET_IRQS.single',
  );
  setIrqs(k, device, { index: IRQ.ERR, data: [efd] });
  setIrqs(k, device, { index: IRQ.ERR, flags: VFIO_IRQ_SET.DATA_NONE | TRIGGER, count: 0 });
  throwsErrno(
    () => setIrqs(k, device, { index: IRQ.ERR, flags: VFIO_IRQ_SET.DATA_NONE | TRIGGER, count: 1 }),
    'EINVAL',
    'SET_IRQS.single',
  );
});

test('SET_IRQS: validation order and errno (args, range, data, action, fd)', () => {
  const k = kernel('qemu-rp');
  const { device, group } = openDevice(k, RP);
  const efd = k.sys.eventfd();
  throwsErrno(
    () => setIrqs(k, device, { index: IRQ.ERR, data: [efd], argsz: 19 }),
    'EINVAL',
    'SET_IRQS.args',
  );
  throwsErrno(
    () =>
      setIrqs(k, device, { index: IRQ.ERR, data: [efd], flags: VFIO_IRQ_SET.DATA_EVENTFD | TRIGGER | 0x40 }),
    'EINVAL',
    'SET_IRQS.args',
  );
  throwsErrno(() => setIrqs(k, device, { index: IRQ.ERR, data: [efd, efd] }), 'EINVAL', 'SET_IRQS.range');
  throwsErrno(() => setIrqs(k, device, { index: IRQ.ERR, start: 1, count: 0 }), 'EINVAL', 'SET_IRQS.range');
  throwsErrno(
    () =>
      setIrqs(k, device, {
        index: IRQ.ERR,
        data: [efd],
        flags: VFIO_IRQ_SET.DATA_EVENTFD | VFIO_IRQ_SET.DATA_BOOL | TRIGGER,
      }),
    'EINVAL',
    'SET_IRQS.data',
  );
  throwsErrno(
    () => setIrqs(k, device, { index: IRQ.ERR, data: [efd], argsz: 22 }),
    'EINVAL',
    'SET_IRQS.data',
  );
  throwsErrno(
    () =>
      setIrqs(k, device, {
        index: IRQ.ERR,
        data: [efd],
        flags: VFIO_IRQ_SET.DATA_EVENTFD | VFIO_IRQ_SET.ACTION_MASK,
      }),
    'ENOTTY',
    'SET_IRQS.action',
  );
  throwsErrno(
    () =>
      setIrqs(k, device, {
        index: IRQ.REQ,
        data: [efd],
        flags: VFIO_IRQ_SET.DATA_EVENTFD | VFIO_IRQ_SET.ACTION_UNMASK,
      }),
    'ENOTTY',
    'SET_IRQS.action',
  );
  throwsErrno(() => setIrqs(k, device, { index: IRQ.ERR, data: [987] }), 'EBADF', 'SET_IRQS.fd');
  throwsErrno(() => setIrqs(k, device, { index: IRQ.ERR, data: [group] }), 'EINVAL', 'SET_IRQS.not-eventfd');
  assert.equal(setIrqs(k, device, { index: IRQ.ERR, data: [-5] }), 0, 'neither -1 nor an fd: ignored');
  throwsErrno(() => k.sys.ioctl(efd, VFIO.DEVICE_SET_IRQS, 0), 'ENOTTY', 'eventfd.ENOTTY');
});

test('the last close of the device drops its ERR and REQ triggers (vfio_pci_core_close_device)', () => {
  const k = kernel('qemu-ppb');
  const o = openDevice(k, F0);
  const second = getDeviceFd(k, o.group, F0);
  const efd = k.sys.eventfd();
  setIrqs(k, o.device, { index: IRQ.REQ, data: [efd] });
  k.sys.close(second); // not the last close: the trigger stays
  setIrqs(k, o.device, { index: IRQ.REQ, flags: VFIO_IRQ_SET.DATA_NONE | TRIGGER, count: 1 });
  assert.equal(k.sys.readEventfd(efd), 1);
  k.sys.close(o.device);
  const again = getDeviceFd(k, o.group, F0);
  throwsErrno(
    () => setIrqs(k, again, { index: IRQ.REQ, flags: VFIO_IRQ_SET.DATA_NONE | TRIGGER, count: 1 }),
    'EINVAL',
    'SET_IRQS.single',
  );
});

test('GET_REGION_INFO: config size by bus type, BARs from the PCI core, VGA refused, offsets index << 40', () => {
  const k = kernel('qemu-rp');
  const { device } = openDevice(k, RP);
  const rw = VFIO_REGION_INFO.READ | VFIO_REGION_INFO.WRITE;
  const config = regionInfo(k, device, 7);
  assert.deepEqual([config.flags, config.size, config.offset], [rw, 4096n, 7n << 40n]);
  assert.deepEqual([regionInfo(k, device, 0).flags, regionInfo(k, device, 0).size], [0, 0n]);
  k.inject({ kind: 'bars', bdf: RP, sizes: [0x20000, 0, 0, 0x4000, 0x800] });
  assert.deepEqual(
    [regionInfo(k, device, 0).flags, regionInfo(k, device, 0).size],
    [rw | VFIO_REGION_INFO.MMAP, 0x20000n],
  );
  assert.deepEqual(
    [regionInfo(k, device, 4).flags, regionInfo(k, device, 4).size],
    [rw, 0x800n],
    'sub-page BAR: no mmap',
  );
  assert.equal(regionInfo(k, device, 6).size, 0n, 'no option ROM in the model');
  throwsErrno(() => regionInfo(k, device, 8), 'EINVAL', 'REGION_INFO.index');
  throwsErrno(() => regionInfo(k, device, 9), 'EINVAL', 'REGION_INFO.index');
  throwsErrno(() => regionInfo(k, device, 0, 24), 'EINVAL', 'REGION_INFO.argsz');
  const ppb = kernel('qemu-ppb');
  assert.equal(regionInfo(ppb, openDevice(ppb, F0).device, 7).size, 256n, 'conventional PCI: 256 bytes');
});

test('an after-reset change becomes the device at its next reset, not before', () => {
  const k = kernel('qemu-rp');
  const { device } = openDevice(k, RP);
  k.inject({ kind: 'bars', bdf: RP, sizes: [0x20000] });
  k.inject({ kind: 'after-reset', bdf: RP, bars: [0x40000, 0, 0x1000] });
  assert.equal(regionInfo(k, device, 0).size, 0x20000n);
  k.sys.ioctl(device, VFIO.DEVICE_RESET);
  assert.equal(regionInfo(k, device, 0).size, 0x40000n);
  assert.equal(regionInfo(k, device, 2).size, 0x1000n);
  assert.equal(k.pci.state(RP).afterReset, null);
  assert.throws(() => k.inject({ kind: 'bars', bdf: RP, sizes: [1, 2, 3, 4, 5, 6, 7] }), /at most 6/);
});
