/**
 * Accepting an answer for a person: from the API (`POST .../conversations/{id}/messages`) or
 * from the agent's reply to an event. The message and its send job are committed together; an
 * Idempotency-Key (or, for agent replies, the event id) makes a repeat return the first message
 * instead of sending again.
 */
import type { Logger } from 'pino';
import { newId } from '../../store/ids.js';
import { Conflict, NotFound } from '../../errors.js';
import type { JobsRepo } from '../../queue/jobs.js';
import { channelName, type Notifier } from '../../queue/notifier.js';
import type { MessageRow, NewMessageRow } from '../../store/repos/inbox.js';
import type { Repos } from '../../store/repos/index.js';
import type { AgentFailure, AgentReply, ReplySink } from '../delivery.js';
import type { EventEnvelope } from '../event-envelope.js';
import type { Inbox } from '../inbox.js';
import { isUniqueViolation } from '../../store/errors.js';
import { windowClosedByProvider } from './window.js';

export interface SendInput {
  text?: string;
  attachments?: { url: string; kind?: string; file_name?: string }[];
  /** Our id of the message this answers. */
  reply_to?: string;
  /** WhatsApp: a template message (allowed outside the 24-hour window). */
  template?: { name: string; language: string; components?: unknown[] };
  /** Email: subject for a message that does not answer an earlier one. */
  subject?: string;
}

export interface MessageView {
  id: string;
  conversation_id: string;
  channel_id: string;
  direction: string;
  status: string;
  /** Why it failed, as a stable word (see docs/delivery.md); null unless failed. */
  status_reason: string | null;
  text: string | null;
  provider_message_id: string | null;
  error: unknown;
  created_at: string;
  updated_at: string;
}

export function toMessageView(m: NewMessageRow): MessageView {
  return {
    id: m.id,
    conversation_id: m.conversation_id,
    channel_id: m.channel_id,
    direction: m.direction,
    status: m.status,
    status_reason: m.status_reason ?? null,
    text: m.text,
    provider_message_id: m.provider_message_id,
    error: m.error ? (JSON.parse(m.error) as unknown) : null,
    created_at: m.created_at,
    updated_at: m.updated_at,
  };
}

const WINDOW_MS = 24 * 3600 * 1000;

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

const WINDOW_DETAIL = "This WhatsApp conversation is outside the 24-hour customer-service window: WhatsApp only allows a template message now (send {\"template\": {\"name\", \"language\"}}).";

export class OutboundService implements ReplySink {
  /** Set by the streaming module; agents answering with a stream are handed to it. */
  streamSink?: (event: EventEnvelope, body: AsyncIterable<Uint8Array>, contentType: string) => Promise<void>;

  constructor(
    private readonly repos: Repos,
    private readonly jobs: JobsRepo,
    private readonly notifier: Notifier,
    private readonly pgSchema?: string,
    private readonly inbox?: Inbox,
    private readonly log?: Logger,
  ) {}

