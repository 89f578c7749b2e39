/**
 * `plan --what-if`: the plan carried out on a simulated copy of the host — loaded from the host's
 * sysfs the way `--host sim:<dump-dir>` loads a dump — with nothing touched on the host itself.
 * The groups are bound to vfio-pci, every device is opened in one session as a VMM holding them
 * for one VM would, each gets QEMU's per-device reset (`qemuReset`), then a VM reset: QEMU's
 * reset handler gives the devices that need it (`vfio_pci_compute_needs_reset`) the multi-device
 * hot reset when it hits another device of the VM, and every other device its per-device reset.
 * Virtual time on the bare-metal clock, and the kernel's log, come back with every step.
 * @module
 */

import type { DeviceRef } from '../host/problems.ts';
import type { Era } from '../pci/era.ts';
import type { HostDesc } from '../pci/model.ts';
import { BARE_METAL } from '../sim/clock.ts';
import { SimKernel } from '../sim/kernel.ts';
import { CdevSession } from '../vfio/cdev-session.ts';
import { VfioError } from '../vfio/errors.ts';
import { GroupSession } from '../vfio/group-session.ts';
import { deviceRef } from '../vfio/locate.ts';
import { chooseMode, type SessionMode } from '../vfio/reset-device.ts';
import type { SessionDevice, VfioSession } from '../vfio/session.ts';
import { qemuReset, resetCapabilities } from '../vfio/strategy.ts';
import { type BindStep, executeBind, type Progress } from './bind.ts';
import { type Plan, qemuNeedsReset } from './plan.ts';

export interface WhatIfError {
  code: string;
  message: string;
  blocker: DeviceRef | null;
}

export interface WhatIfReset {
  bdf: string;
  /** What ran: QEMU's per-device actions, or the multi-device hot reset. */
  performed: 'function-reset' | 'hot-reset-single' | 'hot-reset-multi' | 'pm-reset' | null;
  ok: boolean;
  ms: number;
  affected: DeviceRef[];
  /** QEMU's steps (per-device resets), each with why it was tried or skipped. */
  steps: { action: string; outcome: string; why: string; error: string | null }[];
  error: WhatIfError | null;
}

export interface WhatIfOpen {
  bdf: string;
  ok: boolean;
  /** VFIO_DEVICE_FLAGS_RESET: the reset at open worked (D2). */
  resetWorks: boolean | null;
  ms: number;
  error: WhatIfError | null;
}

export interface WhatIf {
  origin: string;
  clock: 'virtual';
  mode: 'group' | 'cdev';
  bind: BindStep[];
  opened: WhatIfOpen[];
  deviceResets: WhatIfReset[];
  vmReset: WhatIfReset[];
  /** Kernel log lines and hot-plug events during the run. */
  log: { atMs: number; device: string | null; text: string }[];
  totalMs: number;
}

function errorOf(e: unknown): WhatIfError {
  if (e instanceof VfioError) return { code: e.code, message: e.message, blocker: e.blocker };
  if (e instanceof Error && typeof (e as { code?: unknown }).code === 'string')
    return { code: (e as unknown as { code: string }).code, message: e.message, blocker: null };
  throw e;
}

