/** The `vfio-reset` process itself (cli/main.ts): what a shell pipeline sees. */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { test } from 'node:test';

test('a reader that goes away (| head) ends the run quietly with status 141, no stack trace', async () => {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', 'src/cli/main.ts', '--host', 'sim:examples/workstation.yaml', '--json', 'scan'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  // Closed before the CLI has started, so its first write meets a pipe with no reader (EPIPE).
  child.stdout.destroy();
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const code = await new Promise<number | null>((done) => child.on('close', (c) => done(c)));
  assert.equal(stderr, '');
  assert.equal(code, 141);
});
