/** What `run` does: a scenario file step by step against the simulated kernel. */
import { resolve } from 'node:path';
import { renderScenarioNdjson, renderScenarioText } from '../../render/scenario.ts';
import { loadScenarioFile } from '../../scenario/load.ts';
import { runScenario } from '../../scenario/run.ts';
import { simTarget } from '../../scenario/targets.ts';
import { SimKernel } from '../../sim/kernel.ts';
import { loadTopologyFile } from '../../topology/load.ts';
import { type Globals, openGlobalHost, requireSim } from '../context.ts';
import { out } from '../io.ts';

/** Its own `topology:` is simulated unless --host names another host. */
export async function run(g: Globals, file: string, hostGiven: boolean): Promise<number> {
  const { scenario, dir } = loadScenarioFile(file);
  const era = scenario.era ?? g.era;
  let kernel: SimKernel;
  let origin: string;
  if (hostGiven || !scenario.topology) {
    const opened = await openGlobalHost({ ...g, era });
    kernel = requireSim(opened, 'running a scenario');
    origin = opened.origin;
  } else {
    const topo = resolve(dir, scenario.topology);
    kernel = new SimKernel(loadTopologyFile(topo), { era });
    origin = `sim:${topo}`;
  }
  const result = runScenario(simTarget(kernel), scenario);
  if (g.json) out(renderScenarioNdjson(result));
  else out(`host ${origin}, rules of Linux ${era}\n${renderScenarioText(result)}`);
  return result.failed === 0 ? 0 : 1;
}
