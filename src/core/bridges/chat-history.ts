/**
 * A conversation's stored messages as Chat Completions `messages[]`: the system prompt, then the
 * latest turns oldest first — the person as `user`, the agent as `assistant`, a human operator as
 * an `assistant` turn named `operator` (so the model knows a person spoke for it), images the
 * person sent as `image_url` parts. Messages that never reached the person (failed, suppressed)
 * and system notes are left out.
 */
import type { MessageRow } from '../../store/repos/inbox.js';

export type ChatPart = { type: 'text'; text: string } | { type: 'image_url'; image_url: { url: string } };
export type ChatMessage =
  | { role: 'system'; content: string }
  | { role: 'user'; content: string | ChatPart[] }
  | { role: 'assistant'; content: string; name?: string };

interface AuthorLike {
  kind?: string;
  name?: string;
}

function authorKind(m: MessageRow): string {
  const stored = (m as MessageRow & { author?: string | null }).author;
  if (stored) {
    try {
      const a = JSON.parse(stored) as AuthorLike;
      if (typeof a.kind === 'string') return a.kind;
    } catch {
      /* an unreadable author: fall back on the direction */
    }
  }
  return m.direction === 'in' ? 'contact' : 'agent';
}

/** Media items as the media service lists them (id -> items), or none. */
export type MediaOf = Map<string, unknown[]>;

/** Image links of a message's attachments that a model can fetch (media items that are ready). */
function imageUrls(m: MessageRow, media: MediaOf): string[] {
  let items = media.get(m.id);
  if (!items) {
    try {
      const content = JSON.parse(m.content) as { attachments?: unknown };
      items = Array.isArray(content.attachments) ? content.attachments : [];
    } catch {
      items = [];
    }
  }
  return items
    .filter((a): a is { url: string } => {
      const x = a as { kind?: unknown; url?: unknown; status?: unknown; mime_type?: unknown };
      const image = x.kind === 'image' || (typeof x.mime_type === 'string' && x.mime_type.startsWith('image/'));
      return image && typeof x.url === 'string' && /^https?:|^data:/.test(x.url) && (x.status === undefined || x.status === 'ready');
    })
    .map((a) => a.url);
}

const SKIPPED_STATUSES = new Set(['failed', 'suppressed']);

/** `rows` oldest first. */
export function chatMessages(systemPrompt: string, rows: MessageRow[], media: MediaOf = new Map()): ChatMessage[] {
  const out: ChatMessage[] = [];
  if (systemPrompt) out.push({ role: 'system', content: systemPrompt });
  for (const m of rows) {
    const kind = authorKind(m);
    if (kind === 'system' || SKIPPED_STATUSES.has(m.status)) continue;
    const text = m.text ?? '';
    if (kind === 'contact') {
      const images = imageUrls(m, media);
      if (images.length) out.push({ role: 'user', content: [...(text ? [{ type: 'text' as const, text }] : []), ...images.map((url) => ({ type: 'image_url' as const, image_url: { url } }))] });
      else if (text) out.push({ role: 'user', content: text });
    } else if (text) {
      out.push(kind === 'operator' ? { role: 'assistant', name: 'operator', content: text } : { role: 'assistant', content: text });
    }
  }
  return out;
}
