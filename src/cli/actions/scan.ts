/**
 * What `scan` does: the inventory of the chosen host, as text, JSON, Prometheus metrics or SVG.
 * The picture (d3-hierarchy) and the metrics (the planner) are imported only when asked for.
 */
import { scanDocument } from '../../render/json.ts';
import { renderScan } from '../../render/text.ts';
import type { ScanOptions } from '../commands/scan.ts';
import { type Globals, inventoryOf, openGlobalHost, writeNewFile } from '../context.ts';
import { UsageError } from '../errors.ts';
import { json, out } from '../io.ts';
import { namerOf } from '../names.ts';

export async function scan(g: Globals, { format, svg }: ScanOptions): Promise<number> {
  if (g.json && format !== undefined && format !== 'json')
    throw new UsageError(`--json and --format ${format} disagree; give one of them`);
  if (svg === '-' && (g.json || format !== undefined))
    throw new UsageError(
      '--svg - writes the picture to stdout; it cannot share stdout with --json or --format',
    );
  const opened = await openGlobalHost(g);
  const inv = inventoryOf(g, opened);
  if (svg !== undefined) {
    const { renderTopologySvg } = await import('../../render/svg/svg.ts');
    if (svg === '-') {
      out(renderTopologySvg(inv));
      return 0;
    }
    writeNewFile(svg, renderTopologySvg(inv));
  }
  const f = format ?? (g.json ? 'json' : 'text');
  if (f === 'json') json(scanDocument(inv));
  else if (f === 'prometheus') out((await import('./scan-prometheus.ts')).prometheusText(inv, opened.reader));
  else out(`${renderScan(inv, namerOf(g))}${svg === undefined ? '' : `picture written to ${svg}\n`}`);
  return 0;
}
