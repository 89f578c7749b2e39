/**
 * Every JSON document the CLI prints, by name, as zod schemas — and their published JSON Schema
 * (`npm run schemas` writes `schemas/<name>.json`; a test keeps those files up to date and checks
 * the documents the commands print against these schemas).
 * @module
 */

import { z } from 'zod';
import { RestoreRecordSchema } from '../../plan/restore-record.ts';
import { DumpDocument, ImportLspciDocument, ResetDocument, RunLine, SnapshotDocument } from './commands.ts';
import { ErrorDocument } from './common.ts';
import { InfoDocument, ScanDocument } from './inventory.ts';
import { BindDocument, PlanDocument, RestoreDocument } from './plan.ts';

export const DOCUMENT_SCHEMAS = {
  scan: ScanDocument,
  info: InfoDocument,
  dump: DumpDocument,
  snapshot: SnapshotDocument,
  'import-lspci': ImportLspciDocument,
  plan: PlanDocument,
  bind: BindDocument,
  restore: RestoreDocument,
  reset: ResetDocument,
  run: RunLine,
  error: ErrorDocument,
  'restore-record': RestoreRecordSchema.meta({
    title: 'vfio-reset restore record',
    description:
      'the file bind --yes writes: each device’s driver and driver_override before it was bound to vfio-pci',
  }),
} as const;

export type DocumentName = keyof typeof DOCUMENT_SCHEMAS;

/** The JSON Schema files, by file name, as `npm run schemas` writes them. */
export function jsonSchemaFiles(): Map<string, string> {
  const out = new Map<string, string>();
  for (const [name, schema] of Object.entries(DOCUMENT_SCHEMAS)) {
    const js = { $id: `vfio-reset/${name}.json`, ...z.toJSONSchema(schema, { io: 'output' }) };
    out.set(`${name}.json`, `${JSON.stringify(js, null, 2)}\n`);
  }
  return out;
}
