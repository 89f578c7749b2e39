/**
 * Progress of long operations (binding many devices, a what-if run) on stderr, so stdout stays
 * the document. On a terminal one line is rewritten in place, dimmed unless NO_COLOR is set;
 * anywhere else (a pipe, a file, a test) plain lines without escape codes.
 * @module
 */

import type { Progress } from '../plan/bind.ts';
import { currentIo, processIo } from './io.ts';

export function progressWriter(
  label: string,
  write: (s: string) => void,
  tty: boolean,
  env: NodeJS.ProcessEnv,
): Progress {
  // no-color.org: set and not empty.
  const color = tty && !env.NO_COLOR;
  return (done, total, what) => {
    const line = `${label} [${done}/${total}] ${what}`;
    if (!tty) write(`${line}\n`);
    else write(`\r\x1b[K${color ? `\x1b[2m${line}\x1b[22m` : line}${done >= total ? '\n' : ''}`);
  };
}

/** Progress for this run: a terminal only when output really goes to this process's stderr. */
export function progressOnStderr(label: string): Progress {
  const io = currentIo();
  return progressWriter(label, io.stderr, io === processIo && process.stderr.isTTY === true, process.env);
}
