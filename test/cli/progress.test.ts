import assert from 'node:assert/strict';
import { test } from 'node:test';
import { progressWriter } from '../../src/cli/progress.ts';

const ESC = '\x1b';

function collect(tty: boolean, env: NodeJS.ProcessEnv) {
  let s = '';
  const p = progressWriter('bind', (x) => (s += x), tty, env);
  p(0, 2, 'bind 0000:01:00.0');
  p(2, 2, 'bound');
  return s;
}

test('not a TTY: plain lines, no escape codes, even with colour allowed', () => {
  assert.equal(collect(false, {}), 'bind [0/2] bind 0000:01:00.0\nbind [2/2] bound\n');
});

test('a TTY rewrites one line; dimmed unless NO_COLOR is set (and not empty)', () => {
  const colored = collect(true, {});
  assert.ok(colored.includes(`${ESC}[2m`));
  assert.ok(colored.endsWith('\n'));
  const plain = collect(true, { NO_COLOR: '1' });
  assert.ok(!plain.includes(`${ESC}[2m`), 'no colour');
  assert.ok(plain.startsWith(`\r${ESC}[K`), 'still rewrites the line');
  assert.ok(collect(true, { NO_COLOR: '' }).includes(`${ESC}[2m`), 'empty NO_COLOR does not count');
});
