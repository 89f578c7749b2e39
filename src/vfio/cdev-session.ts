/**
 * cdev/iommufd VFIO session (Linux 6.6+): one iommufd context, devices opened through
 * `/dev/vfio/devices/vfioN` and bound to it — and the cdev-mode hot-reset routine: INFO reports a
 * dev_id per affected function (or OWNED / NOT_OWNED); every NOT_OWNED vfio device of the scope is
 * bound to the same context when the caller allows it; the reset takes an empty fd array and the
 * kernel checks ownership through the context (H20, H22).
 * @module
 */

import type { DeviceRef } from '../host/problems.ts';
import type { KernelHost } from '../kernel/syscalls.ts';
import { formatBdf, parseBdf } from '../pci/bdf.ts';
import { isVfioDriver } from '../pci/drivers.ts';
import { VFIO } from '../uapi/ioctl.ts';
import { BIND_IOMMUFD_MINSZ, decodeBindIommufd, encodeBindIommufd } from '../uapi/vfio-structs.ts';
import { refText, VfioError } from './errors.ts';
import * as io from './ioctls.ts';
import { type CallContext, kernelCall, kernelCallWithRetry } from './kernel-calls.ts';
import { deviceExists, deviceRef, driverOf } from './locate.ts';
import type { VfioSession } from './session.ts';

export interface CdevDevice {
  bdf: string;
  fd: number;
  /** The iommufd object id the bind returned (K3). */
  devid: number;
  resetWorks: boolean;
}

export interface CdevSessionOptions {
  /** Bind NOT_OWNED vfio-pci devices of the reset scope to this context before the reset (QEMU does not). */
  bindMissing: boolean;
  busyRetries: number;
}

const DEFAULTS: CdevSessionOptions = { bindMissing: true, busyRetries: 3 };

/**
 * `bus/pci/devices/<bdf>/vfio-dev/vfioN` → `vfioN`, or null when the device has no cdev. Linux 6.1
 * already has the `vfio-dev/vfioN` struct device, but only a kernel with the cdev (6.6+,
 * CONFIG_VFIO_DEVICE_CDEV) gives it a `dev` attribute (the node's major:minor).
 */
export function cdevNameOf(host: KernelHost, bdf: string): string | null {
  const dir = `bus/pci/devices/${bdf}/vfio-dev`;
  if (host.sysfs.kind(dir) === null) return null;
  const name = host.sysfs.list(dir).find((n) => /^vfio\d+$/.test(n));
  return name !== undefined && host.sysfs.kind(`${dir}/${name}/dev`) === 'file' ? name : null;
}

/** Whether the host offers the cdev interface (`/dev/vfio/devices`, seen as vfio-dev in sysfs). */
export function hostHasCdev(host: KernelHost, bdf: string): boolean {
  return cdevNameOf(host, bdf) !== null;
}

export class CdevSession implements VfioSession<CdevDevice> {
  readonly mode = 'cdev' as const;
  readonly host: KernelHost;
  readonly options: CdevSessionOptions;
  private iommufd: number | null = null;
  private readonly devices = new Map<string, CdevDevice>();

  constructor(host: KernelHost, options: Partial<CdevSessionOptions> = {}) {
    this.host = host;
    this.options = { ...DEFAULTS, ...options };
  }

  private context(): number {
    if (this.iommufd === null)
      this.iommufd = this.call('open /dev/iommu', null, () => this.host.sys.open('/dev/iommu'));
    return this.iommufd;
  }

  /** Opens the device's cdev and binds it to this session's iommufd context (K1, K3). */
  openDevice(bdfText: string): CdevDevice {
    const bdf = formatBdf(parseBdf(bdfText));
    const have = this.devices.get(bdf);
    if (have) return have;
    const sys = this.host.sysfs;
    if (!deviceExists(sys, bdf))
      throw new VfioError('VFIO_RESET_E_NOT_VFIO', `${bdf} is not on this host (${sys.origin})`, {
        step: 'locate',
        bdf,
      });
    const driver = driverOf(sys, bdf);
    if (!isVfioDriver(driver)) {
      throw new VfioError(
        'VFIO_RESET_E_NOT_VFIO',
        `${bdf} is bound to ${driver ?? 'no driver'}, not vfio-pci`,
        { step: 'locate', bdf, blocker: deviceRef(sys, bdf) },
      );
    }
    const name = cdevNameOf(this.host, bdf);
    if (!name) {
      throw new VfioError(
        'VFIO_RESET_E_NOT_VFIO',
        `${bdf} has no VFIO device cdev (needs Linux 6.6+ with CONFIG_VFIO_DEVICE_CDEV); use group mode`,
        { step: 'locate', bdf },
      );
    }
    const ctx = this.context();
    const fd = this.call(`open /dev/vfio/devices/${name}`, bdf, () =>
      this.host.sys.open(`/dev/vfio/devices/${name}`),
    );
    try {
      const buf = encodeBindIommufd({ argsz: BIND_IOMMUFD_MINSZ, flags: 0, iommufd: ctx, outDevid: 0 });
      // O1: the bind opens the device, whose reset takes a trylock; EAGAIN is contention, retried.
      this.retry(`VFIO_DEVICE_BIND_IOMMUFD ${bdf}`, bdf, () =>
        this.host.sys.ioctl(fd, VFIO.DEVICE_BIND_IOMMUFD, buf),
      );
      const info = this.call(`VFIO_DEVICE_GET_INFO ${bdf}`, bdf, () => io.deviceInfo(this.host.sys, fd));
      const dev: CdevDevice = {
        bdf,
        fd,
        devid: decodeBindIommufd(buf).outDevid,
        resetWorks: (info.flags & 1) !== 0,
      };
      this.devices.set(bdf, dev);
      return dev;
    } catch (e) {
      this.host.sys.close(fd);
      throw e;
    }
  }

