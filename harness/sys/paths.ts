import { NicmatrixError } from '../codec/errors.js';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The project root: the nearest directory above this module with our package.json. */
export const projectRoot: string = (() => {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = path.join(dir, 'package.json');
    if (fs.existsSync(pkg) && fs.readFileSync(pkg, 'utf8').includes('"name": "nicmatrix"')) return dir;
    const up = path.dirname(dir);
    if (up === dir) throw new NicmatrixError('INTERNAL', `nicmatrix: no package.json of nicmatrix above ${fileURLToPath(import.meta.url)}`);
    dir = up;
  }
})();

/** Compiled agent entry point; tests and the CLI both run the built agent. */
export const agentMainPath = path.join(projectRoot, 'dist', 'harness', 'agent', 'main.js');

/** Project version from package.json, for run records. */
export const toolVersion: string = (JSON.parse(fs.readFileSync(path.join(projectRoot, 'package.json'), 'utf8')) as { version: string })
  .version;
