/**
 * Scenario files: a sequence of syscall-level steps against a kernel (simulated or real), each
 * with an optional expectation. Devices are named by BDF and groups are resolved through sysfs,
 * so the same file runs unchanged on the simulator and on a real kernel.
 *
 * ```yaml
 * name: PPB hot reset with the group fd
 * topology: ../examples/qemu-ppb.yaml     # optional; relative to this file
 * era: "6.1"                               # optional
 * steps:
 *   - { open: /dev/vfio/vfio, as: c }
 *   - { open-group: "0000:02:01.0", as: g }
 *   - { set-container: { group: g, container: c } }
 *   - { set-iommu: { container: c, type: 3 } }
 *   - { get-device: { group: g, device: "0000:02:01.0", as: d } }
 *   - { hot-reset: { device: d, groups: [g] }, expect: ok }
 * ```
 * @module
 */

import { z } from 'zod';

const Handle = z.string().regex(/^[A-Za-z_][A-Za-z0-9_-]*$/, 'a handle name such as c, g1, dev');
/** A handle name, or a raw fd number (for bad-fd cases). */
const FdRef = z.union([Handle, z.number().int()]);
const Bdf = z.string().min(1);
const U32 = z.number().int().min(0).max(0xffffffff);
/** A vfio-pci IRQ index by name (VFIO_PCI_*_IRQ_INDEX) or number. */
const IrqIndex = z.union([z.enum(['intx', 'msi', 'msix', 'err', 'req']), U32]);
/** A vfio-pci region index by name (VFIO_PCI_*_REGION_INDEX) or number. */
const RegionIndex = z.union([
  z.enum(['bar0', 'bar1', 'bar2', 'bar3', 'bar4', 'bar5', 'rom', 'config', 'vga']),
  U32,
]);

/** `ok`, an errno name (`EINVAL`), a number (the ioctl's value), or fields the value must contain. */
export const Expectation = z.union([
  z.literal('ok'),
  z.string().regex(/^E[A-Z0-9]+$/),
  z.number(),
  z.record(z.string(), z.unknown()),
]);
export type Expectation = z.infer<typeof Expectation>;

const Common = {
  /** What the step is for, shown in reports. */
  label: z.string().optional(),
  expect: Expectation.optional(),
  /** Bounds on the step's duration in ms (virtual time on the simulator). */
  duration: z
    .object({ min: z.number().min(0).optional(), max: z.number().min(0).optional() })
    .strict()
    .optional(),
};

const step = <T extends z.ZodRawShape>(shape: T) => z.object({ ...shape, ...Common }).strict();

