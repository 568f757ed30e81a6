/**
 * A captured frame for people: a decoded header tree (Ethernet, 802.1Q,
 * IPv4/IPv6, UDP/TCP) and a hex view with offsets, the bytes that differ
 * from what was sent highlighted. Reports never import the harness codec,
 * so this is a small read-only decoder of its own. Pure.
 */
import { esc } from './html.js';

type Node = { label: string; children?: Node[] };

const hex = (b: Uint8Array, from: number, n: number): string =>
  Array.from(b.subarray(from, from + n))
    .map((x) => x.toString(16).padStart(2, '0'))
    .join('');
// Callers read only bytes their length checks cover.
const u16 = (b: Uint8Array, at: number): number => (b[at]! << 8) | b[at + 1]!;
const mac = (b: Uint8Array, at: number): string =>
  Array.from(b.subarray(at, at + 6))
    .map((x) => x.toString(16).padStart(2, '0'))
    .join(':');
const ipv4 = (b: Uint8Array, at: number): string => Array.from(b.subarray(at, at + 4)).join('.');
function ipv6(b: Uint8Array, at: number): string {
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(u16(b, at + i).toString(16));
  return groups.join(':').replace(/(^|:)0(:0)+(:|$)/, '::');
}

export function bytesOf(hexText: string): Uint8Array {
  const clean = hexText.replace(/[^0-9a-f]/gi, '');
  const out = new Uint8Array(clean.length >> 1);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(clean.slice(i * 2, i * 2 + 2), 16);
  return out;
}

function l4(b: Uint8Array, at: number, proto: number): Node | undefined {
  if (proto === 17 && b.length >= at + 8)
    return {
      label: `UDP @${at}: ${u16(b, at)} → ${u16(b, at + 2)}, length ${u16(b, at + 4)}, checksum 0x${hex(b, at + 6, 2)} (bytes ${at + 6}–${at + 7})`,
    };
  if (proto === 6 && b.length >= at + 20) {
    const flags = b[at + 13]!;
    const names = ['FIN', 'SYN', 'RST', 'PSH', 'ACK', 'URG'].filter((_, i) => flags & (1 << i)).join(',');
    return {
      label: `TCP @${at}: ${u16(b, at)} → ${u16(b, at + 2)}, seq ${((b[at + 4]! << 24) >>> 0) + (b[at + 5]! << 16) + (b[at + 6]! << 8) + b[at + 7]!}, flags ${names || 'none'}, checksum 0x${hex(b, at + 16, 2)} (bytes ${at + 16}–${at + 17})`,
    };
  }
  if (proto === 132 && b.length >= at + 12)
    return { label: `SCTP @${at}: ${u16(b, at)} → ${u16(b, at + 2)}, CRC32c 0x${hex(b, at + 8, 4)}` };
  return b.length > at ? { label: `payload @${at}: ${b.length - at} byte(s) captured (protocol ${proto})` } : undefined;
}

/** The header tree of an Ethernet frame (as far as the captured bytes go). */
export function decodeFrame(b: Uint8Array): Node[] {
  if (b.length < 14) return [{ label: `${b.length} byte(s): too short for an Ethernet header` }];
  const nodes: Node[] = [];
  let type = u16(b, 12);
  let at = 14;
  nodes.push({ label: `Ethernet: ${mac(b, 6)} → ${mac(b, 0)}, type 0x${type.toString(16).padStart(4, '0')}` });
  while ((type === 0x8100 || type === 0x88a8) && b.length >= at + 4) {
    nodes.push({
      label: `802.1Q tag @${at - 2}: VLAN ${u16(b, at) & 0xfff}, priority ${b[at]! >> 5}, inner type 0x${u16(b, at + 2).toString(16)}`,
    });
    type = u16(b, at + 2);
    at += 4;
  }
  if (type === 0x0800 && b.length >= at + 20) {
    const ihl = (b[at]! & 0xf) * 4;
    const frag = u16(b, at + 6);
    const ip: Node = {
      label: `IPv4 @${at}: ${ipv4(b, at + 12)} → ${ipv4(b, at + 16)}, header ${ihl} bytes, total ${u16(b, at + 2)}, id ${u16(b, at + 4)}, ttl ${b[at + 8]}, protocol ${b[at + 9]}, header checksum 0x${hex(b, at + 10, 2)}${frag & 0x3fff ? `, fragment offset ${(frag & 0x1fff) * 8}${frag & 0x2000 ? ' (more)' : ''}` : ''}`,
    };
    const inner = frag & 0x1fff ? undefined : l4(b, at + ihl, b[at + 9]!);
    if (inner) ip.children = [inner];
    nodes.push(ip);
  } else if (type === 0x86dd && b.length >= at + 40) {
    let next = b[at + 6]!;
    const ip: Node = {
      label: `IPv6 @${at}: ${ipv6(b, at + 8)} → ${ipv6(b, at + 24)}, payload ${u16(b, at + 4)}, next header ${next}, hop limit ${b[at + 7]}`,
      children: [],
    };
    let p = at + 40;
    // Walk extension headers (hop-by-hop, routing, destination options) to the transport header.
    while ((next === 0 || next === 43 || next === 60) && b.length >= p + 2) {
      ip.children!.push({ label: `extension header ${next} @${p}: ${(b[p + 1]! + 1) * 8} bytes` });
      next = b[p]!;
      p += (b[p + 1]! + 1) * 8;
    }
    const inner = next === 44 ? { label: `fragment header @${p}` } : l4(b, p, next);
    if (inner) ip.children!.push(inner);
    nodes.push(ip);
  } else {
    nodes.push({ label: `payload @${at}: ${b.length - at} byte(s) of EtherType 0x${type.toString(16)}` });
  }
  return nodes;
}

function treeHtml(nodes: Node[]): string {
  return `<ul class="tree">${nodes.map((n) => `<li>${esc(n.label)}${n.children?.length ? treeHtml(n.children) : ''}</li>`).join('')}</ul>`;
}

/** Hex view, 16 bytes a line with offsets; `mark` bytes are highlighted and named for screen readers. */
export function hexView(b: Uint8Array, mark: ReadonlySet<number> = new Set()): string {
  const lines: string[] = [];
  for (let off = 0; off < b.length; off += 16) {
    const cells: string[] = [];
    for (let i = off; i < Math.min(off + 16, b.length); i++) {
      const h = b[i]!.toString(16).padStart(2, '0');
      cells.push(mark.has(i) ? `<mark title="byte ${i} differs from the frame sent">${h}</mark>` : h);
    }
    lines.push(`<span class="off">${off.toString(16).padStart(4, '0')}</span>  ${cells.join(' ')}`);
  }
  return `<div class="hexview" role="figure" aria-label="frame bytes in hex, ${mark.size} differing byte(s) highlighted">${lines.join('\n')}</div>`;
}

/** A frame as a header tree plus hex view. */
export function frameHtml(hexText: string, differing: readonly number[] = []): string {
  const b = bytesOf(hexText);
  const marks = new Set(differing.filter((i) => i < b.length));
  const note = differing.length
    ? `<p>Bytes that differ from the frame sent: ${differing.map((i) => String(i)).join(', ')}${differing.some((i) => i >= b.length) ? ' (some beyond the captured bytes)' : ''}.</p>`
    : '';
  return `${treeHtml(decodeFrame(b))}${note}${hexView(b, marks)}`;
}
