/**
 * The cells of one device, one page: `c/<device>.html#<check>` shows one
 * device × check: one sentence stating the finding (or the level and why),
 * the level and verdict on every kernel, a command that reproduces it, the
 * whole history and the evidence of the runs that matter (the headline and
 * the failures), frames decoded. The sentence, verdict, reproduce command and
 * evidence are HTML (read without script, every check one after another); the
 * two long tables (level per kernel, history) travel as compact JSON that
 * `cell-client.ts` renders for the cell asked for, so 6000 cells are not 6000
 * documents of repeated markup. Pure.
 */
import type { Cell, DeviceRow } from '../../matrix/aggregate.js';
import { claimFeatures } from '../../matrix/claims.js';
import type { DefinitionIndex } from '../../matrix/definitions.js';
import { findingOf } from '../../matrix/findings.js';
import type { Observation } from '../../matrix/history.js';
import { LEVEL_TEXT } from '../../matrix/levels.js';
import type { RunRecord } from '../../matrix/record.js';
import { evidenceHtml } from './evidence.js';
import { cellBadge, esc, page, paths, STATE_TEXT, STATE_TITLE, STATUS_TITLE } from './html.js';

/** Observations whose full evidence a cell shows; the rest are summarised. */
const MAX_EVIDENCE = 8;
const ROOT = '../';

/** Run id → record-relative artifact path → sha256 of the stored file. */
export type ArtifactIndex = ReadonlyMap<string, ReadonlyMap<string, string>>;

export interface CellContext {
  artifacts: ArtifactIndex;
  runs: ReadonlyMap<string, RunRecord>;
  /** Site-relative page of each stored run (`paths.run`, computed once per run). */
  runPaths: ReadonlyMap<string, string>;
  defs: DefinitionIndex;
}

function claimText(c: Cell): string {
  const names = claimFeatures(c.check)
    .map((n) => `<code>${esc(n)}</code>`)
    .join(' / ');
  if (c.claimed === null)
    return names
      ? `No claim could be read (${names} absent from the feature snapshot).`
      : 'This check tests no driver offload: nothing is claimed.';
  return c.claimed ? `The driver claims this offload (${names} on).` : `The driver does not claim this offload (${names} off).`;
}

/** The newest observation on the cell's headline kernel. */
function headObservation(c: Cell): Observation | undefined {
  for (let i = c.history.length - 1; i >= 0; i--) {
    const o = c.history[i]!;
    if (o.kernel === c.kernel) return o;
  }
  return undefined;
}

function evidenceFor(c: Cell): Observation[] {
  const head = headObservation(c);
  const picked: Observation[] = head ? [head] : [];
  for (let i = c.history.length - 1; i >= 0 && picked.length < MAX_EVIDENCE; i--) {
    const o = c.history[i]!;
    if (o !== head && (o.status === 'fail' || o.status === 'error')) picked.push(o);
  }
  return picked;
}

/** The sentence a cell leads with. */
export function leadSentence(c: Cell): string {
  const failed = headObservation(c)?.variants.find((v) => v.status === 'fail');
  if (c.level === 'broken' && failed) return findingOf(c.check, failed);
  return `${LEVEL_TEXT[c.level].charAt(0).toUpperCase()}${LEVEL_TEXT[c.level].slice(1)} on kernel ${c.kernel}: ${c.note}`;
}

/** The shell command that runs this check again on this target, with the run's seed. */
export function reproduceCommand(spec: string, check: string, seed: number | undefined): string {
  const quote = (s: string): string => (/^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);
  return [
    'nicmatrix',
    'run',
    '--target',
    quote(spec),
    '--checks',
    quote(check),
    ...(seed !== undefined ? ['--seed', String(seed)] : []),
  ].join(' ');
}

/**
 * The tables' data of one page, compact: every string is an index into `S`, every run an index
 * into `R` ([id, href or '']). Each cell is two strings of rows joined by `;`, fields by `,`.
 * Level per kernel, newest first: kernel, level, status, regression (1/0), claimed but failed
 * (1/0), note, claimed (1 yes, 0 no, 2 not read), run, finished. History, newest first:
 * finished, kernel, run, spec, level (or empty), status, variant and status pairs joined by `.`,
 * messages joined by `.`.
 */
export interface CellTables {
  S: string[];
  R: [string, string][];
  T: { text: Record<string, string>; title: Record<string, string>; status: Record<string, string> };
  C: [string, string][];
}

