/**
 * vfio-reset as a library: the inventory, the simulated kernel, the VFIO client and the
 * scenario runner. Everything here runs on any machine; only `linux/` talks to a real kernel.
 * @module
 */

export { writeSysfsDump } from './host/dump.ts';
export {
  hotResetProblemsOf,
  type Inventory,
  type InventoryFunction,
  problemsOf,
  type ResetDomain,
  takeInventory,
} from './host/inventory.ts';
export type { DeviceRef, DomainProblem, Problem, ProblemCode } from './host/problems.ts';
export { readSysfsHost } from './host/read-sysfs.ts';
export type { IoctlArg, KernelHost, Syscalls } from './kernel/syscalls.ts';
export { KernelError } from './kernel/syscalls.ts';
export type { SysfsReader } from './kernel/sysfs.ts';
export { openLinuxHost } from './linux/host.ts';
export { checkDestructive, type Refusal, refusalText } from './linux/safety.ts';
export { DirSysfsReader } from './linux/sysfs-reader.ts';
export { type Bdf, formatBdf, parseBdf } from './pci/bdf.ts';
export type { Era } from './pci/era.ts';
export type { FunctionDesc, HostDesc, SlotDesc } from './pci/model.ts';
export { Topology } from './pci/topology.ts';
export { loadScenarioFile, parseScenario } from './scenario/load.ts';
export { runScenario, type ScenarioResult, type ScenarioTarget } from './scenario/run.ts';
export { simTarget, wallClockTarget } from './scenario/targets.ts';
export { BARE_METAL, QEMU_GUEST } from './sim/clock.ts';
export { SimBlockedError, SimKernel } from './sim/kernel.ts';
export { loadTopologyFile, parseTopology } from './topology/load.ts';
export { CdevSession } from './vfio/cdev-session.ts';
export { VfioError } from './vfio/errors.ts';
export { GroupSession } from './vfio/group-session.ts';
export { recoverFromError, stopWatching, watchErrors } from './vfio/recovery.ts';
export { answerReleaseRequest, watchReleaseRequests } from './vfio/release.ts';
export { resetDevice } from './vfio/reset-device.ts';
export { qemuReset } from './vfio/strategy.ts';
