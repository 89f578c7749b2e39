/** `scan`: the PCI tree with group, driver, reset methods and hot-reset scope per function. */
import { Option } from '@commander-js/extra-typings';
import { deviceMetrics } from '../../plan/metrics.ts';
import { scanDocument } from '../../render/json.ts';
import { renderPrometheus } from '../../render/prometheus.ts';
import { renderTopologySvg } from '../../render/svg/svg.ts';
import { renderScan } from '../../render/text.ts';
import { resetCapabilitiesOf } from '../../vfio/strategy.ts';
import {
  type Globals,
  inventoryOf,
  json,
  openGlobalHost,
  out,
  type RegisterCommand,
  writeNewFile,
} from '../context.ts';
import { UsageError } from '../errors.ts';
import { namerOf } from '../names.ts';

export type ScanFormat = 'text' | 'json' | 'prometheus';

function scan(g: Globals, format: ScanFormat | undefined, svg: string | undefined): number {
  if (g.json && format !== undefined && format !== 'json')
    throw new UsageError(`--json and --format ${format} disagree; give one of them`);
  if (svg === '-' && (g.json || format !== undefined))
    throw new UsageError(
      '--svg - writes the picture to stdout; it cannot share stdout with --json or --format',
    );
  const opened = openGlobalHost(g);
  const inv = inventoryOf(g, opened);
  if (svg === '-') {
    out(renderTopologySvg(inv));
    return 0;
  }
  if (svg !== undefined) writeNewFile(svg, renderTopologySvg(inv));
  const f = format ?? (g.json ? 'json' : 'text');
  if (f === 'json') json(scanDocument(inv));
  else if (f === 'prometheus')
    out(
      renderPrometheus(
        inv.host,
        deviceMetrics(inv, (bdf) => resetCapabilitiesOf(opened.reader, bdf)),
      ),
    );
  else out(`${renderScan(inv, namerOf(g))}${svg === undefined ? '' : `picture written to ${svg}\n`}`);
  return 0;
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
      ctx.act('scan', (o: { format?: ScanFormat; svg?: string }) => scan(ctx.globals(), o.format, o.svg)),
    );
};
