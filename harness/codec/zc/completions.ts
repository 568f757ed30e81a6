/**
 * MSG_ZEROCOPY completion accounting: every send call completed exactly once,
 * no range beyond the calls made, and whether the kernel honoured zero-copy
 * (no SO_EE_CODE_ZEROCOPY_COPIED) or copied. Pure.
 */

/** One error-queue notification: send calls lo..hi (inclusive) completed. */
export interface Completion {
  lo: number;
  hi: number;
  copied: boolean;
}

/** How the kernel treated the sends: honoured (none copied), copied (all), mixed; none when nothing completed. */
export type ZerocopyMode = 'honoured' | 'copied' | 'mixed' | 'none';

export interface CompletionTally {
  calls: number;
  notifications: number;
  completedCalls: number;
  copiedCalls: number;
  zerocopyCalls: number;
  /** Notifications arrived in call order. */
  inOrder: boolean;
  zerocopy: ZerocopyMode;
  /** What is wrong with the notifications; empty when every call completed exactly once. */
  faults: string[];
}

/** `[a-b, c]` text of sorted call numbers, capped. */
export function callRanges(calls: number[], max = 6): string {
  const parts: string[] = [];
  for (let i = 0; i < calls.length && parts.length < max;) {
    let j = i;
    while (j + 1 < calls.length && calls[j + 1] === calls[j]! + 1) j++;
    parts.push(i === j ? `${calls[i]}` : `${calls[i]}-${calls[j]}`);
    i = j + 1;
  }
  const shown = parts.join(', ');
  return parts.length === max ? `${shown}, …` : shown;
}

export function tallyCompletions(calls: number, completions: readonly Completion[]): CompletionTally {
  const seen = new Uint8Array(calls);
  const faults: string[] = [];
  const twice: number[] = [];
  let copied = 0;
  let zc = 0;
  let inOrder = true;
  let prevHi = -1;
  for (const c of completions) {
    if (!Number.isInteger(c.lo) || !Number.isInteger(c.hi) || c.lo > c.hi || c.lo < 0) {
      faults.push(`a notification carries the range ${c.lo}..${c.hi}: expected lo ≤ hi, both ≥ 0`);
      continue;
    }
    if (c.hi >= calls) faults.push(`a notification completes calls ${c.lo}..${c.hi}, but only ${calls} send calls were made`);
    if (c.lo !== prevHi + 1) inOrder = false;
    prevHi = c.hi;
    for (let k = c.lo; k <= Math.min(c.hi, calls - 1); k++) {
      if (seen[k]) twice.push(k);
      seen[k] = 1;
      if (c.copied) copied++;
      else zc++;
    }
  }
  const missing: number[] = [];
  for (let k = 0; k < calls; k++) if (!seen[k]) missing.push(k);
  if (twice.length > 0) faults.push(`${twice.length} send call(s) completed more than once: ${callRanges(twice)}`);
  if (missing.length > 0) faults.push(`${missing.length} of ${calls} send call(s) never completed: ${callRanges(missing)}`);
  const completed = calls - missing.length;
  const zerocopy: ZerocopyMode = completed === 0 ? 'none' : copied === 0 ? 'honoured' : zc === 0 ? 'copied' : 'mixed';
  return {
    calls,
    notifications: completions.length,
    completedCalls: completed,
    copiedCalls: copied,
    zerocopyCalls: zc,
    inOrder,
    zerocopy,
    faults,
  };
}

/** Zero-copy mode of several sockets taken together. */
export function combineModes(modes: readonly ZerocopyMode[]): ZerocopyMode {
  const real = modes.filter((m) => m !== 'none');
  if (real.length === 0) return 'none';
  if (real.every((m) => m === 'honoured')) return 'honoured';
  if (real.every((m) => m === 'copied')) return 'copied';
  return 'mixed';
}
