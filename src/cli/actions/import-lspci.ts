/** What `import-lspci` does: an `lspci -xxxx` dump as a topology file; the model computes the rest. */
import { basename } from 'node:path';
import { loadLspciFile } from '../../topology/lspci.ts';
import { writeTopology } from '../../topology/write.ts';
import { type Globals, writeNewFile } from '../context.ts';
import { json, out } from '../io.ts';

export function importLspci(g: Globals, dump: string, output: string): number {
  const { host, warnings } = loadLspciFile(dump, { name: basename(dump) });
  const { yaml, losses } = writeTopology(host, {
    header: [`Imported from ${dump} (lspci -xxxx) at ${new Date().toISOString()}`],
  });
  writeNewFile(output, yaml);
  if (g.json)
    json({
      schemaVersion: 1,
      command: 'import-lspci',
      ok: true,
      output,
      functions: host.functions.length,
      warnings,
      losses,
    });
  else {
    out(`wrote ${output}: ${host.functions.length} functions from ${dump}\n`);
    for (const w of warnings) out(`note: ${w}\n`);
  }
  return 0;
}
