/**
 * The local page's JSON API. Each answer is one of the CLI's own documents (`scan --json`,
 * `info --json`, `reset --json`) or an error document with the CLI's error codes; the status code
 * says what kind of failure it is. The host is read afresh for every request: a real host changes
 * under us, and a simulated one changes with every reset the page runs.
 * @module
 */

import { z } from 'zod';
import { findFunction } from '../cli/context.ts';
import { CommandError, toFailure } from '../cli/errors.ts';
import { simResetRun } from '../cli/sim-reset.ts';
import type { Inventory } from '../host/inventory.ts';
import type { Era } from '../pci/era.ts';
import { errorDocument, infoDocument, SCHEMA_VERSION, scanDocument } from '../render/json.ts';
import { resetDocument } from '../render/reset.ts';
import { renderTopologySvg } from '../render/svg/svg.ts';
import type { SimKernel } from '../sim/kernel.ts';

/** The host the page shows. */
export interface ServedHost {
  origin: string;
  era: Era;
  /** Takes the inventory now. */
  inventory(): Inventory;
  /** The simulated kernel; null on a real host, which the page only reads. */
  sim: SimKernel | null;
}

export interface Reply {
  status: number;
  type: string;
  body: string;
  headers?: Record<string, string>;
}

const JSON_TYPE = 'application/json; charset=utf-8';

export const jsonReply = (status: number, doc: unknown): Reply => ({
  status,
  type: JSON_TYPE,
  body: `${JSON.stringify(doc, null, 2)}\n`,
});

/** Status codes for the error codes an API call can end with. */
const STATUS: Record<string, number> = {
  VFIO_RESET_E_BAD_BDF: 400,
  VFIO_RESET_E_USAGE: 400,
  VFIO_RESET_E_BAD_REQUEST: 400,
  VFIO_RESET_E_FORBIDDEN: 403,
  VFIO_RESET_E_READ_ONLY: 403,
  VFIO_RESET_E_NO_DEVICE: 404,
  VFIO_RESET_E_NOT_FOUND: 404,
  VFIO_RESET_E_METHOD: 405,
  VFIO_RESET_E_TOO_LARGE: 413,
  VFIO_RESET_E_MEDIA_TYPE: 415,
};

export function errorReply(command: string, code: string, message: string, headers?: Record<string, string>) {
  const r = jsonReply(STATUS[code] ?? 500, errorDocument(command, code, message));
  return headers ? { ...r, headers } : r;
}

/** An error thrown by a layer below (bad BDF, unreadable host …) as an error reply, never a stack trace. */
export function failureReply(command: string, e: unknown): Reply {
  const f = toFailure(e);
  return errorReply(command, f.code, f.message);
}

const findBdf = (inv: Inventory, text: string) => findFunction(inv, text, 'GET /api/scan');

export function hostReply(h: ServedHost): Reply {
  const inv = h.inventory();
  return jsonReply(200, {
    schemaVersion: SCHEMA_VERSION,
    command: 'host',
    ok: true,
    host: inv.host,
    origin: h.origin,
    era: h.era,
    simulated: h.sim !== null,
    // The page never resets a real device: `vfio-reset reset --yes` does, after its safety checks.
    canReset: h.sim !== null,
  });
}

export const scanReply = (h: ServedHost): Reply => jsonReply(200, scanDocument(h.inventory()));

export function infoReply(h: ServedHost, bdfText: string): Reply {
  const inv = h.inventory();
  return jsonReply(200, infoDocument(inv, findBdf(inv, bdfText)));
}

export function svgReply(h: ServedHost, query: URLSearchParams): Reply {
  const fold = query.get('fold');
  if (fold !== null && fold !== '0' && fold !== '1')
    throw new CommandError(
      'VFIO_RESET_E_BAD_REQUEST',
      `fold=${fold}: use fold=1 (fold runs of alike functions) or fold=0`,
    );
  return {
    status: 200,
    type: 'image/svg+xml; charset=utf-8',
    body: renderTopologySvg(h.inventory(), fold === '0' ? { foldRuns: false } : {}),
  };
}

export function logReply(h: ServedHost): Reply {
  return jsonReply(200, {
    schemaVersion: SCHEMA_VERSION,
    command: 'log',
    ok: true,
    origin: h.origin,
    simulated: h.sim !== null,
    events: h.sim ? h.sim.log.all() : [],
  });
}

const ResetBody = z.strictObject({
  method: z.enum(['auto', 'function', 'hot']).default('auto'),
  mode: z.enum(['auto', 'group', 'cdev']).default('auto'),
});

function parseResetBody(text: string): z.infer<typeof ResetBody> {
  let raw: unknown;
  try {
    raw = text.trim() === '' ? {} : JSON.parse(text);
  } catch (e) {
    throw new CommandError(
      'VFIO_RESET_E_BAD_REQUEST',
      `the body is not JSON (${(e as Error).message}); send e.g. {"method":"function"}`,
    );
  }
  const r = ResetBody.safeParse(raw);
  if (!r.success) {
    const i = r.error.issues[0]!;
    throw new CommandError(
      'VFIO_RESET_E_BAD_REQUEST',
      `body${i.path.length > 0 ? `.${i.path.join('.')}` : ''}: ${i.message} (send {"method":"auto|function|hot","mode":"auto|group|cdev"})`,
    );
  }
  return r.data;
}

export function resetReply(h: ServedHost, bdfText: string, body: string): Reply {
  if (!h.sim)
    throw new CommandError(
      'VFIO_RESET_E_READ_ONLY',
      `the page only reads ${h.origin}: it never resets a real device. Use 'vfio-reset reset <bdf> --yes', which checks first that nothing the host needs is in the way, or serve a simulated copy: 'vfio-reset dump -o host.d' then 'vfio-reset --host sim:host.d serve'`,
    );
  const opts = parseResetBody(body);
  const f = findBdf(h.inventory(), bdfText);
  return jsonReply(200, resetDocument(simResetRun(h.sim, h.origin, f.bdf, opts.method, opts.mode)));
}
