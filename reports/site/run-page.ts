/** One page per run (host, kernel, tool, accelerator, guest kernel and image, invocation, targets) and the runs list. Pure. */
import type { Matrix } from '../../matrix/aggregate.js';
import { deviceKey, slug } from '../../matrix/identity.js';
import type { RunRecord, TargetRecord } from '../../matrix/record.js';
import { esc, facts, page, paths } from './html.js';

const ROOT = '../';

function targetKind(t: TargetRecord): string {
  if (t.kind === 'qemu')
    return `emulated by QEMU (${t.dimensions.accel === 'kvm' ? 'KVM' : t.dimensions.accel === 'tcg' ? 'TCG, no KVM' : (t.dimensions.accel ?? 'accelerator not recorded')})`;
  if (t.kind === 'phys') return 'real hardware';
  return `virtual (${t.kind})`;
}

function str(v: unknown): string | undefined {
  if (v === undefined || v === null) return undefined;
  return typeof v === 'string' ? v : JSON.stringify(v);
}

function targetHtml(t: TargetRecord): string {
  const counts = new Map<string, number>();
  for (const r of t.results) counts.set(r.status, (counts.get(r.status) ?? 0) + 1);
  const image = t.evidence.image as { source?: string; release?: string; hash?: string } | undefined;
  const rows: [string, string | undefined][] = [
    ['kind', targetKind(t)],
    ['device', t.device.description],
    ['PCI id', t.device.pciId],
    ['QEMU model', t.device.model],
    [
      'driver',
      [t.driver.name, t.driver.version && `version ${t.driver.version}`, t.driver.firmware && `firmware ${t.driver.firmware}`]
        .filter(Boolean)
        .join(', '),
    ],
    ['bus', t.driver.bus],
    [t.kind === 'qemu' ? 'guest kernel' : 'kernel', t.kernel],
    [
      'guest image',
      image ? [image.release, image.source, image.hash && `sha256 ${image.hash.slice(0, 16)}…`].filter(Boolean).join(' · ') : undefined,
    ],
    ['accelerator', t.dimensions.accel],
    ['accelerator note', str(t.evidence.accelReason)],
    ['backend', t.dimensions.backend],
    ['boot', t.evidence.bootMs !== undefined ? `${str(t.evidence.bootMs)} ms` : undefined],
    ['setup error', t.setupError && `[${t.setupError.code}] ${t.setupError.message}`],
    ['verdicts', [...counts].map(([s, n]) => `${n} ${s}`).join(', ')],
  ];
  const key = deviceKey(t);
  return `<section aria-labelledby="t-${esc(slug(t.spec))}"><h3 id="t-${esc(slug(t.spec))}"><code>${esc(t.spec)}</code> · <a href="${ROOT}d/${esc(slug(key))}.html">${esc(t.device.description)}</a></h3>${facts(rows)}</section>`;
}

export function runPage(r: RunRecord, generatedAt: string): string {
  const host = facts([
    ['run id', r.id],
    ['started', r.startedAt],
    ['finished', r.finishedAt],
    ['tool', `${r.tool.name} ${r.tool.version}`],
    ['host', r.host.hostname],
    ['host kernel', r.host.kernel],
    ['host arch', r.host.arch],
    ['host OS', r.host.os],
    ['CPUs', String(r.host.cpus)],
    ['memory', `${(r.host.memoryBytes / 2 ** 30).toFixed(1)} GiB`],
    ['command', ['nicmatrix', ...r.invocation.argv].join(' ')],
    ['checks', r.invocation.checks.join(' ')],
    ['seed', String(r.invocation.seed)],
  ]);
  const body = `<nav class="crumbs" aria-label="breadcrumb"><a href="${ROOT}index.html">Matrix</a> › <a href="${ROOT}runs.html">Runs</a> › ${esc(r.id)}</nav>
<h1>Run <code>${esc(r.id)}</code></h1>
<h2>Environment</h2>${host}
<h2>Targets (${r.targets.length})</h2>${r.targets.map(targetHtml).join('\n')}`;
  return page({ title: `Run ${r.id}`, root: ROOT, body, generatedAt });
}

export function runsPage(m: Matrix, runs: readonly RunRecord[], generatedAt: string): string {
  const have = new Set(runs.map((r) => r.id));
  const rows = m.runs
    .slice()
    .reverse()
    .map((r) => {
      const counts = Object.entries(r.counts)
        .filter(([, n]) => n > 0)
        .map(([s, n]) => `${n} ${s}`)
        .join(', ');
      const id = have.has(r.id) ? `<a href="${esc(paths.run(r.id))}"><code>${esc(r.id)}</code></a>` : `<code>${esc(r.id)}</code>`;
      return `<tr><td>${id}</td><td>${esc(r.finishedAt)}</td><td>${esc(r.hostname)}</td><td>${r.targets.map((t) => `<code>${esc(t)}</code>`).join(' ')}</td><td>${esc(counts)}</td></tr>`;
    })
    .join('');
  const body = `<h1>Runs</h1><table class="list"><thead><tr><th scope="col">run</th><th scope="col">finished</th><th scope="col">host</th><th scope="col">targets</th><th scope="col">verdicts</th></tr></thead><tbody>${rows}</tbody></table>`;
  return page({ title: 'Runs', root: '', body, generatedAt });
}
