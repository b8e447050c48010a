/**
 * Email threads Switchboard starts (MCP `start_conversation` on an email channel). Inbound email
 * is keyed by its thread's root Message-ID (or the provider's thread id), so a new thread gets a
 * Message-ID of ours up front: the conversation is keyed by it, the first email carries it, and the
 * person's reply (In-Reply-To/References naming it) lands in the same conversation. Where the
 * provider picks the thread id when sending (Gmail), the send job re-keys the conversation to it.
 * The thread is remembered in the conversation's state as `email_thread`.
 */
import { createHash, randomUUID } from 'node:crypto';
import type { ConversationRow } from '../../store/repos/inbox.js';

export interface StartedThread {
  /** Our Message-ID of the thread's first email, angle brackets kept. */
  message_id: string;
  subject: string;
  /** The provider's thread id, once the first email went out (Gmail). */
  thread_id?: string;
  /** Our id of the message that was the thread's first email, once it went out. */
  first_message?: string;
}

/**
 * The provider reported the Message-ID it really gave the thread's first email (Resend's email.sent
 * `message_id`; a sending service may replace ours): the new state and conversation key, or
 * undefined when nothing changes (another message, ours was kept, or the person already answered).
 */
export function threadRootReported(conv: Pick<ConversationRow, 'state' | 'last_inbound_at' | 'status'>, messageId: string, reported: string): { state: string; key: string } | undefined {
  const t = startedThread(conv);
  if (!t || t.first_message !== messageId || conv.last_inbound_at || conv.status !== 'open') return undefined;
  if (t.message_id.toLowerCase() === reported.toLowerCase()) return undefined;
  let state: Record<string, unknown> = {};
  try {
    state = JSON.parse(conv.state || '{}') as Record<string, unknown>;
  } catch {
    state = {};
  }
  return { state: JSON.stringify({ ...state, email_thread: { ...t, message_id: reported } }), key: reported.toLowerCase() };
}

/** The thread Switchboard started in this conversation, if it did. */
export function startedThread(conv: Pick<ConversationRow, 'state'>): StartedThread | undefined {
  try {
    const t = (JSON.parse(conv.state || '{}') as { email_thread?: Partial<StartedThread> }).email_thread;
    return t && typeof t.message_id === 'string' && typeof t.subject === 'string' ? (t as StartedThread) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * A new thread from `fromAddress`: `<id@sender-domain>`. With an idempotency key the id is derived
 * from it, so a retried start finds the same conversation instead of opening a second thread.
 */
export function newThreadMessageId(fromAddress: string, scope: string, idempotencyKey?: string): string {
  const domain = /@([^@<>\s]+)>?\s*$/.exec(fromAddress)?.[1]?.toLowerCase() ?? 'switchboard.invalid';
  const id = idempotencyKey ? createHash('sha256').update(`${scope}\n${idempotencyKey}`).digest('hex').slice(0, 32) : randomUUID();
  return `<sb.${id}@${domain}>`;
}

/** A subject when none is given: the message's first line, without Markdown marks, at most 78 characters. */
export function defaultSubject(text: string | undefined): string {
  const line = (text ?? '').split('\n').map((l) => l.replace(/[#*_`>~[\]]/g, '').replace(/\(https?:[^)]*\)/g, '').trim()).find(Boolean) ?? '';
  if (!line) return 'Message';
  return line.length > 78 ? `${line.slice(0, 77).trimEnd()}…` : line;
}
