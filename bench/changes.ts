/**
 * The optimizations behind the figures of docs/performance.md, with the before/after each one's
 * commit measured (the current figures are the page's own; these are the history).
 * @module
 */

export interface Change {
  what: string;
  before: string;
  after: string;
}

export const CHANGES: readonly Change[] = [
  {
    what: 'IOMMU group ids from a counter: nothing is freed at boot, so the lowest free id is the count so far (A6); the lowest-free scan was quadratic',
    before: 'groups of 100,000 functions: 135,372 ms',
    after: '7,062 ms (machine loaded by other jobs)',
  },
  {
    what: 'ioctl request names built once per fd kind, not on every ioctl (simulator and LinuxSyscalls)',
    before: 'simulated hot-reset INFO 14.4 µs; DEVICE_GET_INFO 63,866/s; LinuxSyscalls.ioctl 15,149 ns',
    after: '3.1 µs; 149,976/s; 1,520 ns',
  },
  {
    what: 'inventory: G3 (a DMA-using group mate) and group member lists from one pass, not a search of the host per function',
    before: 'inventory of the 4,096-function dump: 2,785 ms',
    after: '1,091 ms',
  },
  {
    what: 'scan/info read config space only where sysfs attributes do not answer (bridges); one readdir per device instead of a stat per attribute; no path.join for normal paths',
    before: '4,096 config reads; inventory 953 ms',
    after: '194 config reads; 654 ms',
  },
  {
    what: 'a link read with one readlink (EINVAL: not a link) instead of lstat + readlink; attributes read with one pread into a shared buffer',
    before: 'inventory of the 4,096-function dump: 731 ms CPU',
    after: '466 ms CPU',
  },
  {
    what: 'each hot-reset scope worked out once per slot or bus and shared by the functions there (I2/I3)',
    before: '466 ms CPU',
    after: '390 ms CPU',
  },
  {
    what: 'link attributes looked up in the device listing; normal paths told by string tests, not a regular expression',
    before: '390 ms CPU',
    after: '344 ms CPU',
  },
  {
    what: 'simulator: vfio device indices from a per-kernel ida, not a rebuilt set per registration (boot registers every vfio-pci device)',
    before: 'SimKernel boot, 10,000 functions: 3,393 ms',
    after: '2,280 ms',
  },
  {
    what: 'simulator: sysfs files and links created in one pass over the path; each config image built at its first read',
    before: 'boot, 10,000 functions: 2,038 ms CPU',
    after: '1,578 ms CPU',
  },
  {
    what: 'simulator: the AER config wrapper wraps the read function instead of reading every image at boot; device paths worked out once per function',
    before: 'boot, 30,000 functions: 4,669 ms, RSS 743 MiB',
    after: '3,078 ms, 495 MiB',
  },
  {
    what: 'an endpoint read without config space: its link attributes are looked for, not read (their show functions read config registers)',
    before: 'reading the 4,096-function dump: ~335 ms',
    after: '~245 ms',
  },
  {
    what: "--json documents written in chunks cut from JSON.stringify's own text; one string could not hold a 100,000-function scan",
    before: 'RangeError: Invalid string length at 100,000 functions',
    after: 'a 1.6 GiB document, written; 4,096 functions: 345 ms (one JSON.stringify: 375 ms)',
  },
  {
    what: 'topology (and scenario) files written as JSON read with JSON.parse when that gives what the YAML reading would; the positioned YAML document built only to report a mistake',
    before: 'the 4,096-function topology as JSON: 630 ms',
    after: '225 ms',
  },
  {
    what: 'LinuxSyscalls names a request only when the ioctl fails',
    before: 'LinuxSyscalls.ioctl FIONREAD: 279 ns',
    after: '237 ns (ioctl() alone: 235 ns)',
  },
  {
    what: 'reading sysfs for the inventory: not revision, resource and driver_override (it never uses them); physfn by presence; no closure or path.join per file',
    before: 'reading the 4,096-function dump (bundled, in process, median): ~260 ms',
    after: '~215 ms',
  },
  {
    what: 'ids and class from sysfs modalias, one file instead of vendor, device, subsystem_vendor, subsystem_device and class (dumps now copy it)',
    before: '~215 ms',
    after: '~160 ms',
  },
  {
    what: "a function's directory from its bridge's listing, already read, instead of readlink of its bus/pci/devices link; the listing not kept per function",
    before: '~160 ms',
    after: '~135 ms (first read in a fresh process: ~205 ms, was ~340 ms)',
  },
  {
    what: "CLI commands registered with commander alone; each command's code imported when it runs (a scan of a dump loads neither the simulator nor zod, yaml or d3)",
    before: '`vfio-reset --help`: ~200 ms, 185 modules (node -e 0: ~65 ms)',
    after: '~90 ms, 13 modules',
  },
  {
    what: 'scan --json schemaVersion 2: each reset domain (slot or bus) written once with its problems; functions name it (v1 repeated it in every function, quadratic in the functions of a bus)',
    before: 'the 4,096-function scan document: 66.4 MiB, 379 ms to write',
    after: '4.7 MiB, ~35 ms',
  },
  {
    what: "inventory: a function's hot reset is its reset domain, shared; the domain's problems kept once on it, not copied into each function",
    before: 'inventory of the 4,096-function dump (bundled, in process): ~85 ms',
    after: '~30 ms',
  },
];
