/**
 * Where a run writes: stdout and stderr of this process, or what a test passes to capture them.
 * Kept apart from context.ts so that the root command (and `--help`) loads no host code.
 * @module
 */

import { jsonChunks } from '../render/json-text.ts';

/** Where a run writes; tests pass their own to capture output. */
export interface CliIo {
  stdout: (s: string) => void;
  stderr: (s: string) => void;
}

export const processIo: CliIo = {
  stdout: (s) => process.stdout.write(s),
  stderr: (s) => process.stderr.write(s),
};

let io: CliIo = processIo;
export function setIo(next: CliIo): void {
  io = next;
}
export const currentIo = (): CliIo => io;
export const out = (s: string): void => io.stdout(s);
export const err = (s: string): void => io.stderr(s);
/** A JSON document, written in chunks: a large host's scan is more than one string may hold. */
export const json = (doc: unknown): void => {
  for (const chunk of jsonChunks(doc)) out(chunk);
  out('\n');
};
