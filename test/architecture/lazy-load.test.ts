/**
 * What a run of the CLI loads before its command's action is imported, checked on the import
 * statements: `import type` is erased, every other static import is loaded with its module (with
 * verbatimModuleSyntax even `import { type X }` stays, as `import {}`), and `import()` is where
 * loading stops until the code runs. A scan of a real host must not pay for zod, yaml, d3 or the
 * simulator (issue 9: `scan` no slower than `lspci -tv`).
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { test } from 'node:test';

/** Static runtime imports of one file: relative ones as paths from the repository root, packages by name. */
function staticImports(file: string): { files: string[]; packages: string[] } {
  const text = readFileSync(file, 'utf8');
  const files: string[] = [];
  const packages: string[] = [];
  for (const m of text.matchAll(
    /^(?:import|export)(\s+type)?\s[^'";]*?\sfrom\s+'([^']+)'|^import\s+'([^']+)'/gm,
  )) {
    if (m[1]) continue; // `import type` / `export type`: erased
    const spec = (m[2] ?? m[3])!;
    if (spec.startsWith('.')) files.push(join(dirname(file), spec));
    else if (!spec.startsWith('node:')) packages.push(spec);
  }
  return { files, packages };
}

/** Every module loaded with `roots`, before any `import()` runs. */
function loadedWith(...roots: string[]): { files: string[]; packages: Set<string> } {
  const seen = new Set<string>();
  const packages = new Set<string>();
  const todo = [...roots];
  while (todo.length > 0) {
    const f = todo.pop()!;
    if (seen.has(f)) continue;
    seen.add(f);
    const imports = staticImports(f);
    for (const p of imports.packages) packages.add(p);
    todo.push(...imports.files);
  }
  return { files: [...seen].map((f) => relative('.', f)).sort(), packages };
}

const under = (files: string[], ...dirs: string[]) =>
  files.filter((f) => dirs.some((d) => f.startsWith(`src/${d}/`)));

test('the root command and every registration load commander and nothing of the host, the simulator or the views', () => {
  const { files, packages } = loadedWith('src/cli/main.ts');
  assert.deepEqual([...packages], ['@commander-js/extra-typings']);
  assert.deepEqual(
    under(files, 'host', 'sim', 'topology', 'scenario', 'render', 'serve', 'plan', 'vfio', 'linux'),
    [
      'src/render/json-text.ts', // io.ts writes documents in chunks; json-text.ts imports nothing
    ],
  );
  const registrations = readdirSync('src/cli/commands').map((n) => `src/cli/commands/${n}`);
  assert.deepEqual(
    registrations.filter((f) => !files.includes(f)),
    [],
    'every command registers from program.ts',
  );
  for (const f of registrations)
    assert.deepEqual(
      staticImports(f).files.filter((i) => !i.startsWith('src/cli/commands/')),
      [],
      `${f}: a registration imports only commander and types; its work goes in actions/`,
    );
});

test('scan of a linux host loads neither the simulator nor zod, yaml or d3-hierarchy', () => {
  const { files, packages } = loadedWith('src/cli/main.ts', 'src/cli/actions/scan.ts');
  assert.deepEqual(under(files, 'sim', 'topology', 'scenario', 'serve', 'plan', 'capture'), []);
  assert.deepEqual([...packages], ['@commander-js/extra-typings']);
  // A sim: host is another story: the simulator comes with it, through an import().
  assert.ok(loadedWith('src/cli/open-sim-host.ts').files.includes('src/sim/kernel.ts'));
  assert.match(readFileSync('src/cli/host-spec.ts', 'utf8'), /await import\('\.\/open-sim-host\.ts'\)/);
});
