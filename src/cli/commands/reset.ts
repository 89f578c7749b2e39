/** `reset <bdf>`: a reset through VFIO. Nothing happens without --yes: the default is the dry-run plan. */
import { performance } from 'node:perf_hooks';
import { Option } from '@commander-js/extra-typings';
import { openLinuxHost } from '../../linux/host.ts';
import { checkDestructive, UnsafeOperationError } from '../../linux/safety.ts';
import { infoDocument } from '../../render/json.ts';
import { type ResetRun, renderResetPlan, renderResetText, resetDocument } from '../../render/reset.ts';
import { type ResetMethodChoice, resetDevice, type SessionMode } from '../../vfio/reset-device.ts';
import {
  findFunction,
  type Globals,
  inventoryOf,
  json,
  openGlobalHost,
  out,
  type RegisterCommand,
} from '../context.ts';
import { CommandError, UsageError } from '../errors.ts';
import { simResetRun } from '../sim-reset.ts';

/** `vvvv:dddd` (hex, `0x` optional) → `vvvv:dddd`, or null when it is not one. */
function parseId(text: string): string | null {
  const m = /^(?:0x)?([0-9a-f]{1,4}):(?:0x)?([0-9a-f]{1,4})$/i.exec(text.trim());
  return m ? `${m[1]!.toLowerCase().padStart(4, '0')}:${m[2]!.toLowerCase().padStart(4, '0')}` : null;
}

function reset(
  g: Globals,
  bdfText: string,
  method: ResetMethodChoice,
  yes: boolean,
  mode: SessionMode,
  expect: string | undefined,
): number {
  const opened = openGlobalHost(g);
  const inv = inventoryOf(g, opened);
  const f = findFunction(inv, bdfText);
  if (expect !== undefined) {
    // The device the user means may not be at that address any more (slots, firmware, a new card).
    const want = parseId(expect);
    if (want === null)
      throw new UsageError(`--expect '${expect}' is not a vendor:device id such as 10de:2684`);
    const hex = (n: number) => n.toString(16).padStart(4, '0');
    const found = `${hex(f.vendor)}:${hex(f.device)}`;
    if (found !== want)
      throw new CommandError(
        'VFIO_RESET_E_UNSAFE',
        `${f.bdf} is ${found}, not the ${want} you named (--expect): check the address; nothing was opened or reset`,
      );
  }
  if (!yes) {
    if (g.json)
      json({
        schemaVersion: 1,
        command: 'reset',
        ok: true,
        dryRun: true,
        bdf: f.bdf,
        method,
        function: infoDocument(inv, f).function,
      });
    else out(renderResetPlan(inv, f, method));
    return 0;
  }
  let run: ResetRun;
  if (opened.sim) {
    run = simResetRun(opened.sim, opened.origin, f.bdf, method, mode);
  } else {
    // A real host: refuse unless the IOMMU is on, the device is where the user said, and nothing the
    // host needs (mounted storage, the boot GPU, the default route) shares its group or reset scope.
    const root = opened.spec.kind === 'linux' ? opened.spec.root : '/sys';
    const refusals = checkDestructive(root, '/proc', f.bdf, expect === undefined ? {} : { expectId: expect });
    if (refusals.length > 0) throw new UnsafeOperationError(refusals);
    const host = openLinuxHost(root);
    const t0 = performance.now();
    const report = resetDevice(host, f.bdf, method, () => performance.now(), mode);
    run = { report, origin: opened.origin, durationMs: performance.now() - t0, clock: 'wall', events: [] };
  }
  if (g.json) json(resetDocument(run));
  else out(renderResetText(run));
  return run.report.ok ? 0 : 1;
}

export const registerReset: RegisterCommand = (p, ctx) => {
  p.command('reset')
    .description('reset one function through VFIO (dry run unless --yes)')
    .argument('<bdf>', 'function address')
    .addOption(
      new Option('--method <method>', 'function: VFIO_DEVICE_RESET; hot: bus/slot reset; auto: QEMU’s policy')
        .choices(['function', 'hot', 'auto'] as const)
        .default('auto' as const),
    )
    .addOption(
      new Option(
        '--mode <mode>',
        'group: container + group fds; cdev: iommufd + empty fd array (6.6+); auto: cdev when the kernel offers it',
      )
        .choices(['auto', 'group', 'cdev'] as const)
        .default('auto' as const),
    )
    .option('--yes', 'really do it', false)
    .option(
      '--expect <vendor:device>',
      'refuse unless the function at <bdf> is this device (hex ids, e.g. 10de:2684)',
    )
    .action(
      ctx.act(
        'reset',
        (
          bdf: string,
          o: { method: ResetMethodChoice; yes: boolean; mode: SessionMode; expect?: string | undefined },
        ) => reset(ctx.globals(), bdf, o.method, o.yes, o.mode, o.expect),
      ),
    );
};
