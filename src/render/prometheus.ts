/**
 * node_exporter textfile format (Prometheus exposition format 0.0.4) for `scan --format
 * prometheus`: one gauge family per fact, HELP and TYPE first, one sample per device labelled
 * bdf, driver, group and host, so a fleet's Prometheus can watch reset readiness across hosts.
 * @module
 */

import type { DeviceMetrics } from '../plan/metrics.ts';

/** Label values escape backslash, double quote and newline. */
function label(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

const FAMILIES: { name: string; help: string; value: (m: DeviceMetrics) => number }[] = [
  {
    name: 'vfio_reset_device_resettable',
    help: 'QEMU would find a reset for the device given to a VM alone (1) or none (0), by the planner',
    value: (m) => (m.resettable ? 1 : 0),
  },
  {
    name: 'vfio_reset_device_reset_methods',
    help: 'Entries in the device reset_method list (0: no function reset)',
    value: (m) => m.resetMethods,
  },
  {
    name: 'vfio_reset_device_hot_reset_scope_functions',
    help: 'PCI functions a hot (slot or bus) reset of the device resets (0: no hot reset possible)',
    value: (m) => m.hotResetScope,
  },
  {
    name: 'vfio_reset_device_iommu_group_functions',
    help: 'PCI functions in the device IOMMU group (0: no group)',
    value: (m) => m.groupSize,
  },
  {
    name: 'vfio_reset_device_bound_to_vfio',
    help: 'The device is bound to vfio-pci (1) or not (0)',
    value: (m) => (m.boundToVfio ? 1 : 0),
  },
  {
    name: 'vfio_reset_device_blockers',
    help: 'Problems that stop a reset of the device through VFIO now (vfio-reset info <bdf> names them)',
    value: (m) => m.blockers,
  },
];

export function renderPrometheus(host: string, metrics: DeviceMetrics[]): string {
  const L: string[] = [];
  for (const f of FAMILIES) {
    L.push(`# HELP ${f.name} ${f.help}`, `# TYPE ${f.name} gauge`);
    for (const m of metrics) {
      const labels = `bdf="${label(m.bdf)}",driver="${label(m.driver ?? 'none')}",group="${m.group ?? 'none'}",host="${label(host)}"`;
      L.push(`${f.name}{${labels}} ${f.value(m)}`);
    }
  }
  return `${L.join('\n')}\n`;
}
