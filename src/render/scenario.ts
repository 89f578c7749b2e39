/**
 * Scenario results as text (one line per step) and as NDJSON (one JSON object per step, then a
 * summary), so a run can be read by a person or diffed by a tool.
 * @module
 */

import type { ScenarioResult, StepResult } from '../scenario/run.ts';
import { SCHEMA_VERSION } from './json.ts';

const MARK = { true: '✓', false: '✗', null: '-' } as const;

function outcome(s: StepResult): string {
  if (s.errno) return `${s.errno}${s.rule ? ` [${s.rule}]` : ''}`;
  if (s.value === null || s.value === undefined) return 'ok';
  return typeof s.value === 'object' ? `ok ${JSON.stringify(s.value)}` : `ok (${String(s.value)})`;
}

export function renderScenarioText(r: ScenarioResult): string {
  const lines = [
    `scenario: ${r.name} (${r.target === 'sim' ? 'simulated kernel, virtual time' : 'real kernel'})`,
  ];
  for (const s of r.steps) {
    const time =
      s.durationMs >= 1 ? `${s.durationMs.toFixed(1)} ms` : `${(s.durationMs * 1000).toFixed(0)} µs`;
    lines.push(`${MARK[String(s.met) as 'true']} ${String(s.index + 1).padStart(3)}  ${s.label ?? s.text}`);
    lines.push(`        → ${outcome(s)}  ${time}${s.note ? `  — ${s.note}` : ''}`);
  }
  lines.push(`${r.passed} passed, ${r.failed} failed${r.skipped ? `, ${r.skipped} skipped` : ''}`);
  return `${lines.join('\n')}\n`;
}

export function renderScenarioNdjson(r: ScenarioResult): string {
  const rows = r.steps.map((s) =>
    JSON.stringify({ schemaVersion: SCHEMA_VERSION, command: 'run', type: 'step', scenario: r.name, ...s }),
  );
  rows.push(
    JSON.stringify({
      schemaVersion: SCHEMA_VERSION,
      command: 'run',
      type: 'summary',
      ok: r.failed === 0,
      scenario: r.name,
      target: r.target,
      passed: r.passed,
      failed: r.failed,
      skipped: r.skipped,
    }),
  );
  return `${rows.join('\n')}\n`;
}
