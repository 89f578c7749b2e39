/** A simulated kernel on a bundled example, for client and runner tests. */
import type { Era } from '../../src/pci/era.ts';
import { SimKernel } from '../../src/sim/kernel.ts';
import { loadTopologyFile } from '../../src/topology/load.ts';

export function simOf(example: string, era: Era = '6.1'): SimKernel {
  return new SimKernel(loadTopologyFile(`examples/${example}.yaml`), { era });
}

/** Binds a function to a driver the way kernel-rig.md does: driver_override, unbind, drivers_probe. */
export function bindTo(k: SimKernel, bdf: string, driver: string): void {
  k.sys.writeSysfs(`bus/pci/devices/${bdf}/driver_override`, driver);
  const link = `bus/pci/devices/${bdf}/driver`;
  if (k.sysfs.kind(link) === 'link') {
    const current = k.sysfs.readLink(link).split('/').pop()!;
    k.sys.writeSysfs(`bus/pci/drivers/${current}/unbind`, bdf);
  }
  k.sys.writeSysfs('bus/pci/drivers_probe', bdf);
}
