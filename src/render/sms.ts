import { SMS_GSM7_MULTI, SMS_GSM7_SINGLE, SMS_UCS2_MULTI, SMS_UCS2_SINGLE } from './limits.js';

/** GSM 03.38 default alphabet, minus ESC (0x1B), which only introduces the extension table. */
const GSM7_BASIC = new Set(
  '@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !"#¤%&\'()*+,-./0123456789:;<=>?' +
    '¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà',
);
/** Extension table: each costs two septets (ESC + char) and the pair must stay in one segment. */
const GSM7_EXTENSION = new Set('\f^{}\\[~]|€');

export type SmsEncoding = 'GSM-7' | 'UCS-2';

export interface SmsSegmentInfo {
  encoding: SmsEncoding;
  /** Number of SMS parts the carrier bills; 0 for an empty text. */
  segments: number;
  /** Characters as a person counts them: Unicode code points. */
  characters: number;
  /** Encoded units actually packed: septets for GSM-7 (extension chars = 2), UTF-16 units for UCS-2. */
  units: number;
  /** Capacity of one segment in `units` for this message: 160/153 (GSM-7) or 70/67 (UCS-2). */
  perSegment: number;
}

export function isGsm7(text: string): boolean {
  for (const ch of text) if (!GSM7_BASIC.has(ch) && !GSM7_EXTENSION.has(ch)) return false;
  return true;
}

/** Septet cost of each character, or null when the text needs UCS-2. */
function gsmCosts(text: string): number[] | null {
  const costs: number[] = [];
  for (const ch of text) {
    if (GSM7_BASIC.has(ch)) costs.push(1);
    else if (GSM7_EXTENSION.has(ch)) costs.push(2);
    else return null;
  }
  return costs;
}

/** Greedy packing of atomic units (escape pairs, surrogate pairs) into parts of `per`. */
function pack(costs: number[], per: number): number {
  let parts = 1;
  let used = 0;
  for (const c of costs) {
    if (used + c > per) {
      parts++;
      used = 0;
    }
    used += c;
  }
  return parts;
}

/**
 * Counts SMS segments the way carriers encode them: GSM-7 when every character is in the
 * basic or extension table, otherwise UCS-2. A multi-part message loses room to the UDH
 * header, and neither an ESC pair nor a surrogate pair is ever split across parts, so a part
 * may hold one unit less than `perSegment`.
 *
 * @example smsSegments('a'.repeat(161)) // {encoding:'GSM-7', segments:2, perSegment:153, ...}
 */
export function smsSegments(text: string): SmsSegmentInfo {
  const characters = [...text].length;
  const gsm = gsmCosts(text);
  const costs = gsm ?? [...text].map((ch) => ch.length);
  const units = costs.reduce((a, b) => a + b, 0);
  const [single, multi] = gsm ? [SMS_GSM7_SINGLE, SMS_GSM7_MULTI] : [SMS_UCS2_SINGLE, SMS_UCS2_MULTI];
  const encoding: SmsEncoding = gsm ? 'GSM-7' : 'UCS-2';
  if (units === 0) return { encoding, segments: 0, characters, units, perSegment: single };
  if (units <= single) return { encoding, segments: 1, characters, units, perSegment: single };
  return { encoding, segments: pack(costs, multi), characters, units, perSegment: multi };
}

const GSM_FRIENDLY: Array<[RegExp, string]> = [
  [/[\u2018\u2019\u201a\u201b\u2032\u00b4\u0060]/g, "'"],
  [/[\u201c\u201d\u201e\u201f\u2033\u00ab\u00bb]/g, '"'],
  [/[\u2010\u2011\u2012\u2013\u2014\u2015\u2212]/g, '-'],
  [/\u2026/g, '...'],
  [/[\u00a0\u2000-\u200a\u202f\u205f\u3000]/g, ' '],
  [/[\u200b-\u200d\u2060\ufeff]/g, ''],
  [/[\u2022\u2023\u2043\u25e6]/g, '-'],
  [/\u2122/g, 'TM'],
  [/\u00a9/g, '(c)'],
  [/\u00ae/g, '(R)'],
];

/**
 * Replaces typographic punctuation (smart quotes, dashes, ellipsis, special spaces, bullets)
 * with GSM-7 equivalents. Agents produce these constantly, and a single one turns a message
 * into UCS-2: 70 instead of 160 characters per segment. Other characters are left as they are.
 *
 * @example toGsm7Friendly('“Hi” — it’s…') // '"Hi" - it\'s...'
 */
export function toGsm7Friendly(text: string): string {
  let s = text;
  for (const [re, rep] of GSM_FRIENDLY) s = s.replace(re, rep);
  return s;
}
