/**
 * Agent entry point: `node dist/harness/agent/main.js [--port DEVICE]`.
 * Without --port it serves on stdio (a netns agent); with it, on a character
 * device such as a virtio-serial port (a guest agent).
 */
import fs from 'node:fs';
import { NicmatrixError } from '../codec/errors.js';
import './actions/index.js';
import { serve } from './server.js';

async function agentMain(argv: string[]): Promise<void> {
  const portIdx = argv.indexOf('--port');
  if (portIdx >= 0) {
    const port = argv[portIdx + 1];
    if (port === undefined) throw new NicmatrixError('USAGE', 'agent: expected a device path after --port, found none');
    const input = fs.createReadStream(port);
    const output = fs.createWriteStream(port, { flags: 'w' });
    await serve(input, output);
    output.end();
    return;
  }
  await serve(process.stdin, process.stdout);
}

// The controller ends us by closing our input; signals only need to stop the loop.
process.on('SIGTERM', () => process.stdin.destroy());
agentMain(process.argv.slice(2)).then(
  () => {
    process.exitCode = 0;
  },
  (e: unknown) => {
    process.stderr.write(`nicmatrix-agent: ${e instanceof Error ? e.stack : String(e)}\n`);
    process.exitCode = 2;
  },
);
