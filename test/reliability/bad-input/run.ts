/**
 * Runs one case of the bad-input matrix on a freshly booted simulated kernel: the setup as scenario
 * steps, then the case (a scenario step, or raw syscalls), and reports what happened next to what
 * the case expects, plus whether a refusal left the kernel exactly as it was.
 */
import { KernelError } from '../../../src/kernel/syscalls.ts';
import type { Era } from '../../../src/pci/era.ts';
import { runScenario } from '../../../src/scenario/run.ts';
import type { Step } from '../../../src/scenario/schema.ts';
import { simTarget } from '../../../src/scenario/targets.ts';
import { SimKernel } from '../../../src/sim/kernel.ts';
import { loadTopologyFile } from '../../../src/topology/load.ts';
import { type MatrixCase, type Outcome, outcomeIn } from './cases.ts';
import { setupSteps, TOPOLOGIES } from './setups.ts';

export interface CaseResult {
  era: Era;
  want: Outcome;
  errno: string | null;
  rule: string | null;
  value: unknown;
  /** Whether errno and value meet the expectation (scenario `expect` semantics). */
  met: boolean;
  /** Kernel state (VFIO objects, fds, resets of every function) changed by the call. */
  changed: boolean;
  /** Why the setup failed, if it did (the case is then broken, not the simulator). */
  setupError: string | null;
}

const SNAPSHOT = { kind: 'snapshot' } as const;

function stateOf(k: SimKernel): string {
  const resets = k.host.topology.functions.map((f) => k.pci.state(f.name).resets);
  return JSON.stringify({ vfio: k.vfioState(), resets });
}

export function runCase(c: MatrixCase, era: Era): CaseResult {
  const want = outcomeIn(c, era);
  const k = new SimKernel(loadTopologyFile(TOPOLOGIES[c.topo].file), { era });
  let before: string | null = null;
  const base = simTarget(k);
  const target = {
    ...base,
    inject: (f: Record<string, unknown>) => {
      if (f.kind === SNAPSHOT.kind) before = stateOf(k);
      else k.inject(f as Parameters<SimKernel['inject']>[0]);
    },
  };
  const setup = setupSteps(c.topo, c.setup);
  const steps: Step[] = [...setup, { fault: { ...SNAPSHOT } }];
  if (c.step) steps.push({ ...c.step, expect: want.expect } as Step);
  const run = runScenario(target, { name: `${c.ioctl}: ${c.input}`, steps });
  const broken = run.steps.slice(0, setup.length).find((s) => s.met !== true);
  const result = (r: Omit<CaseResult, 'era' | 'want' | 'changed' | 'setupError'>): CaseResult => ({
    era,
    want,
    ...r,
    changed: before !== stateOf(k),
    setupError: broken ? `${broken.text}: ${broken.note}` : null,
  });
  if (c.step) {
    const last = run.steps.at(-1)!;
    return result({ errno: last.errno, rule: last.rule, value: last.value, met: last.met === true });
  }
  // Raw syscalls: the setup's handles are the values of its `as:` steps.
  const handles = new Map<string, number>();
  setup.forEach((s, i) => {
    const as = (s as { as?: string }).as ?? (s as Record<string, { as?: string }>)[Object.keys(s)[0]!]?.as;
    const v = run.steps[i]!.value;
    if (as && typeof v === 'number') handles.set(as, v);
  });
  const env = {
    k,
    fd: (h: string) => {
      const v = handles.get(h);
      if (v === undefined) throw new Error(`case ${c.ioctl}: ${c.input}: no handle '${h}' in its setup`);
      return v;
    },
    keep: (h: string, v: number) => {
      handles.set(h, v);
    },
  };
  const call = c.call;
  if (!call) throw new Error(`case ${c.ioctl}: ${c.input}: neither a step nor a call`);
  c.prepare?.(env);
  before = stateOf(k);
  try {
    const value = call(env);
    return result({ errno: null, rule: null, value, met: meets(want.expect, null, value) });
  } catch (e) {
    if (!(e instanceof KernelError)) throw e;
    return result({ errno: e.errno, rule: e.rule, value: null, met: meets(want.expect, e.errno, null) });
  }
}

function meets(want: Outcome['expect'], errno: string | null, value: unknown): boolean {
  if (want === 'ok') return errno === null;
  if (typeof want === 'string') return errno === want;
  if (typeof want === 'number') return errno === null && value === want;
  const { errno: e, ...fields } = want as Record<string, unknown>;
  if ((e ?? null) !== errno) return false;
  return Object.entries(fields).every(([key, v]) => (value as Record<string, unknown> | null)?.[key] === v);
}
