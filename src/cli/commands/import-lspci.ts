/** `import-lspci <dump> -o file`: an `lspci -xxxx` dump as a topology file; the model computes the rest. */
import { basename } from 'node:path';
import { loadLspciFile } from '../../topology/lspci.ts';
import { writeTopology } from '../../topology/write.ts';
import { type Globals, json, out, type RegisterCommand, writeNewFile } from '../context.ts';

function importLspci(g: Globals, dump: string, output: string): number {
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

export const registerImportLspci: RegisterCommand = (p, ctx) => {
  p.command('import-lspci')
    .description('turn an `lspci -xxxx` (or -vvvxxxx) dump into a topology file')
    .argument('<dump>', 'text file with the dump')
    .requiredOption('-o, --output <file>', 'new topology file (YAML)')
    .action(
      ctx.act('import-lspci', (dump: string, o: { output: string }) =>
        importLspci(ctx.globals(), dump, o.output),
      ),
    );
};