  hotResetInfo(dev: CdevDevice): io.HotResetInfoResult {
    return this.call(`VFIO_DEVICE_GET_PCI_HOT_RESET_INFO ${dev.bdf}`, dev.bdf, () =>
      io.hotResetInfo(this.host.sys, dev.fd),
    );
  }

  functionReset(dev: CdevDevice): void {
    this.retry(`VFIO_DEVICE_RESET ${dev.bdf}`, dev.bdf, () => io.deviceReset(this.host.sys, dev.fd));
  }

  /**
   * The cdev-mode hot reset (H20–H22): every affected function must be owned through this
   * context. NOT_OWNED vfio-pci devices are bound here first when `bindMissing`; anything else
   * NOT_OWNED is named, with its driver and group, in the error.
   */
  hotReset(dev: CdevDevice): { affected: DeviceRef[] } {
    let info = this.hotResetInfo(dev);
    if (!info.devIdMode) {
      throw new VfioError(
        'VFIO_RESET_E_IOCTL',
        `${dev.bdf} answered hot-reset INFO with group ids: it was not opened through its cdev`,
        { step: 'VFIO_DEVICE_GET_PCI_HOT_RESET_INFO', bdf: dev.bdf },
      );
    }
    const sys = this.host.sysfs;
    if (!info.allOwned) {
      const missing = info.entries.filter((e) => io.isNotOwned(e.id)).map((e) => deviceRef(sys, e.bdf));
      const notVfio = missing.find((m) => !isVfioDriver(m.driver));
      if (notVfio || !this.options.bindMissing) {
        const b = notVfio ?? missing[0]!;
        throw new VfioError(
          'VFIO_RESET_E_NOT_OWNED',
          `hot reset of ${dev.bdf} needs ${refText(b)}, which is not owned by this iommufd context${notVfio ? ': bind it to vfio-pci first' : ''}`,
          {
            step: 'VFIO_DEVICE_GET_PCI_HOT_RESET_INFO',
            bdf: dev.bdf,
            blocker: b,
          },
        );
      }
      for (const m of missing) {
        try {
          this.openDevice(m.bdf);
        } catch (e) {
          if (!(e instanceof VfioError)) throw e;
          // Another user has it (bound to its own context, or open through its group): not ours to reset.
          throw new VfioError(
            'VFIO_RESET_E_NOT_OWNED',
            `hot reset of ${dev.bdf} needs ${refText(m)}, which this iommufd context cannot take: ${e.message}`,
            { step: e.step, errno: e.errno, rule: e.rule, bdf: dev.bdf, blocker: m },
          );
        }
      }
      info = this.hotResetInfo(dev);
    }
    this.retry(`VFIO_DEVICE_PCI_HOT_RESET ${dev.bdf}`, dev.bdf, () => io.hotReset(this.host.sys, dev.fd, []));
    return { affected: info.entries.map((e) => deviceRef(sys, e.bdf)) };
  }

  heldDevices(): CdevDevice[] {
    return [...this.devices.values()];
  }

  /** Closes the device's cdev: the kernel unbinds it from the context and runs close_device (K6). */
  closeDevice(dev: CdevDevice): void {
    if (this.devices.get(dev.bdf) !== dev) return;
    this.devices.delete(dev.bdf);
    this.host.sys.close(dev.fd);
  }

  close(): void {
    for (const d of this.devices.values()) this.host.sys.close(d.fd);
    this.devices.clear();
    if (this.iommufd !== null) this.host.sys.close(this.iommufd);
    this.iommufd = null;
  }

  private get calls(): CallContext {
    return { mode: 'cdev', sysfs: this.host.sysfs, busyRetries: this.options.busyRetries };
  }

  private retry<T>(step: string, bdf: string, f: () => T): T {
    return kernelCallWithRetry(this.calls, step, bdf, f);
  }

  private call<T>(step: string, bdf: string | null, f: () => T): T {
    return kernelCall(this.calls, step, bdf, f);
  }
}
