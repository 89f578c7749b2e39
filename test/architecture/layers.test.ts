/**
 * The layering of ARCHITECTURE.md, checked on the import statements: pure layers import only
 * themselves, and the simulator never reaches up into the inventory, views or the real kernel.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { test } from 'node:test';

const SRC = 'src';
/** folder → folders it may import from (itself always allowed). */
const ALLOWED: Record<string, string[]> = {
  // Reset probes answer with errno names; both layers are pure.
  pci: ['uapi'],
  uapi: [],
  kernel: ['uapi'],
  sim: ['pci', 'uapi', 'kernel'],
  linux: ['uapi', 'kernel'],
  topology: ['pci'],
  host: ['pci', 'kernel', 'uapi'],
  // Capture a host, simulate it, compare: orchestration over the inventory, simulator and file formats.
  capture: ['host', 'sim', 'topology', 'pci', 'kernel'],
  // The client names blocking devices with the inventory's DeviceRef type.
  vfio: ['uapi', 'kernel', 'pci', 'host'],
  scenario: ['uapi', 'kernel', 'pci', 'vfio', 'sim', 'topology'],
  render: ['host', 'pci', 'vfio', 'scenario', 'sim', 'plan', 'names'],
  // pci.ids: a parser and its file loader, nothing else.
  names: [],
  // The planner: inventory, QEMU's policy (vfio/) and the simulator's timing and what-if copy (sim/).
  plan: ['host', 'pci', 'kernel', 'uapi', 'vfio', 'sim'],
};

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? files(p) : p.endsWith('.ts') ? [p] : [];
  });
}

test('every layer imports only what ARCHITECTURE.md allows', () => {
  const bad: string[] = [];
  for (const file of files(SRC)) {
    const layer = relative(SRC, file).split('/')[0]!;
    const allowed = ALLOWED[layer];
    if (!allowed) continue; // cli/, server/, index.ts: wiring, anything goes
    const text = readFileSync(file, 'utf8');
    // Static imports, and import() too: a module loaded lazily is still a dependency.
    for (const m of text.matchAll(/^(?:import|export)[^'"]*from '(\.[^']+)'|\bimport\(\s*'(\.[^']+)'/gm)) {
      const spec = (m[1] ?? m[2])!;
      const target = relative(SRC, join(dirname(file), spec)).split('/')[0]!;
      if (target !== layer && !allowed.includes(target))
        bad.push(`${file} imports ${spec} (${layer} → ${target})`);
    }
  }
  assert.deepEqual(bad, []);
});

test('only linux/ may import koffi', () => {
  const bad = files(SRC).filter(
    (f) =>
      !f.startsWith(join(SRC, 'linux')) &&
      /(?:from\s+|import\(\s*|require\(\s*)['"]koffi['"]/.test(readFileSync(f, 'utf8')),
  );
  assert.deepEqual(bad, []);
});
