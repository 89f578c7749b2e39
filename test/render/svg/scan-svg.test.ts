/** `scan --svg`: the picture into a new file (never over an existing one), or to stdout with `-`. */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { main } from '../../../src/cli/program.ts';
import { takeInventory } from '../../../src/host/inventory.ts';
import { renderTopologySvg } from '../../../src/render/svg/svg.ts';
import { SimKernel } from '../../../src/sim/kernel.ts';
import { loadTopologyFile } from '../../../src/topology/load.ts';

const WS = 'examples/workstation.yaml';
const tmp = mkdtempSync(join(tmpdir(), 'vfio-reset-svg-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

async function run(...argv: string[]) {
  let stdout = '';
  let stderr = '';
  const code = await main(argv, { stdout: (s) => (stdout += s), stderr: (s) => (stderr += s) });
  return { code, stdout, stderr };
}

const expected = () => {
  const desc = loadTopologyFile(WS);
  const inv = takeInventory(new SimKernel(desc, { era: '6.1' }).sysfs, {
    era: '6.1',
    origin: `sim:${WS}`,
    name: desc.name,
  });
  return renderTopologySvg(inv);
};

test('scan --svg writes the picture of the host and still prints the scan', async () => {
  const out = join(tmp, 'ws.svg');
  const r = await run('--host', `sim:${WS}`, 'scan', '--svg', out);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(readFileSync(out, 'utf8'), expected());
  assert.match(r.stdout, /^Host workstation/);
  assert.match(r.stdout, new RegExp(`picture written to ${out}\\n$`));
});

test('scan --svg never overwrites a file: exit 1, one line saying what to do', async () => {
  const out = join(tmp, 'taken.svg');
  writeFileSync(out, 'keep me');
  const r = await run('--host', `sim:${WS}`, 'scan', '--svg', out);
  assert.equal(r.code, 1);
  assert.equal(r.stderr, `vfio-reset: ${out} already exists; choose another name or remove it\n`);
  assert.equal(readFileSync(out, 'utf8'), 'keep me');
});

test('scan --svg - writes only the picture to stdout; it cannot share stdout with --json', async () => {
  const r = await run('--host', `sim:${WS}`, 'scan', '--svg', '-');
  assert.equal(r.code, 0);
  assert.equal(r.stdout, expected());
  const both = await run('--host', `sim:${WS}`, '--json', 'scan', '--svg', '-');
  assert.equal(both.code, 2);
  const doc = JSON.parse(both.stdout);
  assert.equal(doc.error.code, 'VFIO_RESET_E_USAGE');
});
