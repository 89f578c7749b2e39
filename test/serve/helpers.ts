/** Servers for the page's tests: a simulated host (or a read-only sysfs copy) on an ephemeral port. */

import type { Server } from 'node:http';
import { request } from 'node:http';
import { takeInventory } from '../../src/host/inventory.ts';
import { DirSysfsReader } from '../../src/linux/sysfs-reader.ts';
import type { Era } from '../../src/pci/era.ts';
import type { HostDesc } from '../../src/pci/model.ts';
import type { ServedHost } from '../../src/serve/api.ts';
import { createServeServer, listenLocal } from '../../src/serve/server.ts';
import { SimKernel } from '../../src/sim/kernel.ts';

export function simServed(desc: HostDesc, origin: string, era: Era = '6.1'): ServedHost {
  const sim = new SimKernel(desc, { era });
  return { origin, era, sim, inventory: () => takeInventory(sim.sysfs, { era, origin, name: desc.name }) };
}

/** A sysfs tree on disk, served the way `--host linux:<dir>` is: read only. */
export function readOnlyServed(dir: string): ServedHost {
  const reader = new DirSysfsReader(dir);
  return { origin: dir, era: '6.1', sim: null, inventory: () => takeInventory(reader, { origin: dir }) };
}

export interface Running {
  server: Server;
  url: string;
  port: number;
  close(): Promise<void>;
}

export async function serve(host: ServedHost): Promise<Running> {
  const server = createServeServer(host);
  const url = await listenLocal(server, 0);
  return {
    server,
    url,
    port: Number(new URL(url).port),
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

export interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  /** The body as JSON, when it is. */
  // biome-ignore lint/suspicious/noExplicitAny: tests read documents of many shapes
  doc: any;
}

/** One request with full control of the headers (fetch would not let a test forge Host). */
export function call(
  port: number,
  method: string,
  path: string,
  opts: { headers?: Record<string, string>; body?: string } = {},
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port, method, path, headers: { Host: `127.0.0.1:${port}`, ...opts.headers } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const body = Buffer.concat(chunks).toString('utf8');
          let doc: unknown = null;
          if (body !== '' && (res.headers['content-type'] ?? '').startsWith('application/json'))
            doc = JSON.parse(body);
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body, doc });
        });
      },
    );
    req.on('error', reject);
    if (opts.body !== undefined) req.write(opts.body);
    req.end();
  });
}

export const postJson = (port: number, path: string, body: unknown, headers: Record<string, string> = {}) =>
  call(port, 'POST', path, {
    headers: { 'Content-Type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
