/**
 * A real host behind the kernel boundary: `/sys` read by `DirSysfsReader`, syscalls by
 * `LinuxSyscalls`. The VFIO client, the inventory and the scenario runner take a `KernelHost`,
 * so the same code that runs on the simulator runs here. Nothing is touched until a call is made;
 * koffi is loaded on the first ioctl only. Check `linux/safety.ts` before anything destructive.
 * @module
 */

import type { KernelHost } from '../kernel/syscalls.ts';
import { LinuxSyscalls } from './syscalls.ts';
import { DirSysfsReader } from './sysfs-reader.ts';

export interface LinuxHost extends KernelHost {
  readonly sysfs: DirSysfsReader;
  readonly sys: LinuxSyscalls;
}

/** The real kernel, with sysfs read from (and attributes written under) `root`. */
export function openLinuxHost(root = '/sys'): LinuxHost {
  return { sysfs: new DirSysfsReader(root), sys: new LinuxSyscalls({ sysfsRoot: root }) };
}
