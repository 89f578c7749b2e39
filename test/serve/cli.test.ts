/**
 * `vfio-reset serve` as a user runs it: a child process that prints its URL (--port 0 picks a free
 * port), answers there, and stops on SIGTERM; bad ports are usage errors, a busy port one clear line.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { test } from 'node:test';
import { main } from '../../src/cli/program.ts';
import { call } from './helpers.ts';

function start(...args: string[]): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/** Resolves with everything the child printed once `done` accepts it, or once it exits. */
function output(child: ChildProcess, done: (stdout: string) => boolean) {
  return new Promise<{ stdout: string; stderr: string; code: number | null }>((resolve) => {
    let stdout = '';
    let stderr = '';
    const finish = (code: number | null) => resolve({ stdout, stderr, code });
    child.stdout!.on('data', (d) => {
      stdout += d;
      if (done(stdout)) finish(null);
    });
    child.stderr!.on('data', (d) => {
      stderr += d;
    });
    child.on('exit', (code) => finish(code));
  });
}

function stopped(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => {
    if (child.exitCode !== null) resolve(child.exitCode);
    else child.on('exit', (code) => resolve(code));
  });
}

test('serve --port 0 prints the URL, answers there, and stops cleanly on SIGTERM', async () => {
  const child = start('--host', 'sim:examples/workstation.yaml', 'serve', '--port', '0');
  try {
    const o = await output(child, (s) => s.includes('\n'));
    const m = o.stdout.match(/serving sim:examples\/workstation\.yaml at (http:\/\/127\.0\.0\.1:(\d+)\/)/);
    assert.ok(m, `stdout: ${o.stdout} stderr: ${o.stderr}`);
    const r = await call(Number(m[2]), 'GET', '/api/host');
    assert.deepEqual([r.status, r.doc.host, r.doc.simulated], [200, 'workstation', true]);
  } finally {
    child.kill('SIGTERM');
  }
  assert.equal(await stopped(child), 0);
});

test('serve --json prints one document with the URL', async () => {
  const child = start('--host', 'sim:examples/qemu-ppb.yaml', '--json', 'serve', '--port', '0');
  try {
    const o = await output(child, (s) => s.trim().endsWith('}'));
    const doc = JSON.parse(o.stdout);
    assert.deepEqual([doc.command, doc.ok], ['serve', true]);
    assert.match(doc.url, /^http:\/\/127\.0\.0\.1:\d+\/$/);
  } finally {
    child.kill('SIGTERM');
  }
  await stopped(child);
});

test('a port in use: one line naming the port and what to do, exit 1', async () => {
  const blocker = createServer();
  await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
  const port = (blocker.address() as { port: number }).port;
  try {
    const child = start('--host', 'sim:examples/qemu-ppb.yaml', 'serve', '--port', String(port));
    const o = await output(child, () => false);
    assert.equal(o.code, 1);
    assert.equal(
      o.stderr.trim(),
      `vfio-reset: port ${port} on 127.0.0.1 is in use; choose another with --port (0 picks a free one)`,
    );
  } finally {
    blocker.close();
  }
});

test('serve --port must be a port: usage error (exit 2), before anything listens', async () => {
  for (const bad of ['abc', '-1', '65536', '80.5', '']) {
    let stderr = '';
    const code = await main(['--host', 'sim:examples/qemu-ppb.yaml', 'serve', '--port', bad], {
      stdout: () => {},
      stderr: (s) => {
        stderr += s;
      },
    });
    assert.equal(code, 2, bad);
    assert.match(stderr, /--port <n>.*a TCP port from 1 to 65535, or 0 for a free one/, bad);
  }
});

test('serve on a host that cannot be read fails before listening', async () => {
  let stderr = '';
  const code = await main(['--host', 'sim:does/not/exist.yaml', 'serve', '--port', '0'], {
    stdout: () => {},
    stderr: (s) => {
      stderr += s;
    },
  });
  assert.equal(code, 2);
  assert.match(stderr, /--host sim:does\/not\/exist\.yaml: no such file or directory/);
});
