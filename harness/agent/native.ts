/**
 * The native agent (agent-native/, C): the same JSON-lines protocol for DUTs
 * that cannot run Node. Built on demand with `make` into the cache, in a file
 * named by the hash of its sources and target, so it is rebuilt only when
 * they change; the host build is static (musl-gcc), the sparc64 one is
 * cross-compiled (gcc-sparc64-linux-gnu).
 */
import crypto from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { cacheRoot, exists, scratchDir } from '../sys/cache.js';
import { NicmatrixError } from '../codec/errors.js';
import { run } from '../sys/exec.js';
import { projectRoot } from '../sys/paths.js';

/** Which agent program serves a side: the project's Node agent, or the static C one. */
export type AgentKind = 'node' | 'native';
export const AGENT_KINDS: readonly AgentKind[] = ['node', 'native'];

/** Build targets of the native agent: this host's architecture, or the sparc64 guest's. */
export type NativeArch = 'host' | 'sparc64';

export const NATIVE_SOURCE_DIR = path.join(projectRoot, 'agent-native');
/** What each target needs on the build host (named by doctor). */
export const NATIVE_TOOLS: Record<NativeArch, { compiler: string; packages: string[] }> = {
  host: { compiler: 'musl-gcc', packages: ['musl-tools', 'make'] },
  sparc64: { compiler: 'sparc64-linux-gnu-gcc', packages: ['gcc-sparc64-linux-gnu', 'libc6-dev-sparc64-cross', 'make'] },
};

/** Hash of the native agent's sources and build recipe: a new hash means a new binary. */
export async function nativeSourceHash(arch: NativeArch, dir = NATIVE_SOURCE_DIR): Promise<string> {
  const h = crypto.createHash('sha256').update(`nicmatrix-native-agent\0${arch}\0`);
  const files = ['Makefile', ...(await fs.readdir(path.join(dir, 'src'))).filter((f) => /\.[ch]$/.test(f)).map((f) => `src/${f}`)].sort();
  for (const f of files)
    h.update(f)
      .update('\0')
      .update(await fs.readFile(path.join(dir, f)))
      .update('\0');
  return h.digest('hex').slice(0, 16);
}

const building = new Map<string, Promise<string>>();

/** Path of the native agent binary for `arch`, built into the cache if it is not there yet. */
export function nativeAgentPath(arch: NativeArch = 'host', signal?: AbortSignal): Promise<string> {
  const override = process.env.NICMATRIX_NATIVE_AGENT;
  if (arch === 'host' && override) return Promise.resolve(override);
  const key = `${cacheRoot()}\0${arch}`;
  let p = building.get(key);
  if (!p) {
    p = build(arch, signal);
    building.set(key, p);
    // A failed build (missing compiler) may succeed once doctor --install ran.
    p.catch(() => building.delete(key));
  }
  return p;
}

async function build(arch: NativeArch, signal?: AbortSignal): Promise<string> {
  const hash = await nativeSourceHash(arch);
  const out = path.join(cacheRoot(), 'native-agent', `nicmatrix-agent-native-${arch}-${hash}`);
  if (await exists(out)) return out;
  const scratch = await scratchDir(out);
  try {
    const target = arch === 'host' ? 'host' : 'sparc64';
    const r = await run('make', ['-s', '-C', NATIVE_SOURCE_DIR, `OUT=${scratch.dir}`, target], {
      reject: false,
      timeoutMs: 300_000,
      signal,
    });
    if (r.exitCode !== 0) {
      const tools = NATIVE_TOOLS[arch];
      throw new NicmatrixError(
        'PREREQUISITE',
        `native agent (${arch}): \`make ${target}\` in ${NATIVE_SOURCE_DIR} exited ${r.exitCode} (it needs ${tools.compiler}: \`nicmatrix doctor --install\` installs ${tools.packages.join(', ')}): ${(r.stderr || r.stdout).trim().slice(-800)}`,
      );
    }
    const built = path.join(scratch.dir, arch === 'host' ? 'nicmatrix-agent-native' : 'nicmatrix-agent-native.sparc64');
    await fs.rename(built, out).catch(async (e: NodeJS.ErrnoException) => {
      // Another run built the same sources first: theirs is as good as ours.
      if (!(await exists(out))) throw e;
    });
    await pruneOld(path.dirname(out), arch, path.basename(out));
    return out;
  } finally {
    await scratch.done();
  }
}

/** Removes binaries of older sources for the same target (they are small, but pile up over edits). */
async function pruneOld(dir: string, arch: NativeArch, keep: string): Promise<void> {
  for (const name of await fs.readdir(dir)) {
    if (name !== keep && name.startsWith(`nicmatrix-agent-native-${arch}-`) && !name.includes('.tmp-'))
      await fs.rm(path.join(dir, name), { force: true });
  }
}