export function runWhatIf(
  desc: HostDesc,
  era: Era,
  plan: Plan,
  opts: { mode?: SessionMode; progress?: Progress; origin: string },
): WhatIf {
  const progress = opts.progress ?? (() => {});
  const k = new SimKernel(desc, { era, clock: BARE_METAL });
  const t0 = k.clock.now();
  const mark = k.log.length;
  const timed = <T>(f: () => T): { value: T; ms: number } => {
    const s = k.clock.now();
    const value = f();
    return { value, ms: k.clock.now() - s };
  };

  const bind = executeBind(k, plan.bind, progress);
  const bdfs = plan.devices.map((d) => d.bdf);
  const mode = bdfs.length > 0 ? chooseMode(k, bdfs[0]!, opts.mode ?? 'auto') : 'group';
  const session: VfioSession = mode === 'cdev' ? new CdevSession(k) : new GroupSession(k);
  const total = bdfs.length * 3;
  const opened: WhatIfOpen[] = [];
  const devs: SessionDevice[] = [];
  for (const [i, bdf] of bdfs.entries()) {
    progress(i, total, `open ${bdf}`);
    const t = timed(() => {
      try {
        return session.openDevice(bdf);
      } catch (e) {
        return errorOf(e);
      }
    });
    if ('fd' in t.value) {
      devs.push(t.value);
      opened.push({ bdf, ok: true, resetWorks: t.value.resetWorks, ms: t.ms, error: null });
    } else opened.push({ bdf, ok: false, resetWorks: null, ms: t.ms, error: t.value });
  }

  const perDevice = (dev: SessionDevice): WhatIfReset => {
    const t = timed(() => qemuReset(session, dev));
    const r = t.value;
    const performed = r.performed === 'hot-reset' ? 'hot-reset-single' : r.performed;
    const last = [...r.steps].reverse().find((s) => s.error);
    return {
      bdf: dev.bdf,
      performed,
      ok: performed !== null,
      ms: t.ms,
      affected:
        r.performed === 'hot-reset'
          ? affectedOf(session, dev)
          : r.performed
            ? [deviceRef(k.sysfs, dev.bdf)]
            : [],
      steps: r.steps.map((s) => ({
        action: s.action,
        outcome: s.outcome,
        why: s.why,
        error: s.error?.message ?? null,
      })),
      error: performed === null && last?.error ? errorOf(last.error) : null,
    };
  };

  const deviceResets = devs.map((d, i) => {
    progress(bdfs.length + i, total, `QEMU device reset of ${d.bdf}`);
    return perDevice(d);
  });

  const vmReset: WhatIfReset[] = [];
  const covered = new Set<string>();
  for (const [i, d] of devs.entries()) {
    progress(bdfs.length * 2 + i, total, `VM reset: ${d.bdf}`);
    if (covered.has(d.bdf)) continue;
    const needsReset = qemuNeedsReset(d.resetWorks, resetCapabilities(session, d.bdf));
    const others = needsReset ? inUseInScope(session, d, devs) : [];
    if (others.length === 0) {
      vmReset.push(perDevice(d));
      continue;
    }
    const t = timed(() => {
      try {
        return session.hotReset(d);
      } catch (e) {
        return errorOf(e);
      }
    });
    if ('affected' in t.value) {
      for (const a of t.value.affected) covered.add(a.bdf);
      vmReset.push({
        bdf: d.bdf,
        performed: 'hot-reset-multi',
        ok: true,
        ms: t.ms,
        affected: t.value.affected,
        steps: [],
        error: null,
      });
    } else
      vmReset.push({
        bdf: d.bdf,
        performed: null,
        ok: false,
        ms: t.ms,
        affected: [],
        steps: [],
        error: t.value,
      });
  }
  session.close();
  progress(total, total, 'done');

  const log = k.log
    .since(mark)
    .flatMap(({ atMs, event }) =>
      event.kind === 'log'
        ? [{ atMs, device: event.device ?? null, text: event.text }]
        : event.kind === 'hot-remove' || event.kind === 'hot-add'
          ? [{ atMs, device: event.device, text: `(${event.kind})` }]
          : [],
    );
  return {
    origin: opts.origin,
    clock: 'virtual',
    mode,
    bind: bind.steps,
    opened,
    deviceResets,
    vmReset,
    log,
    totalMs: k.clock.now() - t0,
  };
}

function affectedOf(session: VfioSession, dev: SessionDevice): DeviceRef[] {
  try {
    return session.hotResetInfo(dev).entries.map((e) => deviceRef(session.host.sysfs, e.bdf));
  } catch {
    return [];
  }
}

/** Other devices of the VM in this device's hot-reset scope (QEMU's "multi" test). */
function inUseInScope(session: VfioSession, dev: SessionDevice, devs: SessionDevice[]): string[] {
  const scope = new Set(affectedOf(session, dev).map((a) => a.bdf));
  return devs.filter((o) => o !== dev && scope.has(o.bdf)).map((o) => o.bdf);
}
