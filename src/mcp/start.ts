/**
 * `start_conversation`: finds or opens the conversation with a recipient on a channel, where the
 * channel lets a business write first, and sends the first message:
 * - SMS / WhatsApp: any phone number (WhatsApp: outside the 24-hour window only a template; the
 *   outbound service refuses free-form text with the API's 409 detail);
 * - email: any address; continues the person's open thread, or (no open thread, or a `subject`
 *   given) starts a new thread whose replies land in the same conversation (core/outbound/email-thread.ts);
 * - Telegram, web chat: only a chat that wrote before (a bot cannot message a chat first).
 * A new conversation raises `conversation.opened` (reason `started`) like a first inbound message.
 */
import type { ChannelType } from '../adapters/channel-types.js';
import { getProvider } from '../adapters/registry.js';
import { canonicalEmail } from '../adapters/shared/identity.js';
import { defaultSubject, newThreadMessageId } from '../core/outbound/email-thread.js';
import { canSeeInstance, type Principal } from '../core/principal.js';
import type { Services } from '../core/services.js';
import { BadRequest, Conflict, NotFound } from '../errors.js';
import type { ChannelRow } from '../store/repos/channels.js';
import { newId } from '../store/ids.js';
import type { ConversationRow } from '../store/repos/inbox.js';
import { conversationView } from './views.js';

export interface StartInput {
  channel_id: string;
  recipient: string;
  text?: string;
  subject?: string;
  template?: { name: string; language: string; components?: Record<string, unknown>[] };
  idempotency_key?: string;
}

