/**
 * `--host sim:<file|dir>`: a topology file or a sysfs dump booted in the simulator. Its own module
 * because it loads the simulator and the topology loader (zod, yaml), which host-spec.ts imports
 * only when a `sim:` host is asked for.
 * @module
 */

import { statSync } from 'node:fs';
import { readSysfsHost, sysfsTopology } from '../host/read-sysfs.ts';
import { DirSysfsReader } from '../linux/sysfs-reader.ts';
import type { Era } from '../pci/era.ts';
import type { HostDesc } from '../pci/model.ts';
import { SimKernel } from '../sim/kernel.ts';
import { loadTopologyFile } from '../topology/load.ts';
import { UsageError } from './errors.ts';

export function bootSimHost(path: string, era: Era): SimKernel {
  let isDir: boolean;
  try {
    isDir = statSync(path).isDirectory();
  } catch {
    throw new UsageError(`--host sim:${path}: no such file or directory`);
  }
  let desc: HostDesc;
  if (isDir) {
    const read = readSysfsHost(new DirSysfsReader(path), path);
    sysfsTopology(read, path); // a dump describing an impossible tree is refused naming the dump
    desc = read.desc;
  } else desc = loadTopologyFile(path);
  return new SimKernel(desc, { era });
}
