/**
 * Guest-side sysfs chores around the scenarios: create SR-IOV VFs, bind functions the way
 * kernel-rig.md does (driver_override, unbind, drivers_probe), read every function's state, put
 * drivers and `reset_method` back after a scenario, and close the VFIO fds a scenario left open
 * (an open group would make the next scenario's open fail EBUSY). Plain node:fs against a sysfs
 * root, so it works before and apart from the koffi backend. Runs only inside the rig's guest.
 * @module
 */

import { closeSync, readdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { FunctionState, Job, SetupAction } from './job.ts';

export class GuestSysfs {
  readonly root: string;
  /** `bdf` → the reset_method text a restore already failed to change: not retried (each try logs). */
  private readonly stuck = new Map<string, string>();

  constructor(root = '/sys') {
    this.root = root;
  }

  private path(rel: string): string {
    return join(this.root, rel);
  }

  write(rel: string, value: string): void {
    writeFileSync(this.path(rel), value);
  }

  read(rel: string): string | null {
    try {
      return readFileSync(this.path(rel), 'utf8').replace(/\n$/, '');
    } catch {
      return null;
    }
  }

  private link(rel: string): string | null {
    try {
      return basename(readlinkSync(this.path(rel)));
    } catch {
      return null;
    }
  }

  driverOf(bdf: string): string | null {
    return this.link(`bus/pci/devices/${bdf}/driver`);
  }

  functions(): string[] {
    return readdirSync(this.path('bus/pci/devices')).sort();
  }

  state(bdf: string): FunctionState {
    const g = this.link(`bus/pci/devices/${bdf}/iommu_group`);
    return {
      bdf,
      driver: this.driverOf(bdf),
      resetMethod: this.read(`bus/pci/devices/${bdf}/reset_method`),
      group: g !== null && /^\d+$/.test(g) ? Number(g) : null,
    };
  }

  /** driver_override, unbind from the current driver, drivers_probe; a no-op when already bound. */
  bind(bdf: string, driver: string): SetupAction {
    const act: SetupAction = { action: 'bind', bdf, want: driver, got: null, error: null };
    try {
      this.write(`bus/pci/devices/${bdf}/driver_override`, driver);
      const current = this.driverOf(bdf);
      if (current !== driver) {
        if (current !== null) this.write(`bus/pci/drivers/${current}/unbind`, bdf);
        this.write('bus/pci/drivers_probe', bdf);
      }
    } catch (e) {
      act.error = errText(e);
    }
    act.got = this.driverOf(bdf);
    if (act.error === null && act.got !== driver) act.error = `bound to ${act.got ?? 'no driver'}`;
    return act;
  }

  /** VFs without probing (autoprobe off): the PF's driver would otherwise grab them first. */
  createVfs(pf: string, numvfs: number): SetupAction[] {
    const out: SetupAction[] = [];
    for (const [attr, value] of [
      ['sriov_drivers_autoprobe', '0'],
      ['sriov_numvfs', String(numvfs)],
    ] as const) {
      const act: SetupAction = { action: attr, bdf: pf, want: value, got: null, error: null };
      try {
        this.write(`bus/pci/devices/${pf}/${attr}`, value);
      } catch (e) {
        act.error = errText(e);
      }
      act.got = this.read(`bus/pci/devices/${pf}/${attr}`);
      out.push(act);
    }
    return out;
  }

  setup(job: Job): SetupAction[] {
    const out: SetupAction[] = [];
    if (job.sriov) out.push(...this.createVfs(job.sriov.pf, job.sriov.numvfs));
    for (const h of job.host) out.push(this.bind(h.bdf, h.driver));
    for (const bdf of job.vfio) out.push(this.bind(bdf, 'vfio-pci'));
    return out;
  }

  /**
   * After a scenario: drivers back to the job's, and `reset_method` back to what it was before
   * the scenarios. Some kernel state cannot be restored (after `default`, a PPB function may no
   * longer accept `bus`): that is reported, since later scenarios then see it.
   */
  restore(job: Job, before: readonly FunctionState[]): string[] {
    const notes: string[] = [];
    const want = new Map<string, string>([
      ...job.host.map((h): [string, string] => [h.bdf, h.driver]),
      ...job.vfio.map((b): [string, string] => [b, 'vfio-pci']),
    ]);
    for (const [bdf, driver] of want) {
      const now = this.driverOf(bdf);
      if (now === driver) continue;
      const act = this.bind(bdf, driver);
      notes.push(`${bdf}: driver ${now ?? 'none'} -> ${driver}${act.error ? ` failed: ${act.error}` : ''}`);
    }
    for (const s of before) {
      const now = this.read(`bus/pci/devices/${s.bdf}/reset_method`);
      if (now === s.resetMethod || s.resetMethod === null || now === null) continue;
      if (this.stuck.get(s.bdf) === now) {
        notes.push(`${s.bdf}: reset_method still "${now}" (was "${s.resetMethod}")`);
        continue;
      }
      try {
        // The saved list, not "default": that re-probes, and a probe can now give another answer.
        this.write(`bus/pci/devices/${s.bdf}/reset_method`, s.resetMethod);
        const after = this.read(`bus/pci/devices/${s.bdf}/reset_method`);
        if (after !== s.resetMethod && after !== null) this.stuck.set(s.bdf, after);
        notes.push(
          after === s.resetMethod
            ? `${s.bdf}: reset_method "${now}" -> "${s.resetMethod}"`
            : `${s.bdf}: reset_method stays "${after}" (was "${s.resetMethod}")`,
        );
      } catch (e) {
        this.stuck.set(s.bdf, now);
        notes.push(`${s.bdf}: reset_method stays "${now}" (was "${s.resetMethod}"): ${errText(e)}`);
      }
    }
    return notes;
  }
}

/** Open fds of this process, with what they point at. */
export function openFds(): Map<number, string> {
  const out = new Map<number, string>();
  for (const name of readdirSync('/proc/self/fd')) {
    try {
      out.set(Number(name), readlinkSync(`/proc/self/fd/${name}`));
    } catch {
      // the fd of the readdir itself is gone by now
    }
  }
  return out;
}

/**
 * Closes fds opened since `before` that a scenario opened — device nodes and VFIO/KVM anonymous
 * inodes — newest first, so device fds go before their groups and containers. Node's own fds
 * (epoll, eventfd, pipes) are left alone.
 */
export function closeLeftovers(before: ReadonlyMap<number, string>): string[] {
  const closed: string[] = [];
  const now = [...openFds()].filter(([fd, target]) => !before.has(fd) && isScenarioFd(target));
  for (const [fd, target] of now.sort((a, b) => b[0] - a[0])) {
    try {
      closeSync(fd);
      closed.push(`closed fd ${fd} (${target})`);
    } catch (e) {
      closed.push(`close fd ${fd} (${target}): ${errText(e)}`);
    }
  }
  return closed;
}

function isScenarioFd(target: string): boolean {
  return target.startsWith('/dev/') || /^anon_inode:\[?(vfio|kvm|iommufd)/.test(target);
}

export function errText(e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  return err?.code ? `${err.code}` : e instanceof Error ? e.message : String(e);
}
