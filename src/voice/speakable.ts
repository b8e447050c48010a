/**
 * Turns an agent's Markdown, arriving as deltas, into speakable text as early as it is safe to:
 * whole lines go through renderSpeech (headings, list items, links, code fences); a line still
 * arriving is spoken up to its last word boundary that is not inside a link, inline code or tag,
 * so the first words reach the voice before the first sentence is complete.
 *
 * @example
 *   const s = new SpeakableStream();
 *   s.push('**Sure**, see [the docs](https://x.y/z) ');  // 'Sure, see the docs'
 *   s.end();                                              // ''
 */
import { renderSpeech } from '../render/speech.js';

// Placed before a mid-line fragment so Markdown never reads it as a block (`1. `, `- `, `# `).
const NOT_A_BLOCK = '\u2060';
const FENCE = /^\s{0,3}(```|~~~)/;
const ENDS_SENTENCE = /[.!?:;…]["')\]]*$/;
/** A line start that cannot be classified yet (a marker with nothing after it). */
const UNDECIDED = /^\s*(#{1,6}|[-*+]|\d{1,9}[.)]?|>)$/;
/** Lines spoken only whole: fences, tables, raw HTML. */
const WHOLE_LINE = /^\s*[`~|<]/;
const HEADING = /^\s{0,3}#{1,6}\s+/;
const ITEM = /^\s{0,3}(?:[-*+]|\d{1,9}[.)])\s+/;
const QUOTE = /^\s{0,3}>\s?/;
/** A word that may still become a URL or markup: held back until the next delta shows more. */
const MAYBE_URL = /^(h(t(t(ps?)?)?)?|w(w(w)?)?)$/i;

function speakInline(fragment: string): string {
  // Punctuation alone (the '.' after a word already spoken) would be dropped by renderSpeech.
  if (!/[\p{L}\p{N}]/u.test(fragment)) return (fragment.match(/[.,!?;:…]/g) ?? []).join('');
  return renderSpeech(NOT_A_BLOCK + fragment).replace(/\u2060/g, '').replace(/\n/g, ' ').trim();
}

/** Whether text ending here leaves a link, tag or inline code open. */
function leavesOpen(p: string): boolean {
  const bracket = p.lastIndexOf('[');
  if (bracket >= 0 && !/^\[[^\]]*\](?:\([^)\s]*\)|[^(])/.test(p.slice(bracket))) return true;
  if (p.lastIndexOf('<') > p.lastIndexOf('>')) return true;
  return (p.match(/`/g)?.length ?? 0) % 2 === 1;
}

/** Where `t` may be cut: after whitespace, never inside `[text](url)`, `<...>` or `code`. */
function safeCut(t: string): number {
  if (!leavesOpen(t)) {
    // The whole text, when its last word is plain: the first token need not wait for the next.
    const tail = /\S*$/.exec(t)?.[0] ?? '';
    if (tail && /^[\p{L}\p{N}'’.,;!?-]+$/u.test(tail) && !MAYBE_URL.test(tail) && !/^www\./i.test(tail)) return t.length;
    if (/\]\([^)\s]*\)[.,;!?]?$/.test(t)) return t.length; // ends with a complete link
  }
  for (let i = t.length; i > 0; i--) if (/\s/.test(t[i - 1]) && !leavesOpen(t.slice(0, i))) return i;
  return 0;
}

export class SpeakableStream {
  private buf = '';
  private lineStart = true;
  private lineKind: 'para' | 'heading' | 'item' = 'para';
  private lineSpoken = '';
  private fence: string[] | null = null;
  private spoken = false;
  private gap = false;

  /** Adds a delta; returns the speakable text that can go out now ('' when none). */
  push(delta: string): string {
    this.buf += delta.replace(/\r\n?/g, '\n');
    return this.drain(false);
  }

  /** The answer is complete: whatever is left, spoken. */
  end(): string {
    return this.drain(true);
  }

  private drain(final: boolean): string {
    let out = '';
    let nl: number;
    while ((nl = this.buf.indexOf('\n')) >= 0) {
      const line = this.buf.slice(0, nl);
      this.buf = this.buf.slice(nl + 1);
      out += this.line(line);
    }
    if (final) {
      if (this.buf) out += this.line(this.buf);
      this.buf = '';
      if (this.fence) out += this.emit(renderSpeech('```\n' + this.fence.join('\n') + '\n```'), true);
      this.fence = null;
    } else {
      out += this.partial();
    }
    return out;
  }

  /** A complete line. */
  private line(text: string): string {
    if (this.fence) {
      if (!FENCE.test(text)) {
        this.fence.push(text);
        return '';
      }
      const code = this.fence;
      this.fence = null;
      return this.emit(renderSpeech('```\n' + code.join('\n') + '\n```'), true);
    }
    if (this.lineStart) {
      if (FENCE.test(text)) {
        this.fence = [];
        return '';
      }
      return this.emit(renderSpeech(text), true);
    }
    // The rest of a line partly spoken already.
    let out = this.emit(speakInline(text), /^\s/.test(text) || this.gap);
    if (this.lineKind !== 'para' && this.lineSpoken && !ENDS_SENTENCE.test(this.lineSpoken)) out += this.emit('.', false);
    this.lineStart = true;
    this.lineKind = 'para';
    this.lineSpoken = '';
    return out;
  }

  /** The line still arriving: spoken up to its last safe cut. */
  private partial(): string {
    if (this.fence || !this.buf.trim()) return '';
    let marker = 0;
    let kind = this.lineKind;
    if (this.lineStart) {
      if (WHOLE_LINE.test(this.buf) || UNDECIDED.test(this.buf)) return '';
      const m = HEADING.exec(this.buf) ?? ITEM.exec(this.buf) ?? QUOTE.exec(this.buf);
      if (m) marker = m[0].length;
      kind = HEADING.test(this.buf) ? 'heading' : ITEM.test(this.buf) ? 'item' : 'para';
    }
    const rest = this.buf.slice(marker);
    const cut = safeCut(rest);
    if (cut <= 0) return '';
    const fragment = rest.slice(0, cut);
    const spaced = this.lineStart || /^\s/.test(fragment) || this.gap;
    this.buf = rest.slice(cut);
    this.lineStart = false;
    this.lineKind = kind;
    const out = this.emit(speakInline(fragment), spaced);
    this.gap = /\s$/.test(fragment);
    return out;
  }

  private emit(text: string, spaced: boolean): string {
    if (!text) return '';
    const out = this.spoken && spaced && !/^[.,!?;:]/.test(text) ? ` ${text}` : text;
    this.spoken = true;
    this.lineSpoken += out;
    if (this.lineStart) this.gap = true;
    return out;
  }
}
