#!/usr/bin/env node
// Node 20's --test neither globs nor discovers .ts files, so the list of test files is built here
// and passed explicitly. Extra arguments are passed through (e.g. --test-name-pattern=G4).
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

function collect(dir) {
  const out = [];
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...collect(p));
    else if (name.endsWith('.test.ts')) out.push(p);
  }
  return out;
}

const args = process.argv.slice(2);
const only = args.filter((a) => !a.startsWith('-'));
const flags = args.filter((a) => a.startsWith('-'));
const files = only.length > 0 ? only : collect('test');
if (files.length === 0) {
  console.error('run-tests: no *.test.ts files found under test/');
  process.exit(1);
}
const r = spawnSync(process.execPath, ['--import', 'tsx', '--test', ...flags, ...files], {
  stdio: 'inherit',
});
process.exit(r.status ?? 1);
