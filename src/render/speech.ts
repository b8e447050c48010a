import type { Block, Inline } from './ast.js';
import { cutText } from './cut.js';
import { SPEECH_CHUNK_CHARS } from './limits.js';
import { inlineText, parseMarkdown } from './parse.js';

// Emoji, their modifiers and joiners: a voice reads them as "smiling face" at best.
const EMOJI =
  /(?:\p{Extended_Pictographic}|\p{Regional_Indicator}|[\u{1F3FB}-\u{1F3FF}\u200d\ufe0f\u20e3])/gu;

/** A bare URL is read as its domain: nobody wants "h t t p s colon slash slash" on a call. */
export function spokenUrl(href: string): string {
  const m = /^[a-z][a-z0-9+.-]*:\/\/(?:[^@/?#]*@)?(?:www\.)?([^/:?#]+)/i.exec(href.trim());
  if (m) return m[1];
  return href.replace(/^mailto:/i, '');
}

function inline(nodes: Inline[]): string {
  let s = '';
  for (const n of nodes) {
    switch (n.kind) {
      case 'text':
      case 'code':
        s += n.text;
        break;
      case 'break':
        s += ' ';
        break;
      case 'link': {
        const text = inlineText(n.children).trim();
        s += !text || text === n.href || text === n.href.replace(/^mailto:/i, '') ? spokenUrl(n.href) : inline(n.children);
        break;
      }
      case 'image':
        s += n.alt;
        break;
      default:
        s += inline(n.children);
    }
  }
  return s;
}

/** Makes sure a spoken unit ends like a sentence so TTS pauses and the chunker can break. */
function sentence(text: string): string {
  const t = text.replace(/\s+/g, ' ').trim();
  if (!t) return '';
  return /[.!?:;…]["')\]]*$/.test(t) ? t : `${t}.`;
}

function block(b: Block): string[] {
  switch (b.kind) {
    case 'paragraph':
      return [inline(b.content).replace(/\s+/g, ' ').trim()];
    case 'heading':
      return [sentence(inline(b.content))];
    case 'code': {
      // Reading code aloud is useless; one line is still said verbatim (often a command or value).
      const lines = b.text.split('\n').filter((l) => l.trim());
      if (lines.length === 1 && lines[0].length <= 60) return [sentence(lines[0])];
      return ['There is a code example in the written version.'];
    }
    case 'list':
      return [b.items.map((it) => sentence(it.blocks.flatMap(block).join(' '))).join(' ')];
    case 'quote':
      return b.blocks.flatMap(block);
    case 'table':
      return b.rows.map((r) =>
        sentence(
          r
            .map((c, i) => {
              const head = inlineText(b.header[i] ?? []).trim();
              const value = inlineText(c).trim();
              return head ? `${head}: ${value}` : value;
            })
            .join(', '),
        ),
      );
    case 'rule':
      return [];
  }
}

/**
 * Renders agent Markdown as text for a voice (TTS): no markup characters, links read as
 * their text, bare URLs as their domain, lists as sentences, code summarised, no emoji.
 * Paragraphs are separated by a newline (a natural pause for TTS engines).
 *
 * @example renderSpeech('- **Buy** milk\n- See https://shop.example.com/x') // 'Buy milk. See shop.example.com.'
 */
export function renderSpeech(md: string): string {
  return parseMarkdown(md)
    .flatMap(block)
    .map((p) =>
      p
        .replace(EMOJI, '')
        // Raw HTML an agent echoed: the tag names are noise when spoken.
        .replace(/<\/?[a-zA-Z][^>]*>/g, ' ')
        // Markup characters the parser left as literal text; a voice would read them out.
        .replace(/[*_~`#|<>]+/g, ' ')
        .replace(/\s+/g, ' ')
        .replace(/\s+([.,!?;:])/g, '$1')
        .trim(),
    )
    .filter((p) => /[\p{L}\p{N}]/u.test(p))
    .join('\n');
}

/**
 * Splits speech text into chunks that end at sentence boundaries, so synthesis of the first
 * chunk can start while the rest is still being produced. The first chunk is a single
 * sentence (lowest time to first audio); later ones pack sentences up to `maxChars`.
 * A sentence longer than `maxChars` is split at words.
 */
export function speechChunks(text: string, maxChars: number = SPEECH_CHUNK_CHARS): string[] {
  const sentences = text
    .split(/(?<=[.!?…]["')\]]*)\s+|\s*\n\s*/)
    .map((x) => x.trim())
    .filter((x) => x.length > 0);
  const chunks: string[] = [];
  let current = '';
  const flush = (): void => {
    if (current) chunks.push(current);
    current = '';
  };
  for (const s of sentences) {
    if (s.length > maxChars) {
      flush();
      for (const c of cutText(s, maxChars)) chunks.push(s.slice(c.start, c.end));
    } else if (chunks.length === 0 && !current) {
      chunks.push(s);
    } else {
      if (current && current.length + 1 + s.length > maxChars) flush();
      current = current ? `${current} ${s}` : s;
    }
  }
  flush();
  return chunks;
}
