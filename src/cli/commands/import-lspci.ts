/** `import-lspci <dump> -o file`: an `lspci -xxxx` dump as a topology file; the model computes the rest. */
import type { RegisterCommand } from '../context.ts';

export const registerImportLspci: RegisterCommand = (p, ctx) => {
  p.command('import-lspci')
    .description('turn an `lspci -xxxx` (or -vvvxxxx) dump into a topology file')
    .argument('<dump>', 'text file with the dump')
    .requiredOption('-o, --output <file>', 'new topology file (YAML)')
    .action(
      ctx.act('import-lspci', async (dump: string, o: { output: string }) =>
        (await import('../actions/import-lspci.ts')).importLspci(ctx.globals(), dump, o.output),
      ),
    );
};
