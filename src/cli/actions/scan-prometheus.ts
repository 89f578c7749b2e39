/** `scan --format prometheus`: apart from scan.ts because the metrics load the planner, which no other scan needs. */
import type { Inventory } from '../../host/inventory.ts';
import type { SysfsReader } from '../../kernel/sysfs.ts';
import { deviceMetrics } from '../../plan/metrics.ts';
import { renderPrometheus } from '../../render/prometheus.ts';
import { resetCapabilitiesOf } from '../../vfio/strategy.ts';

export function prometheusText(inv: Inventory, reader: SysfsReader): string {
  return renderPrometheus(
    inv.host,
    deviceMetrics(inv, (bdf) => resetCapabilitiesOf(reader, bdf)),
  );
}
