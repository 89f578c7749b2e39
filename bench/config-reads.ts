/** The docs' account of which commands read PCI config space, and why (kept beside the bench that writes the page). */

export const CONFIG_SPACE_READS = [
  "Reading a device's `config` file through sysfs resumes a runtime-suspended device (the kernel takes a",
  'runtime-PM reference for the access), so vfio-reset reads it only where no sysfs attribute answers:',
  '',
  '| command | reads `config` of | why |',
  '| --- | --- | --- |',
  '| `scan`, `info`, `reset` (dry run) | every function | capabilities for computed reset methods and IOMMU groups, and to compare them with sysfs |',
  '| `snapshot` | every function | the topology file records capabilities (PCIe, PM, AF, ACS, SR-IOV), which only config space holds |',
  '| `--host sim:<dump-dir>` | every function of the dump (a file, not a device) | the simulator needs the whole description |',
  '| `dump` | every function | a dump copies `config` so it can be simulated later |',
  "| `reset --yes` (QEMU policy) | the device being reset | FLR and PM capabilities decide QEMU's reset order |",
].join('\n');
