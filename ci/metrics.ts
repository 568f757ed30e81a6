/**
 * Structure numbers for issue 13, before and after a change: cross-folder import cycles, plain `Error`s,
 * files, lines and the median module size. `npm run build && node dist/ci/metrics.js` from the project root.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { NicmatrixError } from '../matrix/errors.js';

/** Source folders: the code that ships (tests are counted apart, as the numbers are about the product). */
const SOURCE_ROOTS = ['harness', 'drivers', 'matrix', 'reports', 'ci'];

interface CruiseModule {
  source: string;
  dependencies: { resolved: string; coreModule: boolean; couldNotResolve: boolean }[];
}

function cruise(): CruiseModule[] {
  const out = execFileSync(
    'npx',
    ['depcruise', '--no-config', '-T', 'json', '--ts-config', 'tsconfig.check.json', ...SOURCE_ROOTS, 'test'],
    {
      encoding: 'utf8',
      maxBuffer: 256 * 1024 * 1024,
    },
  );
  return (JSON.parse(out) as { modules: CruiseModule[] }).modules;
}

/** Strongly connected sets of folders (Tarjan) with more than one folder: each is a cycle between folders. */
function folderCycles(edges: Map<string, Set<string>>): string[][] {
  let index = 0;
  const idx = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const out: string[][] = [];
  const visit = (v: string): void => {
    idx.set(v, index);
    low.set(v, index++);
    stack.push(v);
    onStack.add(v);
    for (const w of edges.get(v) ?? []) {
      if (!idx.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, idx.get(w)!));
    }
    if (low.get(v) === idx.get(v)) {
      const comp: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        comp.push(w);
      } while (w !== v);
      if (comp.length > 1) out.push(comp.sort());
    }
  };
  for (const v of edges.keys()) if (!idx.has(v)) visit(v);
  return out;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  const hi = s[m];
  if (hi === undefined) throw new NicmatrixError('INTERNAL', 'median: expected one number at least, found none');
  // An even length here is 2 at least, so m - 1 is in range.
  return s.length % 2 ? hi : (s[m - 1]! + hi) / 2;
}

const modules = cruise().filter((m) => m.source.endsWith('.ts'));

/** Folder graph under `folderOf` (a module's own folder, or its top-level folder). */
function folderGraph(folderOf: (file: string) => string): Map<string, Set<string>> {
  const edges = new Map<string, Set<string>>();
  for (const m of modules) {
    const from = folderOf(m.source);
    if (!edges.has(from)) edges.set(from, new Set());
    for (const d of m.dependencies) {
      if (d.coreModule || d.couldNotResolve || d.resolved.startsWith('node_modules')) continue;
      const to = folderOf(d.resolved);
      if (to !== from) edges.get(from)!.add(to);
    }
  }
  return edges;
}
const edges = folderGraph(dirname);
let pairs = 0;
for (const [from, tos] of edges) for (const to of tos) if (from < to && edges.get(to)?.has(from)) pairs++;
const cycles = folderCycles(edges);
const topLevelCycles = folderCycles(folderGraph((f) => f.split('/')[0]!));

const isSource = (f: string): boolean => SOURCE_ROOTS.some((r) => f.startsWith(`${r}/`)) && !f.endsWith('.test.ts');
const sources = modules.map((m) => m.source).filter(isSource);
const tests = modules.map((m) => m.source).filter((f) => !isSource(f));
const lines = (f: string): number => readFileSync(f, 'utf8').split('\n').length - 1;
const sourceLines = sources.map(lines);
let plainErrors = 0;
for (const f of sources) {
  const text = readFileSync(f, 'utf8');
  plainErrors += (text.match(/new Error\(|class (?!NicmatrixError\b)\w+ extends Error\b/g) ?? []).length;
}

console.log(
  JSON.stringify(
    {
      crossFolderCycles: cycles.length,
      foldersInCycles: cycles.reduce((n, c) => n + c.length, 0),
      folderPairsImportingEachOther: pairs,
      cycles,
      topLevelCycles,
      plainErrors,
      sourceFiles: sources.length,
      sourceLines: sourceLines.reduce((a, b) => a + b, 0),
      medianModuleLines: median(sourceLines),
      testFiles: tests.length,
      testLines: tests.map(lines).reduce((a, b) => a + b, 0),
    },
    null,
    2,
  ),
);
