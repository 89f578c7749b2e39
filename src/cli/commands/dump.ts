/** `dump -o dir`: the sysfs files vfio-reset reads, written out (capture a host or a simulated one). */
import { writeSysfsDump } from '../../host/dump.ts';
import { type Globals, json, openGlobalHost, out, type RegisterCommand } from '../context.ts';

function dump(g: Globals, dir: string): number {
  const opened = openGlobalHost(g);
  const s = writeSysfsDump(opened.reader, dir);
  if (g.json) json({ schemaVersion: 1, command: 'dump', ok: true, ...s });
  else {
    out(
      `wrote ${s.functions} functions (${s.files} files, ${s.links} links) from ${opened.origin} to ${s.dir}\n`,
    );
    if (s.partialConfig.length > 0) {
      out(
        `note: config space of ${s.partialConfig.length} functions was cut to 64 bytes (not root); capabilities will be unknown\n`,
      );
    }
  }
  return 0;
}

export const registerDump: RegisterCommand = (p, ctx) => {
  p.command('dump')
    .description(
      'write the sysfs files vfio-reset reads into a directory (capture a host, or a simulated one)',
    )
    .requiredOption('-o, --output <dir>', 'new or empty directory')
    .action(ctx.act('dump', (o: { output: string }) => dump(ctx.globals(), o.output)));
};
