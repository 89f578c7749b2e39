/**
 * The inventory of a host, from any `SysfsReader`: every function with its driver, IOMMU group,
 * reset methods (read where sysfs has them, computed from config space where it does not — and
 * which), what a function reset would do now, the hot-reset scope with every affected device,
 * and the problems in the way. Read-only: nothing here writes or resets.
 * @module
 */

import type { SysfsReader } from '../kernel/sysfs.ts';
import { className, type DeviceKind, deviceKind } from '../pci/class-names.ts';
import type { Era } from '../pci/era.ts';
import { computeIommuGroups } from '../pci/iommu-groups.ts';
import { isBridge, isDownstreamPort, linkSpeedText, slotDriverHasResetSlot } from '../pci/model.ts';
import {
  functionResetOutcome,
  initResetMethods,
  probeBusMethod,
  RESET_METHODS,
  type ResetMethod,
  RUNTIME_CONTEXT,
} from '../pci/reset-methods.ts';
import { type HotResetScope, hotResetScope } from '../pci/reset-scope.ts';
import type { PciFunction } from '../pci/topology.ts';
import {
  bySeverity,
  type DeviceRef,
  type DomainProblem,
  isDmaNeutralDriver,
  isVfioDriver,
  type Problem,
} from './problems.ts';
import { type ReadOptions, readSysfsHost, type SysfsHost, sysfsTopology } from './read-sysfs.ts';

export type MethodsSource = 'sysfs' | 'computed' | 'unknown';

/**
 * A reset domain: what one slot or bus reset touches (I2/I3). Every function there shares it, so it is
 * worked out once, with the problems a hot reset of any of its functions meets.
 */
export interface ResetDomain {
  /** `slot:<dddd:bb>:<slot name>` or `bus:<dddd:bb>` (the reset bus): unique on a host. */
  id: string;
  kind: 'slot' | 'bus';
  /** The bridge whose secondary bus is reset (never itself in scope). */
  bridge: string;
  /** `dddd:bb` of the reset bus, or the slot name. */
  target: string;
  /** Affected functions in the kernel's walk order (the hot-reset INFO order). */
  affected: DeviceRef[];
  /** Distinct IOMMU groups the caller must hold (group mode: one fd each). */
  groups: number[];
  /** Affected functions that must first be bound to vfio-pci (H6; not in 2013). */
  bindToVfio: DeviceRef[];
  /** In the order found: bridges and host-driven functions in scope, groups crossed, a hotplug port. */
  problems: DomainProblem[];
}

export interface InventoryFunction {
  bdf: string;
  vendor: number;
  device: number;
  subsystemVendor: number;
  subsystemDevice: number;
  classCode: number;
  className: string;
  kind: DeviceKind;
  label: string | null;
  /** Parent bridge, or null on a root bus. */
  parent: string | null;
  /** Functions directly below this bridge. */
  children: string[];
  driver: string | null;
  group: number | null;
  groupSource: 'sysfs' | 'computed' | 'none';
  resetMethods: string[];
  resetMethodsSource: MethodsSource;
  /** What `__pci_reset_function_locked` would do now with that list (M4/M5). */
  functionReset: {
    method: string | null;
    via: 'slot' | 'parent-bus' | null;
    ok: boolean;
    errno: string | null;
  };
  /** The reset domain a hot reset of this function resets (shared by every function in it), or null. */
  hotReset: ResetDomain | null;
  slot: { name: string; driver: string } | null;
  linkSpeed: string | null;
  /** The function's own problems; its reset domain's are in `hotReset.problems` (see `problemsOf`). */
  problems: Problem[];
}

export interface Inventory {
  host: string;
  origin: string;
  era: Era;
  iommu: boolean;
  functions: InventoryFunction[];
  /** Every slot or bus some function's hot reset would reset, in the order first met. */
  domains: ResetDomain[];
  groups: { id: number; members: DeviceRef[] }[];
  slots: { name: string; address: string; driver: string; resetSlot: boolean }[];
  warnings: string[];
}

export interface InventoryOptions {
  /** Rules to judge by; the kernel era of the host when known. */
  era: Era;
}

/**
 * Everything in the way of resetting `f`, worst first: its own problems and its reset domain's, each
 * said of `f` (`hotResetProblemsOf`).
 */
