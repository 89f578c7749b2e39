/**
 * The restore record `bind` writes and `restore` reads: which driver (and `driver_override`) each
 * device had before it was bound to vfio-pci. A JSON file with `schemaVersion`; a malformed one is
 * one error naming the file, the line where JSON itself failed or the field that is wrong.
 * @module
 */

import { z } from 'zod';

export const RestoreEntrySchema = z.strictObject({
  bdf: z
    .string()
    .regex(/^[0-9a-f]{4}:[0-9a-f]{2}:[01][0-9a-f]\.[0-7]$/, 'a canonical BDF such as 0000:01:00.0'),
  group: z.number().int().nonnegative().nullable(),
  driver: z.string().min(1).nullable(),
  driverOverride: z.string().min(1).nullable(),
});
export type RestoreEntry = z.infer<typeof RestoreEntrySchema>;

export const RestoreRecordSchema = z.strictObject({
  schemaVersion: z.literal(1),
  kind: z.literal('vfio-reset-restore'),
  host: z.string(),
  origin: z.string(),
  createdAt: z.string(),
  devices: z.array(RestoreEntrySchema),
});
export type RestoreRecord = z.infer<typeof RestoreRecordSchema>;

export class RestoreRecordError extends Error {
  readonly code = 'VFIO_RESET_E_RESTORE_RECORD';
  constructor(message: string) {
    super(message);
    this.name = 'RestoreRecordError';
  }
}

export function restoreRecord(
  host: string,
  origin: string,
  createdAt: string,
  devices: RestoreEntry[],
): RestoreRecord {
  return { schemaVersion: 1, kind: 'vfio-reset-restore', host, origin, createdAt, devices };
}

/** Line of a character offset (JSON.parse reports positions). */
function lineOf(text: string, pos: number): number {
  return text.slice(0, pos).split('\n').length;
}

export function parseRestoreRecord(text: string, file: string): RestoreRecord {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (e) {
    const m = /position (\d+)/.exec(String(e));
    const where = m ? `${file}:${lineOf(text, Number(m[1]))}` : file;
    throw new RestoreRecordError(
      `${where}: not JSON (${(e as Error).message}); give the file 'vfio-reset bind --yes' wrote`,
    );
  }
  const r = RestoreRecordSchema.safeParse(data);
  if (!r.success) {
    const issue = r.error.issues[0]!;
    throw new RestoreRecordError(
      `${file}: ${issue.path.join('.') || '(top level)'}: ${issue.message}; give the file 'vfio-reset bind --yes' wrote`,
    );
  }
  return r.data;
}
