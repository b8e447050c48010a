import { cutText } from './cut.js';
import { splitTelegramHtml, telegramVisibleText } from './split-html.js';

export type SplitFormat = 'telegram_html' | 'whatsapp' | 'plain' | 'email' | 'markdown';

export interface SplitOptions {
  /** Maximum size of one chunk, in the units `measure(format, chunk)` returns. */
  limit: number;
  format: SplitFormat;
  /** Append " (i/n)" to each chunk when there is more than one; the marker counts toward the limit. */
  numbering?: boolean;
}

/**
 * The size of a rendered chunk as its provider counts it:
 * - telegram_html: UTF-16 code units of the visible text (tags removed, entities decoded),
 *   which is what Telegram's "1-4096 characters after entity parsing" applies to.
 * - everything else: UTF-16 code units of the string. For SMS (plain) this is never less
 *   than the number of characters, so a chunk within the limit is within Twilio's too.
 */
export function measure(format: SplitFormat, text: string): number {
  return format === 'telegram_html' ? telegramVisibleText(text).length : text.length;
}

/**
 * Splits an already rendered message into chunks that each fit the channel's limit,
 * preferring paragraph, then line, sentence and word boundaries. Whitespace at a break is
 * dropped; Telegram chunks re-close and re-open tags so each is valid HTML on its own;
 * whatsapp/markdown chunks close and re-open a code fence cut in two.
 *
 * @example splitMessage(long, { limit: 4096, format: 'telegram_html', numbering: true })
 */
export function splitMessage(rendered: string, opts: SplitOptions): string[] {
  const { limit, format } = opts;
  if (!Number.isFinite(limit)) return /\S/.test(rendered) ? [rendered.trim()] : [];
  const plainSplit = (budget: number): string[] => splitFormat(rendered, format, budget);
  let chunks = plainSplit(limit);
  if (!opts.numbering || chunks.length <= 1) return chunks;
  // The marker's width depends on the chunk count, which depends on the marker: grow until stable.
  for (let digits = String(chunks.length).length; ; digits++) {
    const reserve = ` (${'9'.repeat(digits)}/${'9'.repeat(digits)})`.length;
    chunks = plainSplit(limit - reserve);
    if (String(chunks.length).length <= digits) break;
  }
  return chunks.map((c, i) => `${c} (${i + 1}/${chunks.length})`);
}

function splitFormat(text: string, format: SplitFormat, budget: number): string[] {
  if (format === 'telegram_html') return splitTelegramHtml(text, budget);
  if (format === 'whatsapp' || format === 'markdown') return splitFenced(text, format, budget);
  return cutText(text, budget).map((c) => text.slice(c.start, c.end));
}

const FENCE = '```';

/**
 * A code fence cut in two would turn the rest of the conversation into code (or show stray
 * backticks), so a chunk that ends inside a fence closes it and the next chunk re-opens it.
 * Room for both markers is reserved up front whenever the text has a fence at all.
 */
function splitFenced(text: string, format: 'whatsapp' | 'markdown', budget: number): string[] {
  if (!text.includes(FENCE)) return cutText(text, budget).map((c) => text.slice(c.start, c.end));
  const md = format === 'markdown';
  const longestInfo = Math.max(0, ...[...text.matchAll(/```([^\n`]*)/g)].map((m) => m[1].length));
  const reserve = md ? 2 * (FENCE.length + 1) + longestInfo : 2 * FENCE.length;
  const chunks: string[] = [];
  let open = false;
  let info = '';
  for (const c of cutText(text, budget - reserve)) {
    const body = text.slice(c.start, c.end);
    const prefix = open ? (md ? `${FENCE}${info}\n` : FENCE) : '';
    for (const m of body.matchAll(/```([^\n`]*)/g)) {
      open = !open;
      if (open) info = md ? m[1].trim() : '';
    }
    chunks.push(prefix + body + (open ? (md ? `\n${FENCE}` : FENCE) : ''));
  }
  return chunks;
}
