/** `nicmatrix doctor --install`: build the guest image and probe the accelerator ahead of a run. */
import { chooseAccel } from './accel.js';
import { cacheRoot } from '../../harness/sys/cache.js';
import { ensureGuestImage } from './image.js';

/** Builds (or finds) the default guest image; returns one line saying what is ready. */
export async function prepareGuest(log: (line: string) => void = () => undefined, signal?: AbortSignal): Promise<string> {
  log(`cache directory ${cacheRoot()} (override with NICMATRIX_CACHE)`);
  const image = await ensureGuestImage({}, signal);
  log(`kernel ${image.source} (${image.release}), boot file ${image.kernel}`);
  log(`initramfs ${image.initrd}`);
  const accel = await chooseAccel('auto', image);
  return `${image.source}, kernel ${image.release}, initramfs ${image.hash}; accelerator ${accel.accel} (${accel.reason})`;
}
