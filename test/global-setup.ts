import { spawnSync } from 'node:child_process';

/**
 * Compiles the project once per test run: agents in netns and guests execute
 * dist/. Type errors are reported here but enforced by `npm run typecheck`
 * (in .ci/run), so one unfinished module does not stop every other test.
 */
export default function setup(): void {
  const r = spawnSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.json'], { encoding: 'utf8' });
  if (r.status !== 0) process.stderr.write(`global-setup: tsc reported errors (dist/ was still emitted):\n${r.stdout}${r.stderr}`);
}
