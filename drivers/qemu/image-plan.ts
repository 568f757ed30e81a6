/**
 * What goes into a guest image (pure): the Debian kernel package from apt's
 * answers, the module set from modules.dep, and the cache key of the inputs.
 */
import crypto from 'node:crypto';

/** Bump when the image layout changes in a way the inputs do not show. */
export const IMAGE_FORMAT = 'nicmatrix-guest/1';

/** The concrete kernel package `linux-image-amd64` depends on (`apt-cache depends` output). */
export function parseAptDepends(text: string, meta = 'linux-image-amd64'): string | undefined {
  const m = /^\s*Depends:\s*(linux-image-[\w.+-]+-amd64)\s*$/m.exec(text);
  if (!m) return undefined;
  return m[1] === meta ? undefined : m[1];
}

/** `Version:` of the first stanza of `apt-cache show --no-all-versions PKG`. */
export function parseAptVersion(text: string): string | undefined {
  return /^Version:\s*(\S+)\s*$/m.exec(text)?.[1];
}

/** Module name as the kernel knows it: file base name, `-` as `_`. */
export function moduleName(file: string): string {
  return (file.split('/').pop() ?? file).replace(/\.ko(\.(xz|gz|zst))?$/, '').replace(/-/g, '_');
}

/** modules.dep: module path (relative to the modules dir) → paths it depends on. */
export function parseModulesDep(text: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const line of text.split('\n')) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const deps = line.slice(colon + 1).trim();
    out.set(line.slice(0, colon).trim(), deps === '' ? [] : deps.split(/\s+/));
  }
  return out;
}

/** Names of built-in modules from modules.builtin (`kernel/…/name.ko` lines). */
export function parseModulesBuiltin(text: string): Set<string> {
  return new Set(
    text
      .split('\n')
      .filter((l) => l.trim() !== '')
      .map(moduleName),
  );
}

/**
 * The module files needed to load `wanted` (by module name), dependencies
 * included, sorted; names neither in modules.dep nor built in are `missing`.
 */
export function moduleClosure(
  dep: Map<string, string[]>,
  builtin: Set<string>,
  wanted: readonly string[],
): { files: string[]; missing: string[]; builtin: string[] } {
  const byName = new Map<string, string>();
  for (const file of dep.keys()) byName.set(moduleName(file), file);
  const files = new Set<string>();
  const missing: string[] = [];
  const inKernel: string[] = [];
  const visit = (file: string) => {
    if (files.has(file)) return;
    files.add(file);
    for (const d of dep.get(file) ?? []) visit(d);
  };
  for (const w of wanted) {
    const name = moduleName(w);
    const file = byName.get(name);
    if (file) visit(file);
    else if (builtin.has(name)) inKernel.push(name);
    else missing.push(name);
  }
  return { files: [...files].sort(), missing, builtin: inKernel };
}

/** Short, file-name-safe digest of the inputs, in order. */
export function inputsHash(parts: readonly (string | Buffer)[]): string {
  const h = crypto.createHash('sha256');
  for (const p of parts) {
    const b = typeof p === 'string' ? Buffer.from(p) : p;
    // Length-prefixed, so ["ab","c"] and ["a","bc"] differ.
    h.update(`${b.length}:`);
    h.update(b);
  }
  return h.digest('hex').slice(0, 16);
}
