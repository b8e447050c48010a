// @ts-check
// Conversations and history messages as the dashboard uses them (the agreed public shapes, see
// types.d.ts). The server before the conversation API (issue 13) answered an older shape — `in`/`out`
// directions, a `participant`, no author, status or mode; it is mapped here, in one place, so the
// views only know the new one.

/** @typedef {import('./types').Conversation} Conversation */
/** @typedef {import('./types').Message} Message */
/** @typedef {import('./types').Author} Author */

/** @param {any} c @returns {Conversation} */
export function toConversation(c) {
  const p = c.contact ?? c.participant ?? {};
  const name = p.name ?? p.username ?? null;
  return {
    ...c,
    status: c.status ?? 'open',
    mode: c.mode ?? 'agent',
    assignee: c.assignee ?? null,
    contact: { ...p, id: p.id ?? c.key ?? null, name },
    last_message_at: c.last_message_at ?? c.updated_at ?? null,
  };
}

/** @param {any} m @returns {Message} */
export function toMessage(m) {
  const direction = m.direction === 'in' ? 'inbound' : m.direction === 'out' ? 'outbound' : m.direction;
  /** @type {Author} */
  const author = m.author ?? (direction === 'inbound' ? { kind: 'contact' } : { kind: 'agent' });
  return {
    ...m,
    direction,
    author,
    text: m.text ?? null,
    attachments: Array.isArray(m.attachments) ? m.attachments : [],
    in_reply_to: m.in_reply_to ?? null,
    status_reason: m.status_reason ?? (m.error ? m.error.message ?? JSON.stringify(m.error) : null),
  };
}

/** Who wrote a message, for display. @param {Message} m @param {Conversation | undefined} c */
export function authorLabel(m, c) {
  const a = m.author;
  if (a.name) return a.name;
  if (a.kind === 'contact') return c?.contact.name || c?.contact.id || 'Contact';
  return { agent: 'Agent', operator: 'Operator', system: 'System' }[a.kind] ?? a.kind;
}

/** A one-line preview of a message. @param {Message | null | undefined} m */
export function preview(m) {
  if (!m) return '';
  const t = (m.text ?? '').replace(/\s+/g, ' ').trim();
  if (t) return t.length > 90 ? `${t.slice(0, 89)}…` : t;
  const n = m.attachments.length;
  return n ? `📎 ${n === 1 ? m.attachments[0].file_name || m.attachments[0].kind : `${n} attachments`}` : '';
}

/** The name a conversation goes by in the list. @param {Conversation} c */
export const contactLabel = (c) => c.contact.name || c.contact.id || c.id.slice(0, 8);
