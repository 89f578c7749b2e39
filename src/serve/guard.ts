/**
 * Who may talk to the local page's server. It listens on 127.0.0.1 only, but a web page in the
 * user's browser can still reach it: through a DNS name rebound to 127.0.0.1 (then the Host header
 * names that foreign name) or by posting a form across origins (then Origin names the other site).
 * Both are refused; a request without Origin (curl, scripts) is local by construction.
 * @module
 */

import type { IncomingMessage } from 'node:http';

/** The Host header values a browser sends for this server: loopback names with the listening port. */
export function localHosts(port: number): Set<string> {
  return new Set([`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`]);
}

export type GuardRefusal = { code: 'VFIO_RESET_E_FORBIDDEN'; message: string };

export function checkRequest(req: IncomingMessage, port: number): GuardRefusal | null {
  const allowed = localHosts(port);
  const host = (req.headers.host ?? '').toLowerCase();
  if (!allowed.has(host))
    return {
      code: 'VFIO_RESET_E_FORBIDDEN',
      message: `Host '${host || '(none)'}' is not this server; open http://127.0.0.1:${port}/ (names other than localhost are refused against DNS rebinding)`,
    };
  const origin = req.headers.origin;
  if (origin !== undefined && !(origin.startsWith('http://') && allowed.has(origin.slice(7).toLowerCase())))
    return {
      code: 'VFIO_RESET_E_FORBIDDEN',
      message: `requests from ${origin} are refused: only the page served at http://127.0.0.1:${port}/ may call the API`,
    };
  return null;
}
