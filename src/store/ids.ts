/**
 * Row ids for the high-volume tables (events, messages, conversations): UUID version 7 (RFC 9562),
 * a 48-bit millisecond timestamp followed by random bits. Random (v4) ids land anywhere in the
 * primary-key B-tree, so every insert dirties a different page and each commit writes them all;
 * time-ordered ids append to the same few pages. They are still ordinary UUIDs to API clients.
 */
import { randomFillSync } from 'node:crypto';

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));
const pool = Buffer.alloc(16 * 256);
let poolAt = pool.length;

export function newId(now = Date.now()): string {
  if (poolAt === pool.length) {
    randomFillSync(pool);
    poolAt = 0;
  }
  const b = pool.subarray(poolAt, poolAt + 16);
  poolAt += 16;
  // 48-bit big-endian milliseconds.
  const hi = Math.floor(now / 2 ** 16);
  b[0] = (hi >>> 24) & 0xff;
  b[1] = (hi >>> 16) & 0xff;
  b[2] = (hi >>> 8) & 0xff;
  b[3] = hi & 0xff;
  b[4] = (now >>> 8) & 0xff;
  b[5] = now & 0xff;
  b[6] = (b[6] & 0x0f) | 0x70; // version 7
  b[8] = (b[8] & 0x3f) | 0x80; // RFC 9562 variant
  let s = '';
  for (let i = 0; i < 16; i++) {
    s += HEX[b[i]];
    if (i === 3 || i === 5 || i === 7 || i === 9) s += '-';
  }
  return s;
}
