/**
 * `npm start`, second half: the GPU of the workstation on a Linux 6.6+ kernel, owned in cdev mode —
 * bound to an iommufd context, the hot-reset INFO with dev_ids and OWNED/NOT_OWNED (the function
 * in the way named with driver and group), the reset with the empty fd array — then an
 * uncorrectable error while it is owned: the owner sees the ERR event, resets the device, and
 * re-reads it (it came back with a larger BAR: a firmware update took effect); last, the host asks
 * for the device back and the owner lets go.
 * @module
 */

import { renderHotResetInfo } from '../render/hot-reset-info.ts';
import { kernelLogLines } from '../render/kernel-log.ts';
import { renderRecovery, renderReleaseAnswer } from '../render/recovery.ts';
import { SimBlockedError, type SimKernel } from '../sim/kernel.ts';
import { CdevSession, cdevNameOf } from '../vfio/cdev-session.ts';
import { VfioError } from '../vfio/errors.ts';
import { deviceRef, driverOf } from '../vfio/locate.ts';
import { formatSize, recoverFromError, watchErrors } from '../vfio/recovery.ts';
import { answerReleaseRequest, watchReleaseRequests } from '../vfio/release.ts';

const GPU = '0000:01:00.0';
const AUDIO = '0000:01:00.1';
const MiB = 2 ** 20;
const GiB = 2 ** 30;

export interface DemoIo {
  out: (s: string) => void;
  heading: (s: string) => void;
}

/** driver_override + unbind + drivers_probe, as a user binds a device (both halves of the demo). */
export function bindDriver(kernel: SimKernel, bdf: string, driver: string): void {
  kernel.sys.writeSysfs(`bus/pci/devices/${bdf}/driver_override`, driver);
  const d = driverOf(kernel.sysfs, bdf);
  if (d) kernel.sys.writeSysfs(`bus/pci/drivers/${d}/unbind`, bdf);
  kernel.sys.writeSysfs('bus/pci/drivers_probe', bdf);
}

function bind(kernel: SimKernel, io: DemoIo, bdf: string, driver: string): void {
  io.out(`# bind ${bdf} to ${driver}\n`);
  bindDriver(kernel, bdf, driver);
}

export function cdevStory(kernel: SimKernel, io: DemoIo): void {
  const { out, heading } = io;
  const info = (s: CdevSession, dev: ReturnType<CdevSession['openDevice']>) => {
    const r = s.hotResetInfo(dev);
    const refs = r.entries.map((e) => deviceRef(kernel.sysfs, e.bdf));
    out(`VFIO_DEVICE_GET_PCI_HOT_RESET_INFO → ${renderHotResetInfo(r, refs).join('\n    ')}\n`);
  };

  heading('Linux 6.6+: the GPU in cdev mode (iommufd), step by step');
  bind(kernel, io, GPU, 'vfio-pci');
  bind(kernel, io, AUDIO, 'pci-stub');
  const s = new CdevSession(kernel, { bindMissing: false });
  const dev = s.openDevice(GPU);
  out(
    `open /dev/iommu; open /dev/vfio/devices/${cdevNameOf(kernel, GPU)}; VFIO_DEVICE_BIND_IOMMUFD → devid ${dev.devid}\n`,
  );
  info(s, dev);
  try {
    s.hotReset(dev);
  } catch (e) {
    if (!(e instanceof VfioError)) throw e;
    out(`✗ ${e.message}\n`);
  }
  bind(kernel, io, AUDIO, 'vfio-pci');
  info(s, dev);
  const t0 = kernel.clock.now();
  s.hotReset(dev);
  out(
    `VFIO_DEVICE_PCI_HOT_RESET with count 0 (the empty fd array: ownership is checked through the context) → 0, slot reset in ${(kernel.clock.now() - t0).toFixed(1)} ms\n`,
  );

  heading('an uncorrectable PCIe error while the VM owns the GPU');
  kernel.inject({ kind: 'bars', bdf: GPU, sizes: [16 * MiB, 256 * MiB, 0, 32 * MiB] });
  kernel.inject({ kind: 'after-reset', bdf: GPU, bars: [16 * MiB, 32 * GiB, 0, 32 * MiB] });
  out(
    `# the GPU's BARs: BAR0 16 MiB, BAR1 ${formatSize(256 * MiB)}, BAR3 32 MiB; a firmware update (Resizable BAR on) waits for the next reset\n`,
  );
  const watch = watchErrors(s, dev);
  out(
    `VFIO_DEVICE_GET_IRQ_INFO(ERR) → 1 vector; VFIO_DEVICE_SET_IRQS → eventfd ${watch.efd} is the ERR trigger\n`,
  );
  out(`# inject: an uncorrectable error (Completion Timeout) on ${GPU}\n`);
  let mark = kernel.log.length;
  kernel.injectError(GPU);
  for (const line of kernelLogLines(kernel.log.since(mark))) out(`  ${line}\n`);
  out('# vfio-pci only signals the owner; config space reads all-ones until the owner resets the device\n');
  mark = kernel.log.length;
  const t1 = kernel.clock.now();
  const r = recoverFromError(s, watch, 1000);
  for (const line of renderRecovery(r)) out(`${line}\n`);
  for (const line of kernelLogLines(kernel.log.since(mark))) out(`  ${line}\n`);
  out(`# recovered in ${(kernel.clock.now() - t1).toFixed(1)} ms (virtual time)\n`);

  heading('the host wants the GPU back');
  const req = watchReleaseRequests(s, dev);
  out(
    `# the owner set eventfd ${req.efd} as the REQ trigger; the host writes ${GPU} to drivers/vfio-pci/unbind\n`,
  );
  mark = kernel.log.length;
  try {
    kernel.sys.writeSysfs('bus/pci/drivers/vfio-pci/unbind', GPU);
  } catch (e) {
    if (!(e instanceof SimBlockedError)) throw e;
    out('# the write blocks: vfio-pci asks the owner now and every 10 s\n');
  }
  const a = answerReleaseRequest(s, req, 30_000);
  for (const line of kernelLogLines(kernel.log.since(mark))) out(`  ${line}\n`);
  const now = driverOf(kernel.sysfs, GPU);
  out(`${renderReleaseAnswer(a)}: ${GPU} is now ${now ? `on ${now}` : 'unbound'}\n`);
  s.close();
}
