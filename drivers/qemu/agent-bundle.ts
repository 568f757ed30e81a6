/**
 * The agent a guest runs, as one file: reading ~200 modules one by one over
 * 9p under TCG costs seconds of start-up. esbuild bundles the compiled agent
 * beside it in dist/ (koffi stays external: a native module, loaded from the
 * project's node_modules, a handful of files); rebuilt when a compiled input
 * is newer. Without esbuild the guest runs the unbundled agent.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { NicmatrixError } from '../../harness/codec/errors.js';
import { agentMainPath } from '../../harness/sys/paths.js';
import { writeAtomic } from '../../harness/sys/cache.js';

/** The bundle, beside the compiled entry point (so `koffi` resolves from the project's node_modules). */
export const AGENT_BUNDLE_PATH = path.join(path.dirname(agentMainPath), 'main.bundle.mjs');
const META_PATH = `${AGENT_BUNDLE_PATH}.inputs.json`;

/** ESM output has no `require`; bundled CommonJS packages (cross-spawn) call it for node's built-ins. */
const REQUIRE_SHIM =
  "import { createRequire as __nmCreateRequire } from 'node:module'; const require = __nmCreateRequire(import.meta.url);";

export interface AgentEntry {
  /** File the guest's node runs. */
  path: string;
  bundled: boolean;
  /** Why the bundle is not used, or how it was obtained. */
  note: string;
}

let pending: Promise<AgentEntry> | undefined;

/** The bundle (built once per process when missing or stale), else the unbundled agent with the reason. */
export function ensureAgentBundle(): Promise<AgentEntry> {
  pending ??= build().catch((e: unknown) => {
    pending = undefined;
    return { path: agentMainPath, bundled: false, note: `bundling failed: ${e instanceof Error ? e.message.split('\n')[0] : String(e)}` };
  });
  return pending;
}

async function isFresh(): Promise<boolean> {
  try {
    const [bundle, meta] = await Promise.all([fs.stat(AGENT_BUNDLE_PATH), fs.readFile(META_PATH, 'utf8')]);
    const inputs = JSON.parse(meta) as string[];
    const stats = await Promise.all(inputs.map((f) => fs.stat(f)));
    return stats.every((s) => s.mtimeMs <= bundle.mtimeMs);
  } catch {
    return false;
  }
}

async function build(): Promise<AgentEntry> {
  if (await isFresh()) return { path: AGENT_BUNDLE_PATH, bundled: true, note: 'up to date' };
  let esbuild: typeof import('esbuild');
  try {
    esbuild = await import('esbuild');
  } catch {
    return { path: agentMainPath, bundled: false, note: 'esbuild is not installed' };
  }
  const t0 = Date.now();
  const r = await esbuild.build({
    entryPoints: [agentMainPath],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    external: ['koffi'],
    banner: { js: REQUIRE_SHIM },
    write: false,
    metafile: true,
    logLevel: 'silent',
  });
  const cwd = process.cwd();
  const inputs = Object.keys(r.metafile.inputs).map((f) => path.resolve(cwd, f));
  const [out] = r.outputFiles;
  if (!out) throw new NicmatrixError('INTERNAL', `esbuild ${agentMainPath}: expected one output file, found none`);
  await writeAtomic(AGENT_BUNDLE_PATH, Buffer.from(out.contents));
  await writeAtomic(META_PATH, JSON.stringify(inputs));
  return { path: AGENT_BUNDLE_PATH, bundled: true, note: `built in ${Date.now() - t0} ms from ${inputs.length} modules` };
}
