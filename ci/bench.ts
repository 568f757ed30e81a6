/**
 * `npm run bench`: speed and memory targets, measured here and written to
 * out/bench.json with the machine described. Never asserted in tests.
 * Usage: node dist/ci/bench.js [PART…] (parts: txcsum qemu zc site, and when named: matrix stability sunhme).
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { cleanup, installSignalHandlers } from '../harness/sys/cleanup.js';
import { describeError, NicmatrixError } from '../harness/codec/errors.js';

type Part = { name: string; load: () => Promise<() => Promise<Record<string, unknown>>>; onlyWhenNamed?: boolean };

const PARTS: Part[] = [
  { name: 'txcsum', load: async () => (await import('./bench/txcsum.js')).benchTxCsum },
  { name: 'qemu', load: async () => (await import('./bench/qemu.js')).benchQemu },
  { name: 'zc', load: async () => (await import('./bench/zc.js')).benchZc },
  { name: 'site', load: async () => (await import('./bench/site.js')).benchSite },
  // Long: the whole default matrix (once, then N times); only when named.
  { name: 'matrix', load: async () => (await import('./bench/matrix.js')).benchMatrix, onlyWhenNamed: true },
  { name: 'stability', load: async () => (await import('./bench/matrix.js')).benchStability, onlyWhenNamed: true },
  // The sparc64 guest: its first kernel build takes about an hour; only when named.
  { name: 'sunhme', load: async () => (await import('./bench/sunhme.js')).benchSunhme, onlyWhenNamed: true },
];

function machine(): Record<string, unknown> {
  const cpus = os.cpus();
  return {
    hostname: os.hostname(),
    kernel: os.release(),
    arch: os.arch(),
    cpus: cpus.length,
    cpuModel: cpus[0]?.model,
    memoryBytes: os.totalmem(),
    node: process.version,
  };
}

async function bench(argv: string[]): Promise<number> {
  installSignalHandlers();
  const wanted = argv.filter((a) => !a.startsWith('--'));
  const outIdx = argv.indexOf('--out');
  const outFile = outIdx >= 0 ? argv[outIdx + 1] : 'out/bench.json';
  if (outFile === undefined) throw new NicmatrixError('USAGE', 'bench: expected a file after --out, found nothing');
  const result: Record<string, unknown> = { date: new Date().toISOString(), machine: machine() };
  let failed = 0;
  for (const part of PARTS) {
    if (wanted.length > 0 ? !wanted.includes(part.name) : part.onlyWhenNamed) continue;
    process.stderr.write(`bench: ${part.name}…\n`);
    const t0 = Date.now();
    try {
      result[part.name] = { ...(await (await part.load())()), benchWallMs: Date.now() - t0 };
    } catch (e) {
      failed++;
      result[part.name] = { error: describeError(e) };
    } finally {
      await cleanup.runAll();
    }
    process.stderr.write(`bench: ${part.name}: ${JSON.stringify(result[part.name])}\n`);
  }
  await fs.mkdir(path.dirname(outFile), { recursive: true });
  await fs.writeFile(outFile, JSON.stringify(result, null, 2) + '\n');
  process.stdout.write(`bench: results in ${outFile}\n`);
  return failed > 0 ? 2 : 0;
}

process.exitCode = await bench(process.argv.slice(2));
