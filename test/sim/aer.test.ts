/**
 * Uncorrectable AER errors in the simulator (sim/aer.ts): the Root Port's messages, vfio-pci's
 * error_detected signalling the ERR eventfd (vfio_pci_core_aer_err_detected), all-ones reads until
 * a reset, and the recovery of host-driver functions with and without error handlers.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { SimKernel } from '../../src/sim/kernel.ts';
import type { LoggedEvent } from '../../src/sim/log.ts';
import { devicePath } from '../../src/sim/sysfs.ts';
import { VFIO } from '../../src/uapi/ioctl.ts';
import { VFIO_PCI_IRQ_INDEX } from '../../src/uapi/vfio-irqs.ts';
import { simOf } from '../helpers/sim.ts';
import { kernel, openDevice, setIrqTrigger, throwsErrno } from '../helpers/vfio-steps.ts';

const NVME_VFIO = '0000:05:00.0'; // workstation: vfio-pci, FLR, below downstream port 03:01.0, root port 00:1b.0
const RP = '0000:01:00.0'; // qemu-rp: e1000e, pm reset only

function config(k: SimKernel, bdf: string): Uint8Array {
  return k.sysfs.readBytes(`${devicePath(k.host.topology.get(bdf)!)}/config`);
}

const lines = (events: readonly LoggedEvent[]) =>
  events.flatMap(({ event: e }) => (e.kind === 'log' ? [`${e.driver ?? 'pci'} ${e.device}: ${e.text}`] : []));

test('a vfio-owned function signals its owner: ERR eventfd, all-ones config reads, no host recovery; an FLR clears it', () => {
  const k = simOf('workstation');
  const { device } = openDevice(k, NVME_VFIO);
  const efd = setIrqTrigger(k, device, VFIO_PCI_IRQ_INDEX.ERR);
  const mark = k.log.length;
  const report = k.injectError(NVME_VFIO);
  assert.deepEqual(report.outcomes, [{ bdf: NVME_VFIO, how: 'vfio', signalled: true }]);
  assert.equal(report.port, '0000:03:01.0');
  assert.deepEqual(lines(k.log.since(mark)), [
    'pcieport 0000:00:1b.0: AER: Uncorrected (Non-Fatal) error received: 0000:05:00.0',
    'vfio-pci 0000:05:00.0: PCIe Bus Error: severity=Uncorrected (Non-Fatal), type=Transaction Layer, (Requester ID)',
    'vfio-pci 0000:05:00.0:   device [1c5c:174a] error status/mask=00004000/00000000',
    'vfio-pci 0000:05:00.0:    [14] CmpltTO                (First)',
    'pcieport 0000:03:01.0: AER: device recovery successful',
  ]);
  assert.equal(k.sys.readEventfd(efd), 1);
  assert.ok(
    config(k, NVME_VFIO).every((b) => b === 0xff),
    'config reads all-ones while in error',
  );
  assert.equal(k.host.state(NVME_VFIO)!.driver, 'vfio-pci', 'the host leaves the device to its owner');

  // The owner's function reset: FLR, after pci_wait_for_pending_transaction times out (100+200+400 ms).
  const t0 = k.clock.now();
  const before = k.log.length;
  k.sys.ioctl(device, VFIO.DEVICE_RESET);
  assert.ok(k.clock.now() - t0 >= 700, `FLR took ${k.clock.now() - t0} ms`);
  assert.ok(
    lines(k.log.since(before)).some((l) =>
      l.endsWith('timed out waiting for pending transaction; performing function level reset anyway'),
    ),
  );
  assert.equal(k.pci.state(NVME_VFIO).uncorrectable, null);
  assert.equal(config(k, NVME_VFIO)[0], 0x5c, 'config answers again (vendor 1c5c)');
});

test('a device in error cannot be pm reset (PMCSR reads all-ones): the next method, bus, resets it', () => {
  const k = kernel('qemu-rp');
  const { device } = openDevice(k, RP);
  k.inject({ kind: 'aer', bdf: RP });
  // M5: pm answers ENOTTY, so "bus" runs; on this root port its link wait ends ENOTTY (§9.1),
  // but the secondary bus reset itself happened and cleared the error.
  throwsErrno(() => k.sys.ioctl(device, VFIO.DEVICE_RESET), 'ENOTTY', 'D3.ENOTTY');
  assert.equal(k.pci.state(RP).lastReset?.how, 'bus');
  assert.equal(k.pci.state(RP).uncorrectable, null);
});

test('without an ERR trigger vfio-pci signals nobody, and the device stays in error', () => {
  const k = simOf('workstation', '6.6+');
  const r = k.injectError(NVME_VFIO);
  assert.deepEqual(r.outcomes, [{ bdf: NVME_VFIO, how: 'vfio', signalled: false }]);
  assert.notEqual(k.pci.state(NVME_VFIO).uncorrectable, null);
});

test('host drivers without error handlers below the port: unbind → reset → rebind, with the kernel log lines', () => {
  const k = simOf('workstation');
  const mark = k.log.length;
  const r = k.injectError('0000:01:00.1'); // HDMI audio (snd_hda_intel) next to the GPU (nvidia)
  assert.deepEqual(
    r.outcomes.map((o) => [o.bdf, o.how]),
    [
      ['0000:01:00.0', 'rebound'],
      ['0000:01:00.1', 'rebound'],
    ],
  );
  assert.ok(r.recovered);
  const log = lines(k.log.since(mark));
  assert.ok(log.includes("nvidia 0000:01:00.0: AER: can't recover (no error_detected callback)"));
  assert.ok(log.includes("snd_hda_intel 0000:01:00.1: AER: can't recover (no error_detected callback)"));
  assert.equal(log.at(-1), 'pcieport 0000:00:01.0: AER: device recovery successful');
  const order = k.log
    .since(mark)
    .flatMap(({ event: e }) =>
      e.kind === 'bind' || e.kind === 'unbind'
        ? [`${e.kind} ${e.device}`]
        : e.kind === 'function-reset'
          ? [`reset ${e.device} ${e.result}`]
          : [],
    );
  assert.deepEqual(order, [
    'unbind 0000:01:00.0',
    'unbind 0000:01:00.1',
    'bind 0000:01:00.0',
    'bind 0000:01:00.1',
  ]);
  assert.ok(
    r.outcomes.every((o) => o.how === 'rebound' && o.reset === 'slot reset'),
    'the pciehp slot of 00:01.0',
  );
  assert.equal(k.host.state('0000:01:00.1')!.driver, 'snd_hda_intel');
  assert.equal(k.pci.state('0000:01:00.1').uncorrectable, null);
});

test('host drivers with error handlers recover their own device; no unbind', () => {
  const k = simOf('workstation');
  const mark = k.log.length;
  const r = k.injectError('0000:04:00.0');
  assert.deepEqual(r.outcomes, [{ bdf: '0000:04:00.0', how: 'driver', driver: 'nvme' }]);
  assert.equal(k.pci.state('0000:04:00.0').uncorrectable, null);
  assert.ok(!k.log.since(mark).some(({ event }) => event.kind === 'unbind'));
});

test('AER injection refuses what the model does not cover, naming the function', () => {
  const k = simOf('workstation');
  assert.throws(() => k.injectError('0000:00:02.0'), /0000:00:02.0 has no root or downstream port above it/);
  assert.throws(() => k.injectError('0000:03:01.0'), /0000:03:01.0 is a bridge/);
  assert.throws(() => k.injectError('0000:0a:00.0'), /0000:0a:00.0 is conventional PCI/);
  assert.throws(() => k.injectError('0000:7f:00.0'), /no PCI function 0000:7f:00.0/);
});