/** A bare address with one @, a dotted domain, nothing a header could be split on. */
const EMAIL = /^[^\s@<>()[\]\\,;:"]+@[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)+$/i;

export async function startConversation(s: Services, p: Principal, a: StartInput): Promise<Record<string, unknown>> {
  const channel = await s.repos.channels.get(a.channel_id);
  if (!channel || !canSeeInstance(p, channel.instance_id)) throw new NotFound('Channel not found');
  const type = channel.channel_type;
  if (a.template && type !== 'whatsapp') throw new BadRequest('template: only WhatsApp channels send templates.');
  if (a.subject !== undefined && type !== 'email') throw new BadRequest('subject: only email channels have a subject.');
  if (type === 'voice') throw new BadRequest('A voice channel cannot start a conversation with a message.');
  if (channel.enabled !== 1) throw new Conflict('The channel is disabled; enable it to send.');

  let c: ConversationRow;
  if (type === 'email') {
    if (a.text === undefined || a.text.trim() === '') throw new BadRequest('text is required to write an email.');
    c = await emailConversation(s, channel, a);
  } else if (type === 'sms' || type === 'whatsapp') {
    const key = recipientKey(type, channel.provider, a.recipient);
    const prior = await s.repos.conversations.byKey(channel.id, key);
    c = prior?.status === 'open' ? prior : await openConversation(s, channel, key, prior?.participant ? JSON.parse(prior.participant) : { id: key });
  } else {
    // Telegram chat ids, web chat visitors: a conversation there (open, or closed since) proves
    // the person wrote, and the provider lets us answer.
    const key = a.recipient.trim();
    const prior = await s.repos.conversations.byKey(channel.id, key);
    if (!prior) {
      const why = channel.channel_type === 'telegram' ? 'a bot cannot message a chat first' : 'no known conversation with this recipient';
      throw new Conflict(`A ${type} conversation can only be started with a chat that wrote to this channel before (${why}); ${key} never did.`);
    }
    // A web chat widget follows the visitor's open conversation; a closed one is not reopened from here.
    if (prior.status !== 'open' && channel.channel_type === 'web_chat') throw new Conflict("This web chat conversation is closed; the visitor's next message opens a new one.");
    c = prior.status === 'open' ? prior : await openConversation(s, channel, key, prior.participant ? JSON.parse(prior.participant) : { id: key });
  }

  let message: Record<string, unknown> | undefined;
  if (a.text !== undefined || a.template) {
    const input = { ...(a.text !== undefined ? { text: a.text } : {}), ...(a.template ? { template: a.template } : {}), ...(a.subject !== undefined ? { subject: a.subject } : {}) };
    const r = await s.outbound.enqueue(channel.instance_id, c.id, input, a.idempotency_key);
    message = r.message as unknown as Record<string, unknown>;
    c = (await s.repos.conversations.get(c.id)) ?? c;
  }
  return { conversation: conversationView(c), ...(message ? { message } : {}) };
}

/**
 * The email conversation to write into: without a subject, the person's most recent open thread;
 * otherwise a new thread keyed by its first email's Message-ID.
 */
async function emailConversation(s: Services, channel: ChannelRow, a: StartInput): Promise<ConversationRow> {
  const address = canonicalEmail(a.recipient);
  if (!EMAIL.test(address)) throw new BadRequest('recipient must be an email address, e.g. ada@example.com');
  const config = JSON.parse(channel.config) as Record<string, unknown>;
  const from = typeof config.from === 'string' ? config.from : channel.external_identifier;
  // Writing to the channel's own address would come back as an inbound email, and so on.
  if ([from, channel.external_identifier].some((own) => canonicalEmail(own) === address)) throw new BadRequest("recipient is this channel's own address");
  if (a.subject === undefined) {
    const open = await s.repos.conversations.openWithEmail(channel.id, address);
    if (open) return open;
  }
  const subject = (a.subject ?? defaultSubject(a.text)).trim() || 'Message';
  if (/[\r\n]/.test(subject) || subject.length > 998) throw new BadRequest('subject must be one line of at most 998 characters.');
  const messageId = newThreadMessageId(from, `${channel.id}\n${address}`, a.idempotency_key);
  const key = messageId.toLowerCase();
  const existing = await s.repos.conversations.byKey(channel.id, key);
  if (existing) return existing; // the same start retried with its idempotency key
  return openConversation(s, channel, key, { id: address, email: address }, { email_thread: { message_id: messageId, subject } });
}

/** A new open conversation (with its conversation.opened event, in one transaction). */
async function openConversation(s: Services, channel: ChannelRow, key: string, participant: unknown, state?: Record<string, unknown>): Promise<ConversationRow> {
  const id = newId();
  const now = new Date().toISOString();
  await s.inbox.emit(channel, id, 'conversation.opened', { kind: 'conversation', status: 'open', mode: 'agent', reason: 'started', by: { kind: 'agent' } }, `conv:${id}:opened`, async (trx) => {
    const r = await s.repos.inbox.upsertConversation(trx, { id, instanceId: channel.instance_id, channelId: channel.id, key, participant, now });
    if (r.created && state) await s.repos.conversations.setState(trx, id, state);
    return r.created;
  });
  // Another request opened it at the same moment: that one is the conversation.
  const c = (await s.repos.conversations.get(id)) ?? (await s.repos.conversations.byKey(channel.id, key));
  if (!c) throw new Conflict('The conversation could not be opened; retry.');
  return c;
}

/** The conversation key a phone number has on a channel (as the inbound parsers key conversations). */
export function recipientKey(channelType: 'sms' | 'whatsapp', provider: string, recipient: string): string {
  const digits = recipient.trim().replace(/^whatsapp:/, '').replace(/[\s().-]/g, '');
  if (!/^\+?\d{6,15}$/.test(digits)) throw new BadRequest('recipient must be a phone number in E.164 form, e.g. +15550001111');
  // Keyed as the provider's inbound messages are (Meta: wa_id digits; Twilio: +E.164).
  const e164 = digits.startsWith('+') ? digits : `+${digits}`;
  return getProvider(provider)?.conversationKeyFor?.(e164, channelType as ChannelType) ?? e164;
}

