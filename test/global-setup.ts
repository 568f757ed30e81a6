import { execFileSync } from 'node:child_process';

/** Compiles the project once per test run: agents in netns and guests execute dist/. */
export default function setup(): void {
  execFileSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.json'], { stdio: 'inherit' });
}