export const StepSchema = z.union([
  step({ open: z.string().min(1), as: Handle.optional() }),
  /** Opens /dev/vfio/<group of this device>, resolved through sysfs. */
  step({ 'open-group': Bdf, as: Handle.optional() }),
  step({ close: FdRef }),
  step({ 'api-version': FdRef }),
  step({ 'check-extension': z.object({ container: FdRef, ext: U32 }).strict() }),
  step({ 'set-iommu': z.object({ container: FdRef, type: U32 }).strict() }),
  step({ 'group-status': z.object({ group: FdRef, argsz: U32.optional() }).strict() }),
  step({ 'set-container': z.object({ group: FdRef, container: FdRef }).strict() }),
  step({ 'unset-container': FdRef }),
  step({ 'get-device': z.object({ group: FdRef, device: z.string(), as: Handle.optional() }).strict() }),
  step({ 'device-info': z.object({ device: FdRef, argsz: U32.optional() }).strict() }),
  step({ reset: FdRef }),
  step({ 'hot-reset-info': z.object({ device: FdRef, argsz: U32.optional() }).strict() }),
  step({
    'hot-reset': z
      .object({
        device: FdRef,
        /** fds in the array: handles or raw numbers. Default: none. */
        fds: z.array(FdRef).optional(),
        argsz: U32.optional(),
        flags: U32.optional(),
        /** Defaults to the number of fds. */
        count: U32.optional(),
      })
      .strict(),
  }),
  /** [6.6+] Opens /dev/vfio/devices/vfioN of this device, N resolved through sysfs `vfio-dev/`. */
  step({ 'open-cdev': Bdf, as: Handle.optional() }),
  /** VFIO_DEVICE_BIND_IOMMUFD on a device fd; the value is the devid written back. */
  step({
    'bind-iommufd': z
      .object({ device: FdRef, iommufd: FdRef, argsz: U32.optional(), flags: U32.optional() })
      .strict(),
  }),
  /** IOMMU_IOAS_ALLOC; the value is the IOAS id, kept under `as` for `attach-pt`. */
  step({ 'ioas-alloc': z.object({ iommufd: FdRef, as: Handle.optional() }).strict() }),
  /** VFIO_DEVICE_ATTACH_IOMMUFD_PT to an IOAS/HWPT id (a handle from ioas-alloc, or a number); the value is the id written back. */
  step({ 'attach-pt': z.object({ device: FdRef, pt: FdRef }).strict() }),
  step({ 'detach-pt': z.object({ device: FdRef }).strict() }),
  /** KVM_CREATE_VM on a /dev/kvm fd; the value is the VM fd. */
  step({ 'kvm-create-vm': FdRef, as: Handle.optional() }),
  /** KVM_CREATE_DEVICE (type default 4, KVM_DEV_TYPE_VFIO); the value is the device fd written back. */
  step({
    'kvm-create-device': z.object({ vm: FdRef, type: U32.optional(), as: Handle.optional() }).strict(),
  }),
  /** KVM_SET_DEVICE_ATTR group KVM_DEV_VFIO_FILE on the KVM-VFIO device; `attr` overrides op's number. */
  step({
    'kvm-file': z
      .object({
        device: FdRef,
        op: z.enum(['add', 'del', 'spapr']),
        file: FdRef,
        attr: U32.optional(),
      })
      .strict(),
  }),
  /** Any ioctl by name (VFIO_GET_API_VERSION …) or number, with an integer argument or none. */
  step({
    ioctl: z
      .object({ fd: FdRef, request: z.union([z.string(), U32]), arg: z.number().int().optional() })
      .strict(),
  }),
  step({ 'sysfs-read': z.string().min(1) }),
  step({ 'sysfs-write': z.object({ path: z.string().min(1), value: z.string() }).strict() }),
  /** driver_override + unbind + drivers_probe, as kernel-rig.md binds devices. */
  step({ bind: z.object({ device: Bdf, driver: z.string().min(1) }).strict() }),
  step({ unbind: Bdf }),
  /** Simulator only: inject a fault (see sim/pci-core.ts PciFault and the kernel's own faults). */
  step({ fault: z.record(z.string(), z.unknown()) }),
  /** eventfd(2) (non-blocking), kept under the handle given, for `set-irq` and `wait-event`. */
  step({ eventfd: Handle }),
  /** VFIO_DEVICE_GET_IRQ_INFO; the value is `{ flags, count }`. */
  step({ 'irq-info': z.object({ device: FdRef, index: IrqIndex, argsz: U32.optional() }).strict() }),
  /**
   * VFIO_DEVICE_SET_IRQS. Default: ACTION_TRIGGER with DATA_EVENTFD and `fd` (a handle, or -1 to
   * remove the trigger), count 1; `data: none` (loopback signal, or teardown with count 0) and
   * `data: bool` (with `value`) as the uapi allows.
   */
  step({
    'set-irq': z
      .object({
        device: FdRef,
        index: IrqIndex,
        fd: FdRef.optional(),
        data: z.enum(['none', 'bool', 'eventfd']).optional(),
        action: z.enum(['trigger', 'mask', 'unmask']).optional(),
        value: z.number().int().min(0).max(255).optional(),
        start: U32.optional(),
        count: U32.optional(),
        argsz: U32.optional(),
      })
      .strict(),
  }),
  /** VFIO_DEVICE_GET_REGION_INFO; the value is `{ flags, size }` (size in bytes). */
  step({ 'region-info': z.object({ device: FdRef, index: RegionIndex, argsz: U32.optional() }).strict() }),
  /** poll(2) an eventfd up to `timeout` ms, then read it: the value is `{ count }`; ETIMEDOUT when nothing came. */
  step({ 'wait-event': z.object({ fd: FdRef, timeout: z.number().int().min(0) }).strict() }),
  /** Simulator only: an uncorrectable (AER) error on this function (sim/aer.ts). */
  step({ 'inject-error': Bdf }),
  /**
   * Simulator only: the host unbinds the device's driver while a user holds it. On Linux the
   * write blocks until the device is released; the value is `{ blocked }`.
   */
  step({ 'unbind-while-open': Bdf }),
]);

/** Verbs only a simulated kernel can carry out; other targets skip the file (suite.ts). */
export const SIMULATOR_ONLY_VERBS = ['fault', 'inject-error', 'unbind-while-open'] as const;
export type Step = z.infer<typeof StepSchema>;

export const ScenarioSchema = z
  .object({
    $schema: z.string().optional(),
    name: z.string().min(1),
    description: z.string().optional(),
    /** Topology to simulate when no --host is given; relative to the scenario file. */
    topology: z.string().optional(),
    era: z.enum(['2013', '6.1', '6.6+']).optional(),
    /** Eras this scenario applies to (default: all). */
    eras: z.array(z.enum(['2013', '6.1', '6.6+'])).optional(),
    /** Kernel-semantics scenario numbers or rule ids it checks, for reports. */
    checks: z.array(z.union([z.string(), z.number()])).optional(),
    steps: z.array(StepSchema).min(1),
  })
  .strict();
export type Scenario = z.infer<typeof ScenarioSchema>;

/** The verb of a step (its one non-common key). */
export function stepVerb(s: Step): string {
  const common = new Set(['label', 'expect', 'duration', 'as']);
  return Object.keys(s).find((k) => !common.has(k)) ?? '?';
}
