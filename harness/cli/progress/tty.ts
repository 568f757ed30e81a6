/** Terminal progress: a status line redrawn in place, with non-pass verdicts printed above it. */
import type { RunListener } from '../../run/listener.js';
import { lineProgress } from './lines.js';

export function ttyProgress(stream: NodeJS.WriteStream): RunListener {
  const lines = lineProgress((l) => print(l), false, true);
  const active = new Map<string, string>();
  let done = 0;
  let ended = false;
  const clear = () => stream.write('\r\x1b[2K');
  const status = () => {
    if (ended) return;
    const now = [...active].map(([t, c]) => `${t}: ${c}`).join(' | ');
    stream.write(`\r\x1b[2K${done} verdict(s) ${now}`.slice(0, (stream.columns ?? 100) - 1));
  };
  const print = (line: string) => {
    clear();
    stream.write(line + '\n');
    status();
  };
  return {
    ...lines,
    onVariantStart: (spec, check, variant) => {
      active.set(spec, `${check} [${variant}]`);
      status();
    },
    onTargetFailed: (spec, f) => lines.onTargetFailed?.(spec, f),
    onResult: (spec, r) => {
      done++;
      lines.onResult?.(spec, r);
      status();
    },
    onTargetEnd: (spec, t) => {
      active.delete(spec);
      lines.onTargetEnd?.(spec, t);
    },
    onRunEnd: (rec, file) => {
      ended = true;
      clear();
      lines.onRunEnd?.(rec, file);
    },
  };
}