export function problemsOf(f: InventoryFunction): Problem[] {
  if (!f.hotReset) return f.problems;
  return [...f.problems, ...hotResetProblemsOf(f)].sort(bySeverity);
}

/**
 * The problems of `f`'s reset domain that hold for a hot reset of `f`, said of `f` — less a
 * `scope-not-vfio` naming `f` itself, whose driver is its state, not a blocker.
 */
export function hotResetProblemsOf(f: InventoryFunction): Problem[] {
  const out: Problem[] = [];
  for (const p of f.hotReset?.problems ?? [])
    if (!(p.code === 'scope-not-vfio' && p.blocker.bdf === f.bdf)) out.push({ ...p, bdf: f.bdf });
  return out;
}

/**
 * The inventory of what `sys` shows. Config space is read only where sysfs attributes do not
 * answer (`config: 'needed'`, the default; see `readSysfsHost`), so model-vs-sysfs differences
 * (`reset-methods-differ`, `group-differs`) are reported only with `config: 'all'` or on hosts
 * whose attributes leave the model to compute them.
 */
export function takeInventory(
  sys: SysfsReader,
  opts: Partial<InventoryOptions> & { name?: string; origin?: string; config?: ReadOptions['config'] } = {},
): Inventory {
  return inventoryFrom(
    readSysfsHost(sys, opts.name, { config: opts.config ?? 'needed', attributes: 'inventory' }),
    opts.origin ?? sys.origin,
    { era: opts.era ?? '6.1' },
  );
}

