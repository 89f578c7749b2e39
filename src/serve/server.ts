/**
 * `vfio-reset serve`: a node:http server on 127.0.0.1 for one page — the topology picture of the
 * chosen host, each function's `info` on click, and on a simulated host a reset button with the
 * kernel's log. Only GET and POST; every answer other than the page and the picture is JSON.
 * @module
 */

import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  errorReply,
  failureReply,
  hostReply,
  infoReply,
  logReply,
  type Reply,
  resetReply,
  type ServedHost,
  scanReply,
  svgReply,
} from './api.ts';
import { APP_CSS } from './assets/app-css.ts';
import { APP_JS } from './assets/app-js.ts';
import { pageHtml } from './assets/page.ts';
import { checkRequest } from './guard.ts';

/** A reset request is a few bytes of JSON; anything larger is refused before it is read. */
const MAX_BODY = 4096;

const SECURITY_HEADERS = {
  'Cache-Control': 'no-store',
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'Content-Security-Policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
};

interface RequestUrl {
  pathname: string;
  searchParams: URLSearchParams;
}

type Route = {
  pattern: RegExp;
  command: string;
  get?: (h: ServedHost, m: RegExpMatchArray, url: RequestUrl) => Reply;
  post?: (h: ServedHost, m: RegExpMatchArray, body: string) => Reply;
};

const asset = (type: string, body: string): Reply => ({ status: 200, type, body });

const ROUTES: Route[] = [
  { pattern: /^\/$/, command: 'serve', get: (h) => asset('text/html; charset=utf-8', pageHtml(h.origin)) },
  { pattern: /^\/app\.js$/, command: 'serve', get: () => asset('text/javascript; charset=utf-8', APP_JS) },
  { pattern: /^\/app\.css$/, command: 'serve', get: () => asset('text/css; charset=utf-8', APP_CSS) },
  // Browsers ask for it unprompted; there is none.
  {
    pattern: /^\/favicon\.ico$/,
    command: 'serve',
    get: () => ({ status: 204, type: 'image/x-icon', body: '' }),
  },
  { pattern: /^\/api\/host$/, command: 'host', get: (h) => hostReply(h) },
  { pattern: /^\/api\/scan$/, command: 'scan', get: (h) => scanReply(h) },
  { pattern: /^\/api\/svg$/, command: 'svg', get: (h, _m, url) => svgReply(h, url.searchParams) },
  { pattern: /^\/api\/log$/, command: 'log', get: (h) => logReply(h) },
  { pattern: /^\/api\/info\/([^/]+)$/, command: 'info', get: (h, m) => infoReply(h, decode(m[1]!)) },
  {
    pattern: /^\/api\/reset\/([^/]+)$/,
    command: 'reset',
    post: (h, m, body) => resetReply(h, decode(m[1]!), body),
  },
];

function decode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s; // parseBdf names it as a bad address
  }
}

function send(res: ServerResponse, r: Reply): void {
  res.writeHead(r.status, {
    ...SECURITY_HEADERS,
    'Content-Type': r.type,
    'Content-Length': Buffer.byteLength(r.body),
    ...r.headers,
  });
  res.end(r.body);
}

/** Reads a small body; null when it is larger than `MAX_BODY`. */
function readBody(req: IncomingMessage): Promise<string | null> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) tooLarge = true;
      else chunks.push(c);
    });
    req.on('end', () => resolve(tooLarge ? null : Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

async function handle(host: ServedHost, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const port = req.socket.localPort ?? 0;
  const refused = checkRequest(req, port);
  if (refused) return send(res, errorReply('serve', refused.code, refused.message));
  // Not `new URL(req.url, base)`: a request path starting with `//` would be read as another host.
  const raw = req.url ?? '/';
  const q = raw.indexOf('?');
  const url = {
    pathname: q < 0 ? raw : raw.slice(0, q),
    searchParams: new URLSearchParams(q < 0 ? '' : raw.slice(q + 1)),
  };
  const route = ROUTES.find((r) => r.pattern.test(url.pathname));
  if (!route)
    return send(
      res,
      errorReply(
        'serve',
        'VFIO_RESET_E_NOT_FOUND',
        `no such page: ${url.pathname}; the API is /api/host, /api/scan, /api/svg, /api/log, /api/info/<bdf> and POST /api/reset/<bdf>`,
      ),
    );
  const m = url.pathname.match(route.pattern)!;
  const allow = [route.get ? 'GET' : null, route.post ? 'POST' : null].filter((x) => x).join(', ');
  try {
    if (req.method === 'GET' && route.get) return send(res, route.get(host, m, url));
    if (req.method === 'POST' && route.post) {
      const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
      if (type !== 'application/json')
        return send(
          res,
          errorReply(
            route.command,
            'VFIO_RESET_E_MEDIA_TYPE',
            `send the body as application/json (got ${type || 'no Content-Type'})`,
          ),
        );
      const body = await readBody(req);
      if (body === null)
        return send(
          res,
          errorReply(route.command, 'VFIO_RESET_E_TOO_LARGE', `the body is larger than ${MAX_BODY} bytes`),
        );
      return send(res, route.post(host, m, body));
    }
    return send(
      res,
      errorReply(
        route.command,
        'VFIO_RESET_E_METHOD',
        `${req.method} is not allowed on ${url.pathname}; use ${allow}`,
        {
          Allow: allow,
        },
      ),
    );
  } catch (e) {
    return send(res, failureReply(route.command, e));
  }
}

export function createServeServer(host: ServedHost): Server {
  return createServer((req, res) => {
    handle(host, req, res).catch((e) => {
      if (!res.headersSent) send(res, failureReply('serve', e));
      else res.destroy();
    });
  });
}

/** Listens on 127.0.0.1 only; `port` 0 picks a free one. Resolves with the page's URL. */
export function listenLocal(server: Server, port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const onError = (e: NodeJS.ErrnoException) => {
      reject(
        e.code === 'EADDRINUSE'
          ? Object.assign(
              new Error(
                `port ${port} on 127.0.0.1 is in use; choose another with --port (0 picks a free one)`,
              ),
              {
                code: 'VFIO_RESET_E_PORT',
              },
            )
          : e,
      );
    };
    server.once('error', onError);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', onError);
      resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`);
    });
  });
}
