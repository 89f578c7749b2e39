/** Runs the CLI in-process and captures what it writes. */
import { main } from '../../src/cli/program.ts';

export function runCli(...argv: string[]): { code: number; stdout: string; stderr: string } {
  let stdout = '';
  let stderr = '';
  const code = main(argv, { stdout: (s) => (stdout += s), stderr: (s) => (stderr += s) });
  return { code, stdout, stderr };
}
