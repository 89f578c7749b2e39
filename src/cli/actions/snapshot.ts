/** What `snapshot` does: the host as a topology file, and where the simulator disagrees with its sysfs. */
import { hostname } from 'node:os';
import { snapshotHost } from '../../capture/snapshot.ts';
import { type Globals, openGlobalHost, writeNewFile } from '../context.ts';
import { json, out } from '../io.ts';

export async function snapshot(g: Globals, output: string): Promise<number> {
  const opened = await openGlobalHost(g);
  const s = snapshotHost(opened.reader, {
    era: g.era,
    name: opened.sim?.host.name ?? hostname(),
    from: opened.origin,
    at: new Date().toISOString(),
  });
  writeNewFile(output, s.yaml);
  if (g.json) {
    json({
      schemaVersion: 1,
      command: 'snapshot',
      ok: true,
      output,
      differences: s.differences,
      losses: s.losses,
      warnings: s.warnings,
    });
    return 0;
  }
  out(`wrote ${output}: ${s.desc.functions.length} functions from ${opened.origin}\n`);
  if (s.differences.length === 0)
    out(
      'the simulator, loaded with it, computes the same IOMMU groups and reset methods as the host shows\n',
    );
  else {
    out(
      `the simulator, loaded with it, differs from the host in ${s.differences.length} place${s.differences.length === 1 ? '' : 's'}:\n`,
    );
    for (const d of s.differences)
      out(
        `  ${d.bdf}  ${d.what}: host ${JSON.stringify(d.host)}, simulated ${JSON.stringify(d.simulated)}\n`,
      );
  }
  for (const w of [...s.warnings, ...s.losses.map((l) => (typeof l === 'string' ? l : JSON.stringify(l)))])
    out(`note: ${w}\n`);
  return 0;
}
