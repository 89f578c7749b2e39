/**
 * The kernel log, read from `/dev/kmsg` (guest side). Each read(2) of /dev/kmsg returns one
 * record; with O_NONBLOCK the end of the buffer is EAGAIN instead of a wait, so `drain()` returns
 * exactly the lines printed since the previous call — a scenario's own kernel messages. (Using
 * `dmesg` instead would need a diff of the whole ring buffer each time.)
 * @module
 */

import { closeSync, constants, openSync, readSync } from 'node:fs';

/** `6,1234,5678901,-;msg\n KEY=val\n` → `[    5.678901] msg`. */
export function formatKmsgRecord(record: string): string | null {
  const semi = record.indexOf(';');
  if (semi < 0) return null;
  const [, , usec] = record.slice(0, semi).split(',');
  const msg = record.slice(semi + 1).split('\n')[0] ?? '';
  const t = Number(usec) / 1e6;
  return `[${Number.isFinite(t) ? t.toFixed(6).padStart(12) : '?'}] ${msg}`;
}

export class KernelLog {
  private readonly fd: number;
  private readonly buf = Buffer.alloc(16384);

  constructor(path = '/dev/kmsg') {
    this.fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  }

  /** Lines logged since the last call (the whole buffer on the first). */
  drain(): string[] {
    const out: string[] = [];
    for (;;) {
      let n: number;
      try {
        n = readSync(this.fd, this.buf, 0, this.buf.length, null);
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code === 'EAGAIN') break;
        // Records were overwritten before we read them; the next read resumes at the oldest.
        if (code === 'EPIPE') {
          out.push('[kmsg: some lines were lost]');
          continue;
        }
        throw e;
      }
      if (n === 0) break;
      const line = formatKmsgRecord(this.buf.toString('utf8', 0, n));
      if (line !== null) out.push(line);
    }
    return out;
  }

  close(): void {
    closeSync(this.fd);
  }
}
