/**
 * Accepting an answer for a person: from the API (`POST .../conversations/{id}/messages`) or
 * from the agent's reply to an event. The message and its send job are committed together; an
 * Idempotency-Key (or, for agent replies, the event id) makes a repeat return the first message
 * instead of sending again.
 */
import type { Logger } from 'pino';
import { newId } from '../../store/ids.js';
import { Conflict, idempotencyMismatch, NotFound } from '../../errors.js';
import { handoffSettings, toHistoryMessage, type Author, type ConversationsService, type HistoryMessage } from '../conversations.js';
import { ValidationFailed, type ValidationIssue } from '../../errors.js';
import { attachmentIssues } from '../../media/limits.js';
import type { MediaRow } from '../../store/repos/media.js';
import type { JobsRepo } from '../../queue/jobs.js';
import { channelName, type Notifier } from '../../queue/notifier.js';
import type { MessageInsert, MessageRow } from '../../store/repos/inbox.js';
import type { Repos } from '../../store/repos/index.js';
import type { AgentFailure, AgentReply, ReplySink } from '../delivery.js';
import type { EventEnvelope } from '../event-envelope.js';
import type { Inbox } from '../inbox.js';
import { isUniqueViolation } from '../../store/errors.js';
import { windowClosedByProvider } from './window.js';
import { messageRow } from '../message-row.js';
import { getProvider } from '../../adapters/registry.js';
import { capabilitiesFor } from '../../adapters/contract.js';

export interface SendInput {
  text?: string;
  /** By URL, or an upload by `media_id` (POST /v1/instances/{id}/media); resolved ones carry its metadata. */
  attachments?: { url?: string; media_id?: string; kind?: string; file_name?: string; mime_type?: string; size?: number; sha256?: string }[];
  /** Our id of the message this answers. */
  reply_to?: string;
  /** WhatsApp: a template message (allowed outside the 24-hour window). */
  template?: { name: string; language: string; components?: unknown[] };
  /** Email: subject for a message that does not answer an earlier one. */
  subject?: string;
}

/** A message as the API returns it: the history shape (core/conversations.ts). */
export type MessageView = HistoryMessage;

export function toMessageView(m: MessageInsert): MessageView {
  return toHistoryMessage(m);
}

export interface EnqueueOptions {
  /** Who writes: the agent (default) or an operator. */
  author?: Author;
  /** The agent's answer to an event: suppressed (stored, not sent) while humans drive. */
  agentReply?: boolean;
  /** Our id of the inbound message this answers. */
  inReplyTo?: string;
  /** When the answer was accepted (an agent reply: when its response arrived), for causal order. */
  acceptedAt?: string;
}

/** The request parameters an Idempotency-Key is bound to, as a canonical string. */
function fingerprint(conversationId: string, input: SendInput, author: Author | undefined): string {
  const { reply_to_provider_message_id: _derived, ...rest } = input as SendInput & { reply_to_provider_message_id?: string };
  return canonical({ conversation_id: conversationId, input: rest, author: author ?? { kind: 'agent' } });
}

