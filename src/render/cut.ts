import { isHighSurrogate, isLowSurrogate } from './text-utils.js';

/** One chunk of a string: text[start, end) is kept, splitting resumes at `next`. */
export interface Cut {
  start: number;
  end: number;
  next: number;
}

/**
 * Break opportunities in order of preference. Each returns candidate chunk ends inside
 * `region`; the last one that fits wins, so chunks are as full as the preferred kind allows.
 */
const BREAKS: Array<(region: string) => number[]> = [
  (r) => matchStarts(r, /\n[ \t]*\n/g), // paragraph
  (r) => matchStarts(r, /\n/g), // line
  (r) => matchEnds(r, /[.!?…。！？]["'”’)\]]*(?=\s)/g), // sentence
  (r) => matchStarts(r, /\s/g), // word
];

function matchStarts(s: string, re: RegExp): number[] {
  const out: number[] = [];
  for (const m of s.matchAll(re)) out.push(m.index ?? 0);
  return out;
}

function matchEnds(s: string, re: RegExp): number[] {
  const out: number[] = [];
  for (const m of s.matchAll(re)) out.push((m.index ?? 0) + m[0].length);
  return out;
}

function trimEnd(text: string, start: number, end: number): number {
  let e = end;
  while (e > start && /\s/.test(text[e - 1])) e--;
  return e;
}

/**
 * After a break, whitespace is consumed up to and including the last newline, so the next
 * chunk keeps the indentation of its first line (code, nested lists) but not the blank lines.
 */
function skipBreak(text: string, from: number): number {
  let i = from;
  let afterNewline = -1;
  while (i < text.length && /\s/.test(text[i])) {
    if (text[i] === '\n') afterNewline = i + 1;
    i++;
  }
  if (i >= text.length) return text.length;
  return afterNewline >= 0 ? afterNewline : i;
}

/**
 * Splits `text` into chunks of at most `budget` UTF-16 code units, breaking at the best
 * boundary available: paragraph, line, sentence, word, else hard (never inside a surrogate
 * pair). Whitespace at each break is dropped; nothing else is lost or reordered.
 * Requires budget >= 2 so that any code point fits.
 */
export function cutText(text: string, budget: number): Cut[] {
  if (!(budget >= 2)) throw new RangeError(`split budget must be at least 2 code units, got ${budget}`);
  const cuts: Cut[] = [];
  let start = skipBreak(text, 0);
  if (start < text.length && !/\S/.test(text.slice(start))) start = text.length;
  while (start < text.length) {
    const fullEnd = trimEnd(text, start, text.length);
    if (fullEnd - start <= budget) {
      cuts.push({ start, end: fullEnd, next: text.length });
      break;
    }
    let limitEnd = start + budget;
    if (isHighSurrogate(text.charCodeAt(limitEnd - 1)) && isLowSurrogate(text.charCodeAt(limitEnd))) limitEnd--;
    // Indentation alone longer than the budget: drop it rather than emit a blank chunk.
    if (!/\S/.test(text.slice(start, limitEnd))) {
      start = start + (text.slice(start).search(/\S/));
      continue;
    }
    const region = text.slice(start, Math.min(text.length, limitEnd + 1));
    let end = -1;
    for (const find of BREAKS) {
      const candidates = find(region)
        .map((i) => start + i)
        .filter((e) => e <= limitEnd && trimEnd(text, start, e) > start);
      if (candidates.length) {
        end = candidates[candidates.length - 1];
        break;
      }
    }
    if (end < 0) {
      cuts.push({ start, end: limitEnd, next: limitEnd });
      start = limitEnd;
      if (start < text.length && /\s/.test(text[start])) start = skipBreak(text, start);
      continue;
    }
    const kept = trimEnd(text, start, end);
    const next = skipBreak(text, end);
    cuts.push({ start, end: kept, next });
    start = next;
  }
  return cuts;
}
