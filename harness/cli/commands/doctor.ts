import { PREREQS, type Prereq } from '../../sys/prereqs.js';
import { NicmatrixError } from '../../codec/errors.js';
import { run } from '../../sys/exec.js';
import { type CommandIO, defineCommand } from './command.js';

/** apt can take long on a slow mirror; nothing else in doctor does. */
const APT_TIMEOUT_MS = 20 * 60_000;

async function probeAll(list: readonly Prereq[]) {
  return Promise.all(list.map(async (p) => ({ p, r: await p.probe().catch((e: unknown) => ({ ok: false, found: String(e) })) })));
}

function show(io: CommandIO, results: Awaited<ReturnType<typeof probeAll>>): void {
  for (const { p, r } of results) {
    const how = r.ok ? '' : p.pkg ? ` — install: apt-get install ${p.pkg} (or nicmatrix doctor --install)` : p.fix ? ` — ${p.fix}` : '';
    io.out(`${r.ok ? 'ok     ' : 'MISSING'} ${p.name} [${p.for}]: ${r.found}${how}`);
  }
}

export const command = defineCommand({
  usage: [
    'usage: nicmatrix doctor [--install] [--no-guest]',
    '',
    '  --install    install missing Debian packages (as root) and build the QEMU guest image',
    '  --no-guest   with --install: do not build the guest image',
    '',
    'Exit status 0 when everything the core needs is present, 2 otherwise.',
  ].join('\n'),
  options: { install: { type: 'boolean' }, 'no-guest': { type: 'boolean' } },
  async run({ values }, io) {
    let results = await probeAll(PREREQS);
    if (values.install) {
      const pkgs = [...new Set(results.filter(({ r, p }) => !r.ok && p.pkg).map(({ p }) => p.pkg!))];
      if (pkgs.length > 0) {
        if (process.getuid?.() !== 0)
          throw new NicmatrixError('PREREQUISITE', `doctor --install: installing ${pkgs.join(' ')} needs root; run it with sudo`);
        io.err(`doctor: installing ${pkgs.join(' ')}`);
        await run('apt-get', ['update', '-qq'], { timeoutMs: APT_TIMEOUT_MS });
        await run('env', ['DEBIAN_FRONTEND=noninteractive', 'apt-get', 'install', '-y', '-qq', '--no-install-recommends', ...pkgs], {
          timeoutMs: APT_TIMEOUT_MS,
        });
        results = await probeAll(PREREQS);
      }
      if (!values['no-guest']) {
        const { prepareGuest } = await import('../../../drivers/qemu/prepare.js');
        io.err('doctor: preparing the QEMU guest image (kernel from Debian, initramfs)');
        const msg = await prepareGuest((line: string) => io.err(`doctor: ${line}`));
        io.out(`ok      QEMU guest image: ${msg}`);
      }
    }
    show(io, results);
    const { acceleratorLine, guestImageLine } = await import('../../../drivers/qemu/readiness.js');
    io.out(`info    QEMU accelerator [qemu]: ${await acceleratorLine()}`);
    const image = await guestImageLine();
    io.out(`${image.ok ? 'ok     ' : 'info   '} QEMU guest image [qemu]: ${image.line}`);
    const missingCore = results.filter(({ p, r }) => p.for === 'core' && !r.ok);
    if (missingCore.length > 0) {
      io.err(`doctor: ${missingCore.length} core prerequisite(s) missing: ${missingCore.map(({ p }) => p.name).join('; ')}`);
      return 2;
    }
    return 0;
  },
});
