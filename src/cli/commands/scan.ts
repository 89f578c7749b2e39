/** `scan`: the PCI tree with group, driver, reset methods and hot-reset scope per function. */
import { Option } from '@commander-js/extra-typings';
import type { RegisterCommand } from '../context.ts';

export type ScanFormat = 'text' | 'json' | 'prometheus';
export interface ScanOptions {
  format?: ScanFormat;
  svg?: string;
}

export const registerScan: RegisterCommand = (p, ctx) => {
  p.command('scan')
    .description('the PCI tree with IOMMU group, driver, reset methods and hot-reset scope per function')
    .addOption(
      new Option(
        '--format <format>',
        'text (default), json (as --json), or prometheus: node_exporter textfile metrics of reset readiness',
      ).choices(['text', 'json', 'prometheus'] as const),
    )
    .option('--svg <file>', 'also draw the tree as an SVG picture into a new file (- for stdout only)')
    .action(
      ctx.act('scan', async (o: ScanOptions) => (await import('../actions/scan.ts')).scan(ctx.globals(), o)),
    );
};
