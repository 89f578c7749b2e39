/**
 * sysfs `modalias` of a PCI function: its ids and class in one line, as `modalias_show`
 * (drivers/pci/pci-sysfs.c, every kernel since 2.6.12) prints them from the same `pci_dev` fields
 * as the `vendor`, `device`, `subsystem_vendor`, `subsystem_device` and `class` attributes.
 * One file read instead of five per function is what makes it worth reading.
 * @module
 */

import { hex } from './bdf.ts';
import type { FunctionDesc } from './model.ts';

export type ModaliasIds = Pick<
  FunctionDesc,
  'vendor' | 'device' | 'subsystemVendor' | 'subsystemDevice' | 'classCode'
>;

/** `pci:v%08Xd%08Xsv%08Xsd%08Xbc%02Xsc%02Xi%02X\n`, as 6.x prints it (early kernels print prog-if in lower case). */
export function formatModalias(f: ModaliasIds): string {
  const h8 = (n: number) => hex(n, 8).toUpperCase();
  const h2 = (n: number) => hex(n & 0xff, 2).toUpperCase();
  return `pci:v${h8(f.vendor)}d${h8(f.device)}sv${h8(f.subsystemVendor)}sd${h8(f.subsystemDevice)}bc${h2(f.classCode >> 16)}sc${h2(f.classCode >> 8)}i${h2(f.classCode)}\n`;
}

const MODALIAS =
  /^pci:v([0-9A-F]{8})d([0-9A-F]{8})sv([0-9A-F]{8})sd([0-9A-F]{8})bc([0-9A-F]{2})sc([0-9A-F]{2})i([0-9A-F]{2})\s*$/i;

/** The ids and class a `modalias` line states, or null when the text is not one. */
export function parseModalias(text: string): ModaliasIds | null {
  const m = MODALIAS.exec(text);
  if (m === null) return null;
  const n = (i: number) => Number.parseInt(m[i]!, 16);
  return {
    vendor: n(1),
    device: n(2),
    subsystemVendor: n(3),
    subsystemDevice: n(4),
    classCode: (n(5) << 16) | (n(6) << 8) | n(7),
  };
}
