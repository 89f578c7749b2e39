/**
 * Every --json document the commands print on the bundled examples matches its published schema,
 * and the committed schemas/*.json are what `npm run schemas` writes now.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import type { z } from 'zod';
import { DOCUMENT_SCHEMAS, type DocumentName, jsonSchemaFiles } from '../../src/render/schemas/index.ts';
import { runCli } from '../helpers/cli.ts';

const tmp = mkdtempSync(join(tmpdir(), 'vfio-reset-schemas-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

const run = runCli;

function valid(name: DocumentName, doc: unknown, what: string): void {
  const r = (DOCUMENT_SCHEMAS[name] as z.ZodType).safeParse(doc);
  assert.ok(r.success, `${what}: ${r.success ? '' : JSON.stringify(r.error.issues.slice(0, 3))}`);
}

async function jsonOf(name: DocumentName, ...argv: string[]): Promise<Record<string, unknown>> {
  const r = await run('--json', ...argv);
  const doc = JSON.parse(r.stdout);
  valid(name, doc, argv.join(' '));
  return doc;
}

const EXAMPLES = readdirSync('examples')
  .filter((f) => f.endsWith('.yaml'))
  .map((f) => `sim:examples/${f}`);

test('scan and info on every example, in every era', async () => {
  for (const host of EXAMPLES)
    for (const era of ['2013', '6.1', '6.6+']) {
      const scan = await jsonOf('scan', '--host', host, '--era', era, 'scan');
      const fns = scan.functions as { bdf: string }[];
      await jsonOf('info', '--host', host, '--era', era, 'info', fns.at(-1)!.bdf);
    }
});

test('plan (with --what-if) on every example: every endpoint at once', async () => {
  for (const host of EXAMPLES) {
    const scan = await jsonOf('scan', '--host', host, 'scan');
    const endpoints = (scan.functions as { bdf: string; kind: string }[])
      .filter((f) => !f.kind.endsWith('port') && !f.kind.endsWith('bridge'))
      .map((f) => f.bdf);
    for (const era of ['6.1', '6.6+']) {
      await jsonOf('plan', '--host', host, '--era', era, 'plan', ...endpoints);
      const w = await jsonOf('plan', '--host', host, '--era', era, 'plan', '--what-if', endpoints[0]!);
      assert.notEqual(w.whatIf, null);
    }
  }
});

test('bind, restore, reset, dump, snapshot, import-lspci, run and errors', async () => {
  const ws = 'sim:examples/workstation.yaml';
  const rec = join(tmp, 'r.json');
  await jsonOf('bind', '--host', ws, 'bind', '01:00.0');
  assert.equal((await jsonOf('bind', '--host', ws, 'bind', '00:1f.3')).ok, false, 'refused group');
  await jsonOf('bind', '--host', ws, 'bind', '01:00.0', '--yes', '--record', rec, '--save', join(tmp, 'd1'));
  await jsonOf('restore', '--host', `sim:${join(tmp, 'd1')}`, 'restore', '--record', rec);
  await jsonOf('restore', '--host', `sim:${join(tmp, 'd1')}`, 'restore', '--record', rec, '--yes');
  valid('restore-record', JSON.parse(readFileSync(rec, 'utf8')), 'restore record');
  await jsonOf('reset', '--host', ws, 'reset', '05:00.0');
  await jsonOf('reset', '--host', ws, 'reset', '05:00.0', '--yes');
  await jsonOf('reset', '--host', ws, 'reset', '01:00.0', '--yes');
  await jsonOf('dump', '--host', ws, 'dump', '-o', join(tmp, 'dump'));
  await jsonOf('snapshot', '--host', `linux:${join(tmp, 'dump')}`, 'snapshot', '-o', join(tmp, 'snap.yaml'));
  await jsonOf(
    'import-lspci',
    'import-lspci',
    'test/fixtures/lspci/qemu-i440fx.vvnn-xxx.txt',
    '-o',
    join(tmp, 'imported.yaml'),
  );
  const lines = (await run('--json', 'run', 'scenarios/conformance/26-ppb-hot-reset.yaml')).stdout
    .trim()
    .split('\n');
  assert.ok(lines.length > 2);
  for (const l of lines) valid('run', JSON.parse(l), l.slice(0, 80));
  await jsonOf('error', '--host', ws, 'info', '77:00.0');
  await jsonOf('error', '--host', ws, 'plan', '77:00.0');
  assert.equal((await run('--json', 'demo')).code, 2, 'demo has no JSON form: an error document, not text');
  await jsonOf('error', 'demo');
});

test('schemas/*.json are what `npm run schemas` writes now', () => {
  const files = jsonSchemaFiles();
  assert.deepEqual(readdirSync('schemas').sort(), [...files.keys()].sort());
  for (const [name, text] of files)
    assert.equal(
      readFileSync(join('schemas', name), 'utf8'),
      text,
      `schemas/${name} is stale: run npm run schemas`,
    );
});
