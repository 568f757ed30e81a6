import { describe, expect, it } from 'vitest';
import { firmwareSourceLine, parseFirmwareNames } from '../../drivers/qemu/firmware.js';

describe('guest firmware', () => {
  it('reads the firmware names modinfo prints, once each, never a path that leaves /lib/firmware', () => {
    const text = 'e100/d102e_ucode.bin\ne100/d101s_ucode.bin\n\ne100/d101m_ucode.bin\ne100/d102e_ucode.bin\n/etc/passwd\n../x\n';
    expect(parseFirmwareNames(text)).toEqual(['e100/d101m_ucode.bin', 'e100/d101s_ucode.bin', 'e100/d102e_ucode.bin']);
    expect(parseFirmwareNames('')).toEqual([]);
  });
  it("names Debian's non-free-firmware component of the host's release, signed by Debian's keyring", () => {
    expect(firmwareSourceLine('bookworm')).toBe(
      'deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian bookworm non-free-firmware\n',
    );
  });
});
