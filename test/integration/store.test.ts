import { fork } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isNicmatrixError } from '../../matrix/errors.js';
import { DEFAULT_STORE_PATH, MatrixStore, canonicalJson, resolveStorePath } from '../../matrix/store.js';
import { syntheticRuns } from '../../matrix/synthetic.js';
import Database from 'better-sqlite3';
import { combineAttempts } from '../../harness/run/attempts.js';
import { result, vethRun } from '../fixtures/records.js';
import { transpileTree } from '../fixtures/transpile.js';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), `nicmatrix-store-${process.pid}-`));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function writeRecord(name: string, value: unknown): string {
  const file = join(dir, name);
  mkdirSync(join(file, '..'), { recursive: true });
  writeFileSync(file, typeof value === 'string' ? value : JSON.stringify(value, null, 2));
  return file;
}

function errorOf(fn: () => unknown): { code: string; message: string } {
  try {
    fn();
  } catch (e) {
    if (isNicmatrixError(e)) return e;
    throw e;
  }
  throw new Error('expected a NicmatrixError');
}

describe('matrix store', () => {
  it('defaults to .nicmatrix/matrix.db under the current directory', () => {
    expect(DEFAULT_STORE_PATH).toBe('.nicmatrix/matrix.db');
    expect(resolveStorePath(undefined, '/srv/lab')).toBe('/srv/lab/.nicmatrix/matrix.db');
    expect(resolveStorePath('x.db', '/srv/lab')).toBe('/srv/lab/x.db');
  });

  it('refuses to read a store that does not exist', () => {
    expect(errorOf(() => MatrixStore.open(join(dir, 'none.db'), { create: false }))).toMatchObject({
      code: 'STORE',
      message: expect.stringContaining('none.db'),
    });
  });

  it('ingests a record, keeps the raw JSON, and treats the same record again as a no-op', () => {
    const store = MatrixStore.open(join(dir, 'a', 'matrix.db'));
    try {
      const rec = vethRun();
      const file = writeRecord('r1.json', rec);
      expect(store.ingestFile(file)).toMatchObject({ id: rec.id, status: 'added' });
      expect(store.ingestFile(file).status).toBe('unchanged');
      // Same content, keys in another order: still the same record.
      const reordered = Object.fromEntries(Object.entries(rec).reverse());
      expect(store.ingest(reordered, 'mem').status).toBe('unchanged');
      expect(store.runCount()).toBe(1);
      expect(store.resultCount()).toBe(rec.targets[0]!.results.length);
      expect(store.raw(rec.id)).toBe(readFileSync(file, 'utf8'));
      expect(canonicalJson(store.record(rec.id))).toBe(canonicalJson(rec));
    } finally {
      store.close();
    }
  });

  it('keeps the attempts of a flaky verdict as columns, lists them, and fills them in when it migrates a format-1 store', () => {
    const path = join(dir, 'flaky', 'matrix.db');
    const rec = vethRun();
    rec.targets[0]!.results[0] = combineAttempts([
      result('tx-csum/ipv4-udp', 'pass', 'offload-on', 'ok'),
      result('tx-csum/ipv4-udp', 'fail', 'offload-on', 'checksum wrong'),
    ]);
    let store = MatrixStore.open(path);
    try {
      store.ingest(rec, 'mem');
      expect(store.flakyResults()).toEqual([
        expect.objectContaining({
          runId: rec.id,
          checkId: 'tx-csum/ipv4-udp',
          variant: 'offload-on',
          status: 'fail',
          attempts: 2,
          passes: 1,
        }),
      ]);
    } finally {
      store.close();
    }
    // The same data as format 1 held it: no attempt columns.
    const db = new Database(path);
    db.exec('ALTER TABLE results DROP COLUMN attempts; ALTER TABLE results DROP COLUMN passes; PRAGMA user_version = 1;');
    db.close();
    store = MatrixStore.open(path);
    try {
      expect(store.flakyResults()).toEqual([expect.objectContaining({ checkId: 'tx-csum/ipv4-udp', attempts: 2, passes: 1 })]);
      expect(store.resultCount()).toBe(rec.targets[0]!.results.length);
    } finally {
      store.close();
    }
  });

  it('refuses a corrupted record naming the file and field, and keeps what it held', () => {
    const store = MatrixStore.open(join(dir, 'b.db'));
    try {
      const good = vethRun();
      store.ingestFile(writeRecord('good.json', good));
      const bad = vethRun();
      (bad.targets[0]!.results[2] as { status: string }).status = 'broken';
      const badFile = writeRecord('bad.json', bad);
      expect(errorOf(() => store.ingestFile(badFile))).toMatchObject({
        code: 'RECORD_INVALID',
        message: `${badFile}: /targets/0/results/2/status: must be one of pass, fail, unsupported, skip, error`,
      });
      const cut = writeRecord('cut.json', JSON.stringify(vethRun()).slice(0, 200));
      expect(errorOf(() => store.ingestFile(cut)).message).toMatch(/cut\.json: not valid JSON/);
      expect(store.runCount()).toBe(1);
      expect(store.records().map((r) => r.id)).toEqual([good.id]);
    } finally {
      store.close();
    }
  });

  it('refuses a reused run id with other content, changing nothing', () => {
    const store = MatrixStore.open(join(dir, 'c.db'));
    try {
      const rec = vethRun();
      store.ingest(rec, 'first');
      const other = { ...rec, host: { ...rec.host, hostname: 'elsewhere' } };
      expect(errorOf(() => store.ingest(other, 'second.json'))).toMatchObject({
        code: 'STORE',
        message: expect.stringContaining('already stored with different content'),
      });
      expect(store.record(rec.id)?.host.hostname).toBe('testhost');
    } finally {
      store.close();
    }
  });

  it('migrates a v0 record on ingest and refuses a v2 one', () => {
    const store = MatrixStore.open(join(dir, 'd.db'));
    try {
      const cur = vethRun() as unknown as Record<string, unknown>;
      const t = (cur.targets as Record<string, unknown>[])[0]!;
      const { device: _d, dimensions: _x, evidence: _e, ...rest } = t;
      const old = { ...cur, schema: 'nicmatrix.run/0', targets: [rest] };
      expect(store.ingestFile(writeRecord('v0.json', old)).status).toBe('added');
      expect(store.record(cur.id as string)?.targets[0]!.device.description).toBe('veth');
      expect(JSON.parse(store.raw(cur.id as string)!).schema).toBe('nicmatrix.run/0');
      expect(errorOf(() => store.ingestFile(writeRecord('v2.json', { ...vethRun(), schema: 'nicmatrix.run/2' }))).code).toBe(
        'RECORD_VERSION',
      );
      expect(store.runCount()).toBe(1);
    } finally {
      store.close();
    }
  });

  it('stores the pcaps a record references, and never reads outside its directory', () => {
    const store = MatrixStore.open(join(dir, 'e.db'));
    try {
      const rec = vethRun();
      rec.targets[0]!.results[2]!.evidence.pcap = 'pcaps/fail.pcap';
      rec.targets[0]!.results[3]!.evidence.pcap = '../../etc/passwd';
      rec.targets[0]!.results[4]!.evidence.pcap = '/etc/passwd';
      writeRecord('withpcap/pcaps/fail.pcap', 'PCAPDATA');
      const out = store.ingestFile(writeRecord('withpcap/run.json', rec));
      expect(out.artifacts).toBe(1);
      expect(out.missingArtifacts.map((m) => m.path)).toEqual(['../../etc/passwd', '/etc/passwd']);
      const stored = [...store.artifacts()];
      expect(stored.map((a) => [a.runId, a.path, Buffer.from(a.data).toString()])).toEqual([[rec.id, 'pcaps/fail.pcap', 'PCAPDATA']]);
    } finally {
      store.close();
    }
  });

  it('loses nothing when two processes ingest at once', async () => {
    const build = join(dir, 'build');
    transpileTree(['matrix'], build);
    const runs = syntheticRuns({ devices: 20, checks: 15, kernels: 6, devicesPerRun: 2 });
    const files = runs.map((r, i) => writeRecord(`many/r${i}.json`, r));
    const dbPath = join(dir, 'concurrent.db');
    const worker = join(build, 'ingest-worker.mjs');
    writeFileSync(
      worker,
      `import { MatrixStore } from './matrix/store.js';
const store = MatrixStore.open(process.argv[2]);
const counts = { added: 0, unchanged: 0 };
for (const f of process.argv.slice(3)) counts[store.ingestFile(f).status]++;
store.close();
process.send(counts);
`,
    );
    // Both take every record (in opposite orders): each must be stored exactly once.
    const child = (list: string[]): Promise<{ added: number; unchanged: number }> =>
      new Promise((resolvePromise, reject) => {
        let got: { added: number; unchanged: number } | undefined;
        const p = fork(worker, [dbPath, ...list], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
        p.on('message', (m) => (got = m as typeof got));
        p.on('error', reject);
        p.on('exit', (code) => (code === 0 && got ? resolvePromise(got) : reject(new Error(`ingest worker exited ${code}`))));
      });
    const [a, b] = await Promise.all([child(files), child(files.slice().reverse())]);
    expect(a.added + b.added).toBe(runs.length);
    expect(a.unchanged + b.unchanged).toBe(runs.length);
    const store = MatrixStore.open(dbPath, { create: false });
    try {
      expect(store.runCount()).toBe(runs.length);
      expect(store.resultCount()).toBe(runs.reduce((n, r) => n + r.targets.reduce((m, t) => m + t.results.length, 0), 0));
    } finally {
      store.close();
    }
  });
});