function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v && typeof v === 'object') {
    return `{${Object.keys(v as object)
      .filter((k) => (v as Record<string, unknown>)[k] !== undefined)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v);
}

/** Why an answer could not be accepted for sending, as stored in `status_reason`. */
export type AnswerFailure = 'agent_timeout' | 'agent_stream_broken' | 'agent_superseded' | 'whatsapp_window_closed' | 'channel_disabled' | 'agent_error';

/** A refusal of `enqueue` that names its reason, so a refused agent answer is stored as failed with it. */
export class SendRefused extends Conflict {
  constructor(
    readonly reason: AnswerFailure,
    detail: string,
  ) {
    super(detail);
  }
}

/** The 409 detail of a free-form send outside the customer-care window. */
export const WINDOW_DETAIL = "This WhatsApp conversation is outside the 24-hour customer-service window: WhatsApp only allows a template message now (send {\"template\": {\"name\", \"language\"}}).";

/**
 * Accepts agents' answers. Streamed answers are not its part: services.ts hands those to the
 * stream relay (core/outbound/streaming.ts), which writes through this service.
 */
export class OutboundService implements ReplySink {
  constructor(
    private readonly repos: Repos,
    private readonly jobs: JobsRepo,
    private readonly notifier: Notifier,
    private readonly pgSchema?: string,
    private readonly inbox?: Inbox,
    private readonly log?: Logger,
    /** Handoffs on operator messages and agent replies (without it they are not taken). */
    private readonly conversations?: ConversationsService,
  ) {}

  async enqueue(instanceId: string, conversationId: string, input: SendInput, idempotencyKey?: string, messageId?: string, opts: EnqueueOptions = {}): Promise<{ message: MessageView; duplicate: boolean }> {
    if (idempotencyKey) {
      const prior = await this.byIdempotencyKey(instanceId, idempotencyKey);
      if (prior) return { message: this.replayed(prior, conversationId, input, opts, idempotencyKey), duplicate: true };
    }
    const conv = await this.repos.conversations.get(conversationId);
    if (!conv || conv.instance_id !== instanceId) throw new NotFound('Conversation not found');
    const author: Author = opts.author ?? { kind: 'agent' };
    // While humans drive, the agent's answers to events are kept (status "suppressed") but not
    // sent, and its own sends are refused, naming the mode.
    const suppressed = author.kind === 'agent' && conv.mode === 'human';
    if (suppressed && !opts.agentReply) {
      throw new Conflict('This conversation is in human mode (handed off to an operator): the agent cannot send until it is resumed (POST .../resume), or send as an operator with "author": {"kind": "operator"}.');
    }
    const channel = await this.repos.channels.get(conv.channel_id);
    if (!channel) throw new NotFound('Conversation not found');
    if (channel.enabled !== 1) throw new SendRefused('channel_disabled', 'The channel of this conversation is disabled; enable it to send.');
    // A customer-care window (WhatsApp's 24 h, on every provider that serves it) is the
    // adapter's capability: free-form sends outside it need a template.
    const adapter = getProvider(channel.provider);
    const windowHours = adapter ? capabilitiesFor(adapter, channel.channel_type).customerCareWindowHours : null;
    if (windowHours && !input.template) {
      const last = conv.last_inbound_at ? Date.parse(conv.last_inbound_at) : NaN;
      if (!(Date.now() - last < windowHours * 3600 * 1000)) throw new SendRefused('whatsapp_window_closed', WINDOW_DETAIL);
      // The provider said so (131047, 63016) after the person's last message: our clock may
      // think the window is open, WhatsApp does not.
      if (windowClosedByProvider(conv)) throw new SendRefused('whatsapp_window_closed', `${WINDOW_DETAIL} WhatsApp refused the last free-form message with "re-engagement required".`);
    }
    if (input.attachments?.length) input = { ...input, attachments: await this.resolveAttachments(instanceId, channel.provider, input.attachments, channel.channel_type) };
    let replyToProvider: string | undefined;
    let replyTarget: string | undefined;
    if (input.reply_to) {
      const target = await this.repos.conversations.message(input.reply_to);
      if (target && target.conversation_id === conv.id) {
        replyToProvider = target.provider_message_id ?? undefined;
        replyTarget = target.id;
      }
    }
    const now = new Date().toISOString();
    const row = messageRow({
      id: messageId ?? newId(),
      author,
      inReplyTo: opts.inReplyTo ?? replyTarget ?? null,
      instanceId,
      channelId: channel.id,
      conversationId: conv.id,
      direction: 'out',
      status: suppressed ? 'suppressed' : 'queued',
      text: input.text ?? null,
      content: { ...input, ...(replyToProvider ? { reply_to_provider_message_id: replyToProvider } : {}) },
      idempotencyKey: idempotencyKey ?? null,
      // When it was accepted (an agent's answer: when its response arrived, not when the answer
      // finished), so an answer sorts before messages the person sent after it was given.
      at: opts.acceptedAt && opts.acceptedAt < now ? opts.acceptedAt : now,
      updatedAt: now,
    });
    try {
      await this.repos.inbox.transaction(async (trx) => {
        await this.repos.inbox.insertMessage(trx, row);
        await this.repos.conversations.touch(trx, conv.id, now);
        // An upload belongs to the first message that sends it (history, MCP and the widget list
        // items by message); a later message still sends it, by media_id.
        const uploads = (input.attachments ?? []).flatMap((a) => (a.media_id ? [a.media_id] : []));
        await this.repos.media.attach(trx, uploads, row.id);
        if (suppressed) return;
        await this.jobs.enqueue(trx, { kind: 'send', instanceId, groupKey: `send:${conv.id}`, refId: row.id }, now);
        await this.repos.inbox.notify(trx, channelName('jobs', this.pgSchema));
      });
    } catch (err) {
      // Two requests with one Idempotency-Key raced: the loser returns the winner's message.
      if (idempotencyKey && isUniqueViolation(err)) {
        const prior = await this.byIdempotencyKey(instanceId, idempotencyKey);
        if (prior) return { message: this.replayed(prior, conversationId, input, opts, idempotencyKey), duplicate: true };
      }
      throw err;
    }
    if (!suppressed) this.notifier.local('jobs');
    // An operator writing in agent mode takes the conversation over (per-instance, default on).
    if (author.kind === 'operator' && conv.mode === 'agent' && this.conversations) {
      const settings = handoffSettings(await this.repos.instances.get(instanceId));
      if (settings.operator_takeover) await this.conversations.handoff(instanceId, conv.id, { reason: 'operator_message', assignee: author.name ?? null, by: author });
    }
    return { message: toMessageView(row), duplicate: false };
  }

  /**
   * The message first sent under this Idempotency-Key, if this request has the same parameters;
   * a reuse with other parameters is refused (422) rather than silently answered with the first.
   */
  private replayed(prior: MessageRow, conversationId: string, input: SendInput, opts: EnqueueOptions, key: string): MessageView {
    if (!opts.agentReply) {
      const priorInput = JSON.parse(prior.content) as SendInput;
      const priorAuthor = prior.author ? (JSON.parse(prior.author) as Author) : undefined;
      if (fingerprint(prior.conversation_id, priorInput, priorAuthor) !== fingerprint(conversationId, input, opts.author)) {
        throw idempotencyMismatch(`this Idempotency-Key was already used with different parameters (for message ${prior.id}); use a new key for a different message`, key);
      }
    }
    return toMessageView(prior);
  }

  /**
   * Uploaded media named by `media_id` must be this instance's, stored, and within the channel
   * provider's limits: otherwise a 422 naming the attachment, before anything is stored.
   */
  private async resolveAttachments(instanceId: string, provider: string, list: NonNullable<SendInput['attachments']>, channelType: string): Promise<NonNullable<SendInput['attachments']>> {
    const issues: ValidationIssue[] = [];
    const found: { index: number; row: MediaRow }[] = [];
    const out = await Promise.all(list.map(async (a, index) => {
      if (!a.media_id) return a;
      const row = await this.repos.media.get(a.media_id);
      if (!row || row.instance_id !== instanceId) {
        issues.push({ type: 'value_error', loc: ['body', 'attachments', index, 'media_id'], msg: 'Value error, no such media item in this instance (upload it with POST /v1/instances/{id}/media)', input: a.media_id, ctx: { error: 'unknown media_id' } });
        return a;
      }
      if (row.status !== 'ready') {
        issues.push({ type: 'value_error', loc: ['body', 'attachments', index, 'media_id'], msg: `Value error, the media item is ${row.status}, not ready`, input: a.media_id, ctx: { error: 'media not ready' } });
        return a;
      }
      found.push({ index, row });
      return { media_id: row.id, kind: a.kind ?? row.kind, file_name: a.file_name ?? row.file_name ?? undefined, mime_type: row.mime_type ?? undefined, size: Number(row.size), sha256: row.sha256 ?? undefined };
    }));
    issues.push(...attachmentIssues(provider, found.sort((x, y) => x.index - y.index), list.length, channelType));
    if (issues.length) throw new ValidationFailed(issues);
    return out;
  }

  private byIdempotencyKey(instanceId: string, key: string): Promise<MessageRow | undefined> {
    return this.repos.conversations.messageByIdempotencyKey(instanceId, key);
  }

  /** An agent's answer in its webhook response: sent once even if the event is delivered again. */
  async acceptAgentReply(event: EventEnvelope, reply: AgentReply, acceptedAt?: string): Promise<void> {
    const { close, handoff, ...send } = reply;
    if (send.text !== undefined || send.attachments?.length) await this.enqueueAnswer(event, send as SendInput, `event:${event.id}`, undefined, agentReplyOptions(event, acceptedAt));
    await this.afterAgentAnswer(event, { close, handoff });
  }

  /** What an agent's answer asks besides text: a handoff to humans, closing the conversation. */
  async afterAgentAnswer(event: EventEnvelope, a: { close?: boolean; handoff?: { reason?: string; assignee?: string } | boolean }): Promise<void> {
    if (!event.conversation_id || !this.conversations) return;
    if (a.handoff) {
      const h = typeof a.handoff === 'object' ? a.handoff : {};
      const reason = typeof h.reason === 'string' ? h.reason : null;
      // An agent may name who should take over (the SDK's reply.handoff({assignee})).
      const assignee = typeof h.assignee === 'string' && h.assignee.trim() ? { assignee: h.assignee.trim().slice(0, 255) } : {};
      await this.conversations.handoff(event.instance_id, event.conversation_id, { reason, ...assignee, by: { kind: 'agent' } }).catch((err: unknown) => {
        if (!(err instanceof NotFound)) throw err;
      });
    }
    if (a.close === true) {
      await this.conversations.close(event.instance_id, event.conversation_id, { kind: 'agent' }).catch((err: unknown) => {
        if (!(err instanceof NotFound)) throw err;
      });
    }
  }

  /**
   * Queues (part of) an agent's answer to `event`; when it cannot be sent (the window closed, the
   * channel disabled) it is stored as a failed message with the reason instead, and the agent
   * told: an answer never vanishes. A conversation or channel that is gone is only logged.
   */
  async enqueueAnswer(event: EventEnvelope, input: SendInput, key: string, messageId?: string, opts: EnqueueOptions = agentReplyOptions(event)): Promise<MessageView | undefined> {
    if (!event.conversation_id) return undefined;
    try {
      return (await this.enqueue(event.instance_id, event.conversation_id, input, key, messageId, opts)).message;
    } catch (err) {
      if (err instanceof SendRefused) return this.failAnswer(event, input, err.reason, err.message, key, messageId);
      if (err instanceof NotFound) {
        this.log?.warn({ event: event.id, conversation: event.conversation_id }, 'an agent answer was dropped: its conversation or channel no longer exists');
        return undefined;
      }
      throw err;
    }
  }

  /**
   * Stores an answer that will not reach the person as a failed message (`status_reason`,
   * `error.message`), sends `message.status` failed to the agent and logs a warning. Keyed like
   * the answer itself, so a repeat records it once.
   */
  async failAnswer(event: EventEnvelope, input: SendInput, reason: AnswerFailure, detail: string, key: string, messageId?: string): Promise<MessageView | undefined> {
    if (!event.conversation_id) return undefined;
    const prior = await this.byIdempotencyKey(event.instance_id, key);
    if (prior) return toMessageView(prior);
    const conv = await this.repos.conversations.get(event.conversation_id);
    const channel = conv ? await this.repos.channels.get(conv.channel_id) : undefined;
    if (!conv || !channel) return undefined;
    const now = new Date().toISOString();
    const error = { code: reason, message: detail };
    const row = messageRow({
      id: messageId ?? newId(),
      instanceId: event.instance_id,
      channelId: channel.id,
      conversationId: conv.id,
      direction: 'out',
      status: 'failed',
      statusReason: reason,
      author: { kind: 'agent' },
      inReplyTo: typeof event.data.message_id === 'string' ? event.data.message_id : null,
      text: input.text || null,
      content: { ...input, in_reply_to_event: event.id },
      error,
      idempotencyKey: key,
      at: now,
    });
    try {
      await this.repos.inbox.transaction(async (trx) => {
        await this.repos.inbox.insertMessage(trx, row);
        await this.repos.inbox.updateMessage(trx, row.id, { status_reason: reason });
      });
    } catch (err) {
      if (!isUniqueViolation(err)) throw err;
      const raced = await this.byIdempotencyKey(event.instance_id, key);
      return raced ? toMessageView(raced) : undefined;
    }
    this.log?.warn({ event: event.id, conversation: conv.id, message: row.id, reason, detail }, 'an agent answer did not reach the person');
    await this.inbox?.emit(channel, conv.id, 'message.status', { kind: 'status', message_id: row.id, status: 'failed', status_reason: reason, error }, `out:${row.id}:failed`);
    return toMessageView(row);
  }

  async answerFailed(event: EventEnvelope, reason: AgentFailure, detail: string): Promise<void> {
    await this.failAnswer(event, {}, reason, detail, `event:${event.id}`);
  }
}

/** An agent's answer to an event: authored by the agent, answering the event's message. */
export function agentReplyOptions(event: EventEnvelope, acceptedAt?: string): EnqueueOptions {
  const inReplyTo = typeof event.data.message_id === 'string' ? event.data.message_id : undefined;
  return { author: { kind: 'agent' }, agentReply: true, ...(inReplyTo ? { inReplyTo } : {}), ...(acceptedAt ? { acceptedAt } : {}) };
}