  async enqueue(instanceId: string, conversationId: string, input: SendInput, idempotencyKey?: string, messageId?: string): Promise<{ message: MessageView; duplicate: boolean }> {
    if (idempotencyKey) {
      const prior = await this.byIdempotencyKey(instanceId, idempotencyKey);
      if (prior) return { message: toMessageView(prior), duplicate: true };
    }
    const conv = await this.repos.conversations.get(conversationId);
    if (!conv || conv.instance_id !== instanceId) throw new NotFound('Conversation not found');
    const channel = await this.repos.channels.get(conv.channel_id);
    if (!channel) throw new NotFound('Conversation not found');
    if (channel.enabled !== 1) throw new SendRefused('channel_disabled', 'The channel of this conversation is disabled; enable it to send.');
    if (channel.channel_type === 'whatsapp' && !input.template) {
      const last = conv.last_inbound_at ? Date.parse(conv.last_inbound_at) : NaN;
      if (!(Date.now() - last < WINDOW_MS)) throw new SendRefused('whatsapp_window_closed', WINDOW_DETAIL);
      // The provider said so (131047, 63016) after the person's last message: our clock may
      // think the window is open, WhatsApp does not.
      if (windowClosedByProvider(conv)) throw new SendRefused('whatsapp_window_closed', `${WINDOW_DETAIL} WhatsApp refused the last free-form message with "re-engagement required".`);
    }
    let replyToProvider: string | undefined;
    if (input.reply_to) {
      const target = await this.repos.conversations.message(input.reply_to);
      if (target && target.conversation_id === conv.id) replyToProvider = target.provider_message_id ?? undefined;
    }
    const now = new Date().toISOString();
    const row: NewMessageRow = {
      id: messageId ?? newId(),
      instance_id: instanceId,
      channel_id: channel.id,
      conversation_id: conv.id,
      direction: 'out',
      provider_message_id: null,
      status: 'queued',
      text: input.text ?? null,
      content: JSON.stringify({ ...input, ...(replyToProvider ? { reply_to_provider_message_id: replyToProvider } : {}) }),
      error: null,
      idempotency_key: idempotencyKey ?? null,
      created_at: now,
      updated_at: now,
    };
    try {
      await this.repos.inbox.transaction(async (trx) => {
        await this.repos.inbox.insertMessage(trx, row);
        await this.jobs.enqueue(trx, { kind: 'send', instanceId, groupKey: `send:${conv.id}`, refId: row.id }, now);
        await this.repos.inbox.notify(trx, channelName('jobs', this.pgSchema));
      });
    } catch (err) {
      // Two requests with one Idempotency-Key raced: the loser returns the winner's message.
      if (idempotencyKey && isUniqueViolation(err)) {
        const prior = await this.byIdempotencyKey(instanceId, idempotencyKey);
        if (prior) return { message: toMessageView(prior), duplicate: true };
      }
      throw err;
    }
    this.notifier.local('jobs');
    return { message: toMessageView(row), duplicate: false };
  }

  private byIdempotencyKey(instanceId: string, key: string): Promise<MessageRow | undefined> {
    return this.repos.inbox.db.selectFrom('messages').selectAll().where('instance_id', '=', instanceId).where('idempotency_key', '=', key).executeTakeFirst();
  }

  /** An agent's answer in its webhook response: sent once even if the event is delivered again. */
  async acceptAgentReply(event: EventEnvelope, reply: AgentReply): Promise<void> {
    await this.enqueueAnswer(event, reply as SendInput, `event:${event.id}`);
  }

  /**
   * Queues (part of) an agent's answer to `event`; when it cannot be sent (the window closed, the
   * channel disabled) it is stored as a failed message with the reason instead, and the agent
   * told: an answer never vanishes. A conversation or channel that is gone is only logged.
   */
  async enqueueAnswer(event: EventEnvelope, input: SendInput, key: string, messageId?: string): Promise<MessageView | undefined> {
    if (!event.conversation_id) return undefined;
    try {
      return (await this.enqueue(event.instance_id, event.conversation_id, input, key, messageId)).message;
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
    const row: MessageRow = {
      id: messageId ?? newId(),
      instance_id: event.instance_id,
      channel_id: channel.id,
      conversation_id: conv.id,
      direction: 'out',
      provider_message_id: null,
      status: 'failed',
      status_reason: reason,
      text: input.text || null,
      content: JSON.stringify({ ...input, in_reply_to_event: event.id }),
      error: JSON.stringify(error),
      idempotency_key: key,
      created_at: now,
      updated_at: now,
    };
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

  async acceptAgentStream(event: EventEnvelope, body: AsyncIterable<Uint8Array>, contentType: string): Promise<void> {
    if (!this.streamSink) throw new Error('streaming is not available');
    await this.streamSink(event, body, contentType);
  }
}
