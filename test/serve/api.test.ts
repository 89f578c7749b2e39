/**
 * The local page's server, in-process on an ephemeral port: the JSON API answers with the CLI's
 * own documents, bad requests get JSON errors with the right status, foreign Host and Origin
 * headers are refused, and only a simulated host can be reset — showing the kernel's log, with
 * the spurious hot-remove when a plain bus reset hits a pciehp port (PH1).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { writeSysfsDump } from '../../src/host/dump.ts';
import { infoDocument, scanDocument } from '../../src/render/json.ts';
import { renderTopologySvg } from '../../src/render/svg/svg.ts';
import { SimKernel } from '../../src/sim/kernel.ts';
import { loadTopologyFile } from '../../src/topology/load.ts';
import { call, postJson, type Running, readOnlyServed, serve, simServed } from './helpers.ts';

const WS = 'examples/workstation.yaml';
const PH1 = 'test/serve/fixtures/pciehp-plain-sbr.yaml';
const roundTrip = (doc: unknown) => JSON.parse(JSON.stringify(doc));

describe('a simulated workstation', () => {
  const host = simServed(loadTopologyFile(WS), `sim:${WS}`);
  let s: Running;
  before(async () => {
    s = await serve(host);
  });
  after(() => s.close());

  it('listens on 127.0.0.1 at the port the system picked', () => {
    assert.match(s.url, /^http:\/\/127\.0\.0\.1:\d+\/$/);
    assert.ok(s.port > 0);
    assert.equal((s.server.address() as { address: string }).address, '127.0.0.1');
  });

  it('serves the page, its script and style under a strict CSP, nothing from elsewhere', async () => {
    const page = await call(s.port, 'GET', '/');
    assert.equal(page.status, 200);
    assert.match(String(page.headers['content-type']), /^text\/html/);
    assert.match(page.body, /<script src="\/app\.js" defer><\/script>/);
    assert.doesNotMatch(page.body, /https?:\/\//, 'no external URL');
    assert.match(String(page.headers['content-security-policy']), /default-src 'none'; script-src 'self'/);
    const js = await call(s.port, 'GET', '/app.js');
    assert.equal(js.status, 200);
    assert.match(String(js.headers['content-type']), /^text\/javascript/);
    assert.doesNotThrow(() => new Function(js.body), 'the script parses');
    assert.equal((await call(s.port, 'GET', '/app.css')).status, 200);
    assert.equal((await call(s.port, 'GET', '/favicon.ico')).status, 204);
  });

  it('GET /api/host says what is served and that it can be reset', async () => {
    const r = await call(s.port, 'GET', '/api/host');
    assert.equal(r.status, 200);
    assert.deepEqual(r.doc, {
      schemaVersion: 1,
      command: 'host',
      ok: true,
      host: 'workstation',
      origin: `sim:${WS}`,
      era: '6.1',
      simulated: true,
      canReset: true,
    });
  });

  it('GET /api/scan and /api/info/<bdf> are the CLI documents', async () => {
    const inv = host.inventory();
    assert.deepEqual((await call(s.port, 'GET', '/api/scan')).doc, roundTrip(scanDocument(inv)));
    const gpu = inv.functions.find((f) => f.bdf === '0000:01:00.0')!;
    const r = await call(s.port, 'GET', '/api/info/01:00.0');
    assert.equal(r.status, 200);
    assert.deepEqual(r.doc, roundTrip(infoDocument(inv, gpu)));
    assert.deepEqual(
      r.doc.resetDomain.affected.map((a: { bdf: string }) => a.bdf),
      ['0000:01:00.0', '0000:01:00.1'],
    );
    // A URL-encoded full address works too.
    assert.equal((await call(s.port, 'GET', '/api/info/0000%3A01%3A00.1')).doc.function.bdf, '0000:01:00.1');
  });

  it('GET /api/svg is the picture scan --svg writes; fold=0 unfolds; other values are refused', async () => {
    const r = await call(s.port, 'GET', '/api/svg');
    assert.equal(r.status, 200);
    assert.match(String(r.headers['content-type']), /^image\/svg\+xml/);
    assert.equal(r.body, renderTopologySvg(host.inventory()));
    assert.equal((await call(s.port, 'GET', '/api/svg?fold=0')).status, 200);
    const bad = await call(s.port, 'GET', '/api/svg?fold=maybe');
    assert.equal(bad.status, 400);
    assert.equal(bad.doc.error.code, 'VFIO_RESET_E_BAD_REQUEST');
  });

  it('bad addresses and absent devices: 400 and 404 with the CLI error codes', async () => {
    const bad = await call(s.port, 'GET', '/api/info/zz');
    assert.equal(bad.status, 400);
    assert.deepEqual(
      [bad.doc.ok, bad.doc.command, bad.doc.error.code],
      [false, 'info', 'VFIO_RESET_E_BAD_BDF'],
    );
    const absent = await call(s.port, 'GET', '/api/info/0000:77:00.0');
    assert.equal(absent.status, 404);
    assert.equal(absent.doc.error.code, 'VFIO_RESET_E_NO_DEVICE');
    assert.match(absent.doc.error.message, /0000:77:00\.0 is not on host workstation/);
    const broken = await call(s.port, 'GET', '/api/info/%E0%A4%A');
    assert.equal(broken.status, 400);
  });

  it('unknown paths: 404 JSON; a path starting with // is not taken for another host', async () => {
    for (const path of ['/nope', '//api/host', '/api/info/', '/api/info/01:00.0/x']) {
      const r = await call(s.port, 'GET', path);
      assert.equal(r.status, 404, path);
      assert.equal(r.doc.error.code, 'VFIO_RESET_E_NOT_FOUND', path);
    }
  });

  it('only GET and POST, each where it belongs: 405 with Allow', async () => {
    for (const [method, path, allow] of [
      ['PUT', '/api/host', 'GET'],
      ['DELETE', '/api/scan', 'GET'],
      ['HEAD', '/api/svg', 'GET'],
      ['POST', '/api/info/01:00.0', 'GET'],
      ['GET', '/api/reset/05:00.0', 'POST'],
    ] as const) {
      const r = await call(s.port, method, path);
      assert.equal(r.status, 405, `${method} ${path}`);
      assert.equal(r.headers.allow, allow);
      if (method !== 'HEAD') assert.equal(r.doc.error.code, 'VFIO_RESET_E_METHOD');
    }
  });

  it('refuses Host names other than the loopback ones (DNS rebinding)', async () => {
    for (const h of ['evil.example', `evil.example:${s.port}`, '127.0.0.1', `127.0.0.1:${s.port + 1}`]) {
      const r = await call(s.port, 'GET', '/api/host', { headers: { Host: h } });
      assert.equal(r.status, 403, h);
      assert.equal(r.doc.error.code, 'VFIO_RESET_E_FORBIDDEN');
    }
    for (const h of [`localhost:${s.port}`, `[::1]:${s.port}`, `LOCALHOST:${s.port}`])
      assert.equal((await call(s.port, 'GET', '/api/host', { headers: { Host: h } })).status, 200, h);
  });

  it('refuses requests another site makes from the browser (Origin)', async () => {
    const cross = await postJson(s.port, '/api/reset/05:00.0', {}, { Origin: 'http://evil.example' });
    assert.equal(cross.status, 403);
    assert.match(cross.doc.error.message, /requests from http:\/\/evil\.example are refused/);
    const same = await postJson(
      s.port,
      '/api/reset/05:00.0',
      { method: 'function' },
      {
        Origin: `http://localhost:${s.port}`,
      },
    );
    assert.equal(same.status, 200);
  });

  it('reset bodies: JSON only, small, with known fields', async () => {
    const plain = await call(s.port, 'POST', '/api/reset/05:00.0', {
      headers: { 'Content-Type': 'text/plain' },
      body: '{}',
    });
    assert.equal(plain.status, 415);
    assert.equal(plain.doc.error.code, 'VFIO_RESET_E_MEDIA_TYPE');
    const big = await postJson(s.port, '/api/reset/05:00.0', { method: 'function', pad: 'x'.repeat(5000) });
    assert.equal(big.status, 413);
    for (const [body, what] of [
      ['{nope', /the body is not JSON/],
      [{ method: 'sideways' }, /body\.method: .*auto.*function.*hot/],
      [{ method: 'hot', force: true }, /force/],
      [[1, 2], /body: /],
    ] as const) {
      const r = await postJson(s.port, '/api/reset/05:00.0', body);
      assert.equal(r.status, 400, JSON.stringify(body));
      assert.equal(r.doc.error.code, 'VFIO_RESET_E_BAD_REQUEST');
      assert.match(r.doc.error.message, what);
    }
    assert.equal((await postJson(s.port, '/api/reset/zz', {})).status, 400);
    assert.equal((await postJson(s.port, '/api/reset/0000:77:00.0', {})).status, 404);
  });

  it('POST /api/reset runs the reset on the simulated kernel and answers with reset --json', async () => {
    const r = await postJson(s.port, '/api/reset/05:00.0', { method: 'hot' });
    assert.equal(r.status, 200);
    assert.deepEqual(
      [r.doc.command, r.doc.ok, r.doc.performed, r.doc.bdf, r.doc.clock],
      ['reset', true, 'hot-reset', '0000:05:00.0', 'virtual'],
    );
    const kinds = r.doc.events.map((e: { event: { kind: string } }) => e.event.kind);
    assert.ok(kinds.includes('slot-reset'), 'pciehp slot 11 resets the NVMe');
    assert.ok(!kinds.includes('hot-remove'), 'a slot reset masks the link drop');
    const log = await call(s.port, 'GET', '/api/log');
    assert.equal(log.doc.simulated, true);
    assert.ok(log.doc.events.length >= r.doc.events.length);
  });

  it('a reset the kernel refuses is a document too, naming the device in the way', async () => {
    const r = await postJson(s.port, '/api/reset/01:00.0', { method: 'hot' });
    assert.equal(r.status, 200);
    assert.equal(r.doc.ok, false);
    assert.match(r.doc.error.code, /^VFIO_RESET_E_/);
    assert.match(r.doc.error.message, /0000:01:00\.0/);
  });
});

describe('a plain bus reset below a pciehp port (PH1)', () => {
  let s: Running;
  before(async () => {
    s = await serve(simServed(loadTopologyFile(PH1), `sim:${PH1}`));
  });
  after(() => s.close());

  it('a function reset by the bus method is a plain SBR: the log shows the spurious hot-remove and hot-add', async () => {
    const r = await postJson(s.port, '/api/reset/01:00.0', { method: 'function' });
    assert.equal(r.status, 200);
    assert.deepEqual([r.doc.ok, r.doc.performed], [true, 'function-reset']);
    const events = r.doc.events.map((e: { event: unknown }) => e.event);
    assert.ok(
      events.some(
        (e: { kind: string; device?: string; reason?: string }) =>
          e.kind === 'hot-remove' && e.device === '0000:01:00.0' && /pciehp/.test(e.reason ?? ''),
      ),
      JSON.stringify(events),
    );
    assert.ok(events.some((e: { kind: string }) => e.kind === 'hot-add'));
    // Open, reset, close: each is the same plain SBR.
    assert.equal(events.filter((e: { kind: string }) => e.kind === 'hot-remove').length, 3);
    assert.ok(
      events.some((e: { kind: string; text?: string }) => e.kind === 'log' && /Link Down/.test(e.text ?? '')),
    );
  });

  it('the hot reset of the same device goes through pciehp reset_slot: only the open and close resets remove it', async () => {
    const r = await postJson(s.port, '/api/reset/01:00.0', { method: 'hot' });
    assert.deepEqual([r.doc.ok, r.doc.performed], [true, 'hot-reset']);
    const kinds: string[] = r.doc.events.map((e: { event: { kind: string } }) => e.event.kind);
    assert.ok(kinds.includes('slot-reset'));
    // vfio-pci resets the device at first open and last close with its function reset (the bus
    // method, a plain SBR each time); the slot reset between them is masked.
    assert.equal(kinds.filter((k) => k === 'hot-remove').length, 2);
    const slot = kinds.indexOf('slot-reset');
    assert.ok(!kinds.slice(kinds.lastIndexOf('function-reset', slot) + 1, slot).includes('hot-remove'));
  });
});

describe('a real host (a sysfs copy): read only', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vfio-reset-serve-'));
  const dump = join(dir, 'sys');
  let s: Running;
  before(async () => {
    writeSysfsDump(new SimKernel(loadTopologyFile(WS), { era: '6.1' }).sysfs, dump);
    s = await serve(readOnlyServed(dump));
  });
  after(async () => {
    await s.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('shows the picture and info', async () => {
    const host = await call(s.port, 'GET', '/api/host');
    assert.deepEqual([host.doc.simulated, host.doc.canReset], [false, false]);
    assert.equal((await call(s.port, 'GET', '/api/svg')).status, 200);
    assert.equal((await call(s.port, 'GET', '/api/info/05:00.0')).doc.function.driver, 'vfio-pci');
    assert.deepEqual((await call(s.port, 'GET', '/api/log')).doc.events, []);
  });

  it('refuses every reset: 403, and says what to use instead', async () => {
    const r = await postJson(s.port, '/api/reset/05:00.0', { method: 'function' });
    assert.equal(r.status, 403);
    assert.equal(r.doc.error.code, 'VFIO_RESET_E_READ_ONLY');
    assert.match(r.doc.error.message, /never resets a real device.*reset <bdf> --yes/);
  });
});
