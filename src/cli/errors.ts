/**
 * What the CLI does with an error: one line (or one JSON document), a stable code and an exit
 * status — 1 for an operation that failed or was refused, 2 for a usage error. Known errors of
 * every layer carry a `code` of the form VFIO_RESET_E_*; anything else is a bug and says so.
 * @module
 */

export class UsageError extends Error {
  readonly code = 'VFIO_RESET_E_USAGE';
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** An operation that could not be done (device absent, refused …). */
export class CommandError extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.name = 'CommandError';
    this.code = code;
  }
}

export interface CliFailure {
  code: string;
  message: string;
  exitCode: 1 | 2;
}

const USAGE_CODES = new Set(['VFIO_RESET_E_USAGE', 'VFIO_RESET_E_BAD_BDF']);

export function toFailure(e: unknown): CliFailure {
  if (e instanceof Error && typeof (e as { code?: unknown }).code === 'string') {
    const code = (e as unknown as { code: string }).code;
    if (code.startsWith('VFIO_RESET_E_'))
      return { code, message: e.message, exitCode: USAGE_CODES.has(code) ? 2 : 1 };
  }
  const message = e instanceof Error ? e.message : String(e);
  return {
    code: 'VFIO_RESET_E_INTERNAL',
    message: `internal error: ${message} (please report this with the command you ran)`,
    exitCode: 1,
  };
}
