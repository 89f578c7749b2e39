/**
 * Reads a rig run back from `.rig/results/` (summary.json, each topology's results.json and sysfs
 * dump) and runs the differential comparison, for the report and for the rig's own verdict.
 * @module
 */

import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { compareGuestRun, guestTwin, type TopologyComparison } from './differential.ts';
import { firstLine, type GuestResults, parseResults } from './job.ts';
import type { ReportInput, TopologyReport } from './report.ts';
import { TOPOLOGIES } from './topologies.ts';

interface SummaryTopology {
  topology: string;
  problem?: string | null;
  notRun?: { file: string; why: string }[];
  modelDifferences?: string[];
}

export interface RigSummary {
  kernel: string;
  ranAt?: string;
  qemu?: string;
  totalMs?: number;
  topologies: SummaryTopology[];
}

export class RigResultsError extends Error {
  readonly code = 'VFIO_RESET_E_RIG_RESULTS';
}

/** The simulator's view of one guest run; a dump the simulator cannot load is reported, not thrown. */
export function compareTopologyRun(repo: string, outDir: string, results: GuestResults): TopologyComparison {
  try {
    return compareGuestRun(repo, guestTwin(outDir), results);
  } catch (e) {
    const why = `simulator could not load the guest's dump: ${firstLine(e)}`;
    return {
      topology: results.topology,
      kernel: results.kernel,
      scenarios: results.scenarios.map((s) => ({ file: s.file, name: s.name, steps: [], error: why })),
    };
  }
}

export function gatherReport(repo: string, resultsDir: string): ReportInput {
  const summaryFile = join(resultsDir, 'summary.json');
  if (!existsSync(summaryFile))
    throw new RigResultsError(
      `${summaryFile} not found: run the rig first (npm run test:kernel), then regenerate the report`,
    );
  let summary: RigSummary;
  try {
    summary = JSON.parse(readFileSync(summaryFile, 'utf8')) as RigSummary;
  } catch (e) {
    throw new RigResultsError(
      `${summaryFile}: not JSON (${e instanceof Error ? e.message : String(e)}); rerun the rig`,
    );
  }
  const topologies: TopologyReport[] = summary.topologies.map((s) => {
    const outDir = join(resultsDir, s.topology);
    const file = join(outDir, 'results.json');
    let results: GuestResults | null = null;
    let problem = s.problem ?? null;
    if (existsSync(file)) {
      try {
        results = parseResults(readFileSync(file, 'utf8'));
      } catch (e) {
        problem = `${file} unreadable: ${firstLine(e)}`;
      }
    }
    return {
      name: s.topology,
      summary: TOPOLOGIES.find((t) => t.name === s.topology)?.summary ?? '',
      results,
      problem,
      comparison: results ? compareTopologyRun(repo, outDir, results) : null,
      modelDifferences: s.modelDifferences ?? [],
      notRun: s.notRun ?? [],
    };
  });
  return { kernel: summary.kernel, ranAt: summary.ranAt ?? null, qemu: summary.qemu ?? null, topologies };
}