function tables(cells: readonly Cell[], runPaths: ReadonlyMap<string, string>): CellTables {
  const S: string[] = [];
  const index = new Map<string, number>();
  const of = (s: string): number => {
    let i = index.get(s);
    if (i === undefined) index.set(s, (i = S.push(s) - 1));
    return i;
  };
  const R: [string, string][] = [];
  const runIndex = new Map<string, number>();
  const run = (id: string): number => {
    let i = runIndex.get(id);
    if (i === undefined) {
      const path = runPaths.get(id);
      runIndex.set(id, (i = R.push([id, path ? ROOT + path : '']) - 1));
    }
    return i;
  };
  const C = cells.map((c): [string, string] => {
    const k: string[] = [];
    for (let i = c.perKernel.length - 1; i >= 0; i--) {
      const v = c.perKernel[i]!;
      const claimed = v.claimed === null ? 2 : v.claimed ? 1 : 0;
      k.push(
        `${of(v.kernel)},${of(v.level)},${of(v.status)},${v.regression ? 1 : 0},${v.claimed === true && v.status === 'fail' ? 1 : 0},${of(v.note)},${claimed},${run(v.runId)},${of(v.finishedAt)}`,
      );
    }
    const h: string[] = [];
    for (let i = c.history.length - 1; i >= 0; i--) {
      const o = c.history[i]!;
      let variants = '';
      let messages = '';
      const seen = new Set<string>();
      for (const v of o.variants) {
        variants += `${variants ? '.' : ''}${of(v.variant)}.${of(v.status)}`;
        if (v.message && !seen.has(v.message)) {
          seen.add(v.message);
          messages += `${messages ? '.' : ''}${of(v.message)}`;
        }
      }
      h.push(
        `${of(o.finishedAt)},${of(o.kernel)},${run(o.runId)},${of(o.spec)},${o.level ? of(o.level.level) : ''},${of(o.status)},${variants},${messages}`,
      );
    }
    return [k.join(';'), h.join(';')];
  });
  return { S, R, T: { text: STATE_TEXT, title: STATE_TITLE, status: STATUS_TITLE }, C };
}

function cellSection(d: DeviceRow, c: Cell, i: number, ctx: CellContext): string {
  const runLink = (id: string): string => {
    const path = ctx.runPaths.get(id);
    return path ? `<a href="${ROOT}${esc(path)}"><code>${esc(id)}</code></a>` : `<code>${esc(id)}</code>`;
  };
  const regressions = c.regressions
    .map(
      (r) =>
        `<li>passed on ${esc(r.from.kernel)} (run ${runLink(r.from.runId)}), failed on ${esc(r.to.kernel)} (run ${runLink(r.to.runId)})${r.across === 'run' ? ', a later run on the same kernel' : ''}</li>`,
    )
    .join('');
  const shown = evidenceFor(c);
  const claims = claimFeatures(c.check);
  const evidence = shown
    .map((o) => {
      const ectx = {
        claimFeatures: claims,
        heading: 5,
        pcapHref: (p: string): string | undefined => {
          const sha = ctx.artifacts.get(o.runId)?.get(p);
          return sha ? ROOT + paths.pcap(sha) : undefined;
        },
      };
      return `<article><h4>${esc(o.kernel)} · run ${runLink(o.runId)} · ${esc(o.finishedAt)}</h4>${o.variants.map((v) => evidenceHtml(v, ectx)).join('')}</article>`;
    })
    .join('');
  const omitted = c.history.length - shown.length;
  const head = shown[0];
  const run = head ? ctx.runs.get(head.runId) : undefined;
  const repro = head
    ? `<h3>Reproduce</h3><p>Runs this check again on the same kind of target with the seed of run ${runLink(head.runId)}:</p><pre class="repro"><code>${esc(reproduceCommand(head.spec, c.check, run?.invocation.seed))}</code></pre>`
    : '';
  const def = ctx.defs.check(c.check);
  return `<section class="cell" id="${esc(c.check)}" data-i="${i}" aria-labelledby="h${i}"><h2 id="h${i}"><code>${esc(c.check)}</code></h2>
<p class="finding${c.level === 'broken' ? '' : ' ok'}">${esc(leadSentence(c))}</p>
<p class="headline">${cellBadge(c)} on kernel ${esc(c.kernel)}${head ? ` · run ${runLink(head.runId)}` : ''}</p>
<p><b>What this check does:</b> ${esc(def.definition)} <b>A pass proves:</b> ${esc(def.proves)} <a href="${ROOT}checks.html#${esc(c.check)}">All checks</a></p>
<p>${claimText(c)}</p>
${c.claimedButFailed ? '<p class="alert">Claimed but broken: the driver advertises this offload and the check found it wrong.</p>' : ''}
${regressions ? `<h3>Regressions</h3><ul class="alert">${regressions}</ul>` : ''}
${repro}
<div class="cell-tables"><p>The level on every kernel is on <a href="${ROOT}${esc(paths.device(d))}">the device page</a>; this cell's full history shows with JavaScript.</p></div>
<h3>Evidence</h3>${evidence}${omitted > 0 ? `<p>${omitted} other observation(s) passed or were not applicable; their evidence is in their run records.</p>` : ''}</section>`;
}

/** The page of every cell of one device; `paths.cell` addresses one of them by its check. */
export function cellsPage(d: DeviceRow, cells: readonly Cell[], ctx: CellContext, generatedAt: string): string {
  const emulated = d.kinds.includes('qemu') ? ' <small>(emulated by QEMU)</small>' : '';
  const data = JSON.stringify(tables(cells, ctx.runPaths)).replace(/</g, '\\u003c');
  const body = `<nav class="crumbs" aria-label="breadcrumb"><a href="${ROOT}index.html">Matrix</a> › <a href="${ROOT}${esc(paths.device(d))}">${esc(d.description)}</a> › <span id="crumb">every check</span></nav>
<h1 id="title">Every check on <span id="dev">${esc(d.description)} <small>(${esc(d.driver)})</small>${emulated}</span></h1>
${cells.map((c, i) => cellSection(d, c, i, ctx)).join('\n')}
<script type="application/json" id="cell-data">${data}</script>`;
  return page({ title: `Every check on ${d.description}`, root: ROOT, body, generatedAt, scripts: ['cell.js'] });
}
