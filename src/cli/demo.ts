/**
 * `npm start`: a short tour on the bundled workstation, all on the simulated kernel — the scan,
 * one function explained, then the story users live through when passing a GPU to a VM: binding
 * only its video function is refused with the audio function named, binding both lets the hot
 * reset through; and an NVMe drive's slot reset with its timing and kernel log. Then, on Linux
 * 6.6+, the GPU in cdev mode, an uncorrectable error and its recovery, and the host taking the
 * device back (demo-cdev.ts).
 * @module
 */

import { fileURLToPath } from 'node:url';
import { takeInventory } from '../host/inventory.ts';
import { renderResetText } from '../render/reset.ts';
import { renderInfo, renderScan } from '../render/text.ts';
import { SimKernel } from '../sim/kernel.ts';
import { loadTopologyFile } from '../topology/load.ts';
import type { ResetMethodChoice } from '../vfio/reset-device.ts';
import { bindDriver, cdevStory } from './demo-cdev.ts';
import { simResetRun } from './sim-reset.ts';

const EXAMPLE = fileURLToPath(new URL('../../examples/workstation.yaml', import.meta.url));
const HOST = 'sim:examples/workstation.yaml';

export function runDemo(out: (s: string) => void): number {
  const kernel = new SimKernel(loadTopologyFile(EXAMPLE), { era: '6.1' });
  const inventory = () => takeInventory(kernel.sysfs, { origin: HOST, name: kernel.host.name });
  const heading = (s: string) => out(`\n━━ ${s}\n`);
  const cmd = (s: string) => out(`$ vfio-reset --host ${HOST} ${s}\n`);

  heading('the host, as vfio-reset sees it');
  cmd('scan');
  out(renderScan(inventory()));

  heading('one function, explained');
  cmd('info 0000:01:00.0');
  const inv = inventory();
  out(renderInfo(inv, inv.functions.find((f) => f.bdf === '0000:01:00.0')!));

  const bind = (bdf: string) => {
    out(`# bind ${bdf} to vfio-pci (driver_override, unbind, drivers_probe) in the simulated kernel\n`);
    bindDriver(kernel, bdf, 'vfio-pci');
  };
  const reset = (bdf: string, method: ResetMethodChoice) => {
    cmd(`reset ${bdf} --method ${method} --yes`);
    out(renderResetText(simResetRun(kernel, HOST, bdf, method, 'auto')));
  };

  heading('pass the GPU to a VM: its video function alone is not enough');
  bind('0000:01:00.0');
  reset('0000:01:00.0', 'hot');

  heading('…with its audio function bound too, the slot reset goes through');
  bind('0000:01:00.1');
  reset('0000:01:00.0', 'hot');

  heading('an NVMe drive in a hotplug slot of the PCIe switch');
  reset('0000:05:00.0', 'hot');
  reset('0000:05:00.0', 'auto');

  cdevStory(new SimKernel(loadTopologyFile(EXAMPLE), { era: '6.6+' }), { out, heading });
  return 0;
}
