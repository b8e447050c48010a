/**
 * Rendering layer: one Markdown input (what an agent writes) rendered into each channel's
 * native form and split to that channel's limit. `renderFor` is the one entry point the send
 * path needs; the individual renderers are exported for previews and tests.
 */
import { renderEmail } from './email.js';
import { EMAIL_TEXT_LIMIT, SPEECH_CHUNK_CHARS, TELEGRAM_TEXT_LIMIT, TWILIO_BODY_LIMIT, WHATSAPP_TEXT_LIMIT } from './limits.js';
import { renderPlain } from './plain.js';
import { smsSegments, toGsm7Friendly, type SmsSegmentInfo } from './sms.js';
import { renderSpeech, speechChunks } from './speech.js';
import { splitMessage, type SplitFormat } from './split.js';
import { renderTelegramHtml } from './telegram-html.js';
import { renderWhatsApp } from './whatsapp.js';

export * from './limits.js';
export { renderTelegramHtml, TELEGRAM_LINK_SCHEMES, TELEGRAM_TAGS } from './telegram-html.js';
export { renderWhatsApp } from './whatsapp.js';
export { renderPlain } from './plain.js';
export { renderEmail, EMAIL_LINK_SCHEMES, type RenderedEmail } from './email.js';
export { renderSpeech, speechChunks, spokenUrl } from './speech.js';
export { smsSegments, toGsm7Friendly, isGsm7, type SmsSegmentInfo, type SmsEncoding } from './sms.js';
export { splitMessage, measure, type SplitFormat, type SplitOptions } from './split.js';
export { telegramVisibleText } from './split-html.js';

export type RenderFormat = SplitFormat | 'speech';

export interface RenderForOptions {
  /** Chunk limit; defaults to the channel's limit from limits.ts. */
  limit?: number;
  numbering?: boolean;
  /** plain only: replace typographic punctuation so the SMS stays GSM-7 (default true). */
  gsm7Friendly?: boolean;
}

export interface RenderResult {
  chunks: string[];
  /** plain: segment info per chunk, in chunk order. */
  sms?: SmsSegmentInfo[];
  /** email: the HTML document; `chunks` holds the plain-text alternative. */
  html?: string;
}

const DEFAULT_LIMITS: Record<RenderFormat, number> = {
  telegram_html: TELEGRAM_TEXT_LIMIT,
  whatsapp: WHATSAPP_TEXT_LIMIT,
  plain: TWILIO_BODY_LIMIT,
  email: EMAIL_TEXT_LIMIT,
  markdown: Number.POSITIVE_INFINITY,
  speech: SPEECH_CHUNK_CHARS,
};

/**
 * Renders agent Markdown for one channel format and splits it to the limit.
 *
 * @example renderFor('telegram_html', '**Hi**', { limit: 4096 }) // { chunks: ['<b>Hi</b>'] }
 */
export function renderFor(format: RenderFormat, md: string, opts: RenderForOptions = {}): RenderResult {
  const limit = opts.limit ?? DEFAULT_LIMITS[format];
  const split = (text: string): string[] => splitMessage(text, { limit, format: format as SplitFormat, numbering: opts.numbering });
  switch (format) {
    case 'telegram_html':
      return { chunks: split(renderTelegramHtml(md)) };
    case 'whatsapp':
      return { chunks: split(renderWhatsApp(md)) };
    case 'markdown':
      return { chunks: split(md) };
    case 'plain': {
      const text = opts.gsm7Friendly === false ? renderPlain(md) : toGsm7Friendly(renderPlain(md));
      const chunks = split(text);
      return { chunks, sms: chunks.map(smsSegments) };
    }
    case 'email': {
      const { text, html } = renderEmail(md);
      return { chunks: split(text), html };
    }
    case 'speech':
      return { chunks: speechChunks(renderSpeech(md), limit) };
  }
}
