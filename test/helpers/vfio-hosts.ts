/** Small hand-made hosts for the VFIO rules the QEMU examples cannot show (SR-IOV, mixed dev_set keys). */
import { SimKernel, type SimKernelOptions } from '../../src/sim/kernel.ts';
import { conventional, endpoint, host, hostBridge, pciBridge, rootPort, slot } from './builders.ts';

/** A PF on its host driver with one VF enabled, the VF on vfio-pci; optionally the VF on its own bus. */
export function sriovKernel(opts: SimKernelOptions & { vfBus?: number } = {}): SimKernel {
  const vfBus = opts.vfBus ?? 1;
  const pf = endpoint('01:00.0', {
    driver: 'ixgbe',
    multifunctionBit: false,
    sriov: { totalVfs: 4, numVfs: 1, vfDeviceId: 0x10ed },
    pm: { noSoftReset: false },
    pcieOver: { flr: true },
  });
  const vf = endpoint(`${vfBus.toString(16).padStart(2, '0')}:10.0`, {
    driver: 'vfio-pci',
    driverOverride: 'vfio-pci',
    virtfn: true,
    pcieOver: { flr: true },
  });
  const root = rootPort('00:02.0', 1, { bridge: { secondary: 1, subordinate: vfBus } });
  return new SimKernel(host([hostBridge(), root, pf, vf]), opts);
}

/**
 * A conventional bus whose device 1 sits in a reset-capable slot (pnv_php) and device 2 in none:
 * vfio-pci keys 01:01.0 by the slot and 01:02.0 by the bus, so one bus holds two dev_sets (S3/H14).
 */
export function mixedKeysKernel(opts: SimKernelOptions = {}): SimKernel {
  return new SimKernel(
    host(
      [
        hostBridge(),
        pciBridge('00:01.0', 1),
        conventional('01:01.0', { driver: 'vfio-pci', driverOverride: 'vfio-pci' }),
        conventional('01:02.0', { driver: 'vfio-pci', driverOverride: 'vfio-pci' }),
      ],
      [slot(1, 'A', 'pnv_php', 1)],
    ),
    opts,
  );
}