export function inventoryFrom(read: SysfsHost, origin: string, opts: InventoryOptions): Inventory {
  const topo = sysfsTopology(read, origin);
  const observed = [...read.observed.values()];
  const hostHasResetMethodAttr = observed.some((o) => o.resetMethods !== null);
  const sysfsGroupsComplete = observed.every((o) => o.iommuGroup !== null);
  // The model's groups and methods: where sysfs does not answer, and to check sysfs against when
  // every function's capabilities were read.
  const computedGroups =
    read.iommuOn && (!sysfsGroupsComplete || read.configComplete) ? computeIommuGroups(topo) : null;
  const computedMethods = !hostHasResetMethodAttr || read.configComplete ? initResetMethods(topo) : null;

  const groupOf = (f: PciFunction): number | null => {
    if (!read.iommuOn) return null;
    return read.observed.get(f.name)?.iommuGroup ?? computedGroups?.groupOf(f) ?? null;
  };
  const driverOf = (f: PciFunction) => f.desc.driver;
  const ref = (f: PciFunction): DeviceRef => ({ bdf: f.name, driver: driverOf(f), group: groupOf(f) });
  // G3 asks, per function, for another member of its group bound to a DMA-API driver: the first
  // two such members of each group (in registration order) answer it for every member.
  const dmaUsers = new Map<number, PciFunction[]>();
  for (const o of topo.functions) {
    const g = groupOf(o);
    if (g === null || isDmaNeutralDriver(driverOf(o))) continue;
    const users = dmaUsers.get(g);
    if (!users) dmaUsers.set(g, [o]);
    else if (users.length < 2) users.push(o);
  }
  const now = RUNTIME_CONTEXT;
  // I2/I3: the hot-reset scope depends on a function only through its slot and its bus, so it is
  // worked out once per slot (or bus) and shared by every function there.
  // Functions of a slot that cannot be reset fall back to the bus, so two keys may reach one domain.
  const scopes = new Map<
    object,
    { scope: HotResetScope; domain: ResetDomain | null; quirky: PciFunction | undefined }
  >();
  const domains = new Map<string, ResetDomain>();
  const scopeOf = (f: PciFunction) => {
    const key = f.slot ?? f.bus;
    let s = scopes.get(key);
    if (!s) {
      const scope = hotResetScope(f, opts.era);
      let domain: ResetDomain | null = null;
      if (scope.kind !== 'none') {
        const id =
          scope.kind === 'slot'
            ? `slot:${scope.slot.bus.name}:${scope.slot.desc.name}`
            : `bus:${scope.bus.name}`;
        domain = domains.get(id) ?? domainOf(id, scope);
        domains.set(id, domain);
      }
      // P1/P2: a NO_BUS_RESET function anywhere in scope (the function itself is checked first).
      const quirky =
        scope.kind === 'none' ? undefined : scope.functions.find((g) => g.quirks.has('NO_BUS_RESET'));
      s = { scope, domain, quirky };
      scopes.set(key, s);
    }
    return s;
  };
  const domainOf = (id: string, scope: Exclude<HotResetScope, { kind: 'none' }>): ResetDomain => {
    const affected = scope.functions.map(ref);
    const groups = [...new Set(affected.map((a) => a.group).filter((g): g is number => g !== null))].sort(
      (a, b) => a - b,
    );
    const target = scope.kind === 'slot' ? scope.slot.desc.name : scope.bus.name;
    const problems: DomainProblem[] = [];
    const bindToVfio: DeviceRef[] = [];
    for (const [i, g] of scope.functions.entries()) {
      // S0/H6: vfio-pci never binds a bridge; H6: every function in the dev_set must be vfio-pci's.
      if (isBridge(g.desc))
        problems.push({ code: 'scope-has-bridge', severity: 'blocker', blocker: affected[i]! });
      else if (!isVfioDriver(driverOf(g)) && opts.era !== '2013') {
        bindToVfio.push(affected[i]!);
        problems.push({ code: 'scope-not-vfio', severity: 'blocker', blocker: affected[i]! });
      }
    }
    if (groups.length > 1) problems.push({ code: 'scope-crosses-groups', severity: 'info', groups });
    if (scope.kind === 'bus') {
      // PH1: a plain SBR below a hotplug-capable port whose slot driver cannot mask the link drop.
      const port = scope.bridge;
      const s = scope.bus.slots[0];
      if (port.desc.pcie?.slot?.hotplugCapable && s && s.desc.driver !== 'pciehp')
        problems.push({
          code: 'hotplug-port-plain-sbr',
          severity: 'warning',
          port: ref(port),
          slot: s.desc.name,
          slotDriver: s.desc.driver,
        });
    }
    return {
      id,
      kind: scope.kind,
      bridge: scope.bridge.name,
      target,
      affected,
      groups,
      bindToVfio,
      problems,
    };
  };

  const functions: InventoryFunction[] = topo.functions.map((f) => {
    const obs = read.observed.get(f.name)!;
    const problems: Problem[] = [];
    const computed = computedMethods?.get(f.name) ?? [];

    let resetMethods: string[];
    let source: MethodsSource;
    if (hostHasResetMethodAttr) {
      // Y1: on kernels with the attribute, its absence means the list was empty at registration.
      resetMethods = obs.resetMethods ?? [];
      source = 'sysfs';
    } else if (obs.capsKnown || obs.configBytes === 0) {
      resetMethods = computed;
      source = 'computed';
    } else {
      resetMethods = [];
      source = 'unknown';
    }
    if (obs.configBytes > 0 && !obs.capsKnown)
      problems.push({ code: 'partial-config', severity: 'info', bdf: f.name, bytes: obs.configBytes });
    if (
      computedMethods &&
      source === 'sysfs' &&
      obs.capsKnown &&
      resetMethods.join(' ') !== computed.join(' ')
    ) {
      problems.push({
        code: 'reset-methods-differ',
        severity: 'info',
        bdf: f.name,
        sysfs: resetMethods,
        computed,
      });
    }

    const known = resetMethods.filter((m): m is ResetMethod =>
      (RESET_METHODS as readonly string[]).includes(m),
    );
    const outcome = functionResetOutcome(f, known, now);
    if (!isBridge(f.desc) && source !== 'unknown') {
      if (resetMethods.length === 0)
        problems.push({ code: 'no-function-reset', severity: 'warning', bdf: f.name });
      const sibling = f.bus.devices.find((o) => o !== f);
      if (resetMethods.includes('bus') && sibling && probeBusMethod(f, now).result !== 0) {
        const severity = outcome.errno === 0 ? 'info' : 'warning';
        problems.push({ code: 'stale-bus-method', severity, bdf: f.name, sibling: ref(sibling) });
      }
      // PH1 through the function reset: `bus` on the parent-bus path below a pciehp port.
      const pciehp = f.bus.slots.find((s) => s.desc.driver === 'pciehp');
      const port = f.bus.self;
      if (resetMethods.includes('bus') && pciehp && port && probeBusMethod(f, now).via === 'parent-bus')
        problems.push({
          code: 'bus-method-below-pciehp',
          severity: outcome.method === 'bus' ? 'warning' : 'info',
          bdf: f.name,
          port: ref(port),
          slot: pciehp.desc.name,
        });
    }

    const group = groupOf(f);
    const sysGroup = obs.iommuGroup;
    if (computedGroups && sysGroup !== null && sysGroup !== computedGroups.groupOf(f)) {
      problems.push({
        code: 'group-differs',
        severity: 'info',
        bdf: f.name,
        sysfs: sysGroup,
        computed: computedGroups.groupOf(f),
      });
    }

    let hotReset: ResetDomain | null = null;
    if (!isBridge(f.desc)) {
      if (group === null) problems.push({ code: 'no-iommu-group', severity: 'blocker', bdf: f.name });
      else {
        // G3: another member bound to a DMA-API driver makes the group unusable (the function's own driver is its state, not a problem).
        const hostUser = dmaUsers.get(group)?.find((o) => o !== f);
        if (hostUser)
          problems.push({
            code: 'group-not-viable',
            severity: 'blocker',
            bdf: f.name,
            group,
            blocker: ref(hostUser),
          });
      }
      const { scope, domain, quirky: inScope } = scopeOf(f);
      if (scope.kind === 'none') {
        problems.push({ code: 'no-hot-reset', severity: 'warning', bdf: f.name, reason: scope.reason });
        if (scope.reason.code === 'root-bus')
          problems.push({ code: 'root-bus-device', severity: 'info', bdf: f.name });
      }
      hotReset = domain;
      const quirky = f.quirks.has('NO_BUS_RESET') ? f : inScope;
      if (quirky)
        problems.push({ code: 'no-bus-reset-quirk', severity: 'info', bdf: f.name, on: ref(quirky) });
    }
    problems.sort(bySeverity);

    return {
      bdf: f.name,
      vendor: f.desc.vendor,
      device: f.desc.device,
      subsystemVendor: f.desc.subsystemVendor,
      subsystemDevice: f.desc.subsystemDevice,
      classCode: f.desc.classCode,
      className: className(f.desc.classCode),
      kind: deviceKind(f.desc),
      label: f.desc.label ?? null,
      parent: f.bus.self?.name ?? null,
      children: f.subordinate ? f.subordinate.devices.map((c) => c.name) : [],
      driver: driverOf(f),
      group,
      groupSource: group === null ? 'none' : sysGroup !== null ? 'sysfs' : 'computed',
      resetMethods,
      resetMethodsSource: source,
      functionReset: {
        method: outcome.method,
        via: outcome.via ?? null,
        ok: outcome.errno === 0,
        errno: outcome.errno === 0 ? null : outcome.errno,
      },
      hotReset,
      slot: f.slot ? { name: f.slot.desc.name, driver: f.slot.desc.driver } : null,
      linkSpeed: f.desc.pcie && isDownstreamPort(f.desc) ? linkSpeedText(f.desc.pcie) : null,
      problems,
    };
  });

  const members = new Map<number, DeviceRef[]>();
  for (const f of functions) {
    if (f.group === null) continue;
    const m: DeviceRef = { bdf: f.bdf, driver: f.driver, group: f.group };
    const list = members.get(f.group);
    if (list) list.push(m);
    else members.set(f.group, [m]);
  }
  const groupIds = [...members.keys()].sort((a, b) => a - b);
  return {
    host: read.desc.name,
    origin,
    era: opts.era,
    iommu: read.iommuOn,
    functions,
    domains: [...domains.values()],
    groups: groupIds.map((id) => ({ id, members: members.get(id)! })),
    slots: topo.slots.map((s) => ({
      name: s.desc.name,
      address: `${s.bus.name}:${s.desc.device.toString(16).padStart(2, '0')}`,
      driver: s.desc.driver,
      resetSlot: slotDriverHasResetSlot(s.desc.driver),
    })),
    warnings: read.warnings,
  };
}
