/**
 * `bind` and `restore` as text and JSON: the plan of what would change (the dry run), what did
 * change, where the restore record went, and every refusal naming the device in the way.
 * @module
 */

import type { NameKey, Namer } from '../names/namer.ts';
import type { BindRun, RestoreStep } from '../plan/bind.ts';
import type { BindPlan } from '../plan/bind-plan.ts';
import type { Plan } from '../plan/plan.ts';
import type { RestoreRecord } from '../plan/restore-record.ts';
import { SCHEMA_VERSION } from './json.ts';
import { formatBindRefusal, renderBindGroups } from './plan.ts';

/** What stops a bind beyond the plan's own refusals (a real host's safety checks), as sentences. */
export interface BindContext {
  origin: string;
  dryRun: boolean;
  /** Lines of `linux/safety.ts` refusals that block --yes on a real host. */
  safety: string[];
  record: string | null;
}

export function renderBindText(
  plan: BindPlan,
  run: BindRun | null,
  ctx: BindContext,
  namer: Namer,
  keys: Map<string, NameKey>,
): string {
  const L: string[] = [];
  L.push(
    ctx.dryRun
      ? `dry run on ${ctx.origin}: nothing was changed. With --yes, vfio-reset would bind:`
      : `bind on ${ctx.origin}:`,
  );
  L.push(...renderBindGroups(plan as Plan['bind'], namer, keys));
  for (const r of plan.refusals) L.push(`  ✗ ${formatBindRefusal(r)}`);
  for (const s of ctx.safety) L.push(`  ✗ ${s}`);
  if (run) {
    for (const s of run.steps.filter((x) => x.action === 'bind'))
      L.push(
        s.ok ? `  ✓ ${s.bdf}: ${s.from ?? 'no driver'} → ${s.to ?? 'no driver'}` : `  ✗ ${s.bdf}: ${s.error}`,
      );
    if (ctx.record)
      L.push(
        `restore record: ${ctx.record} (${run.restore.length} device${run.restore.length === 1 ? '' : 's'}); 'vfio-reset restore --record ${ctx.record} --yes' puts the drivers back`,
      );
  } else if (ctx.dryRun && plan.refusals.length === 0 && ctx.safety.length === 0)
    L.push(`With --yes the original drivers are written to ${ctx.record ?? 'the restore record'} first.`);
  return `${L.join('\n')}\n`;
}

export function bindDocument(plan: BindPlan, run: BindRun | null, ctx: BindContext) {
  return {
    schemaVersion: SCHEMA_VERSION,
    command: 'bind',
    ok: run ? run.ok : plan.refusals.length === 0 && ctx.safety.length === 0,
    origin: ctx.origin,
    dryRun: ctx.dryRun,
    requested: plan.requested,
    groups: plan.groups,
    refusals: plan.refusals.map((r) => ({ ...r, message: formatBindRefusal(r) })),
    safety: ctx.safety,
    steps: run?.steps ?? [],
    record: ctx.record,
  };
}

export function renderRestoreText(
  record: RestoreRecord,
  steps: RestoreStep[] | null,
  origin: string,
  file: string,
): string {
  const L: string[] = [];
  if (steps === null) {
    L.push(`dry run on ${origin}: nothing was changed. With --yes, vfio-reset would put back, from ${file}:`);
    for (const e of record.devices)
      L.push(
        `  ${e.bdf}  → ${e.driver ?? 'no driver'}${e.driverOverride ? ` (driver_override ${e.driverOverride})` : ''}`,
      );
  } else {
    L.push(`restore on ${origin} from ${file}:`);
    for (const s of steps)
      L.push(
        s.outcome === 'failed'
          ? `  ✗ ${s.bdf}: ${s.error}`
          : `  ${s.outcome === 'restored' ? '✓' : '='} ${s.bdf}: ${s.outcome === 'restored' ? `${s.from ?? 'no driver'} → ${s.to ?? 'no driver'}` : `already ${s.to ?? 'without a driver'}`}`,
      );
  }
  return `${L.join('\n')}\n`;
}

export function restoreDocument(
  record: RestoreRecord,
  steps: RestoreStep[] | null,
  origin: string,
  file: string,
) {
  return {
    schemaVersion: SCHEMA_VERSION,
    command: 'restore',
    ok: steps === null || steps.every((s) => s.outcome !== 'failed'),
    origin,
    dryRun: steps === null,
    record: file,
    devices: record.devices,
    steps: steps ?? [],
  };
}
