/**
 * Accepting an answer for a person: from the API (`POST .../conversations/{id}/messages`) or
 * from the agent's reply to an event. The message and its send job are committed together; an
 * Idempotency-Key (or, for agent replies, the event id) makes a repeat return the first message
 * instead of sending again.
 */
import { newId } from '../../store/ids.js';
import { Conflict, NotFound } from '../../errors.js';
import type { JobsRepo } from '../../queue/jobs.js';
import { channelName, type Notifier } from '../../queue/notifier.js';
import type { MessageRow } from '../../store/repos/inbox.js';
import type { Repos } from '../../store/repos/index.js';
import type { AgentReply, ReplySink } from '../delivery.js';
import type { EventEnvelope } from '../event-envelope.js';
import { isUniqueViolation } from '../../store/errors.js';

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
  text: string | null;
  provider_message_id: string | null;
  error: unknown;
  created_at: string;
  updated_at: string;
}

export function toMessageView(m: MessageRow): MessageView {
  return {
    id: m.id,
    conversation_id: m.conversation_id,
    channel_id: m.channel_id,
    direction: m.direction,
    status: m.status,
    text: m.text,
    provider_message_id: m.provider_message_id,
    error: m.error ? (JSON.parse(m.error) as unknown) : null,
    created_at: m.created_at,
    updated_at: m.updated_at,
  };
}

const WINDOW_MS = 24 * 3600 * 1000;

export class OutboundService implements ReplySink {
  /** Set by the streaming module; agents answering with a stream are handed to it. */
  streamSink?: (event: EventEnvelope, body: AsyncIterable<Uint8Array>, contentType: string) => Promise<void>;

  constructor(
    private readonly repos: Repos,
    private readonly jobs: JobsRepo,
    private readonly notifier: Notifier,
    private readonly pgSchema?: string,
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
    if (channel.enabled !== 1) throw new Conflict('The channel of this conversation is disabled; enable it to send.');
    if (channel.channel_type === 'whatsapp' && !input.template) {
      const last = conv.last_inbound_at ? Date.parse(conv.last_inbound_at) : NaN;
      if (!(Date.now() - last < WINDOW_MS)) {
        throw new Conflict("This WhatsApp conversation is outside the 24-hour customer-service window: WhatsApp only allows a template message now (send {\"template\": {\"name\", \"language\"}}).");
      }
    }
    let replyToProvider: string | undefined;
    if (input.reply_to) {
      const target = await this.repos.conversations.message(input.reply_to);
      if (target && target.conversation_id === conv.id) replyToProvider = target.provider_message_id ?? undefined;
    }
    const now = new Date().toISOString();
    const row: MessageRow = {
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
    if (!event.conversation_id) return;
    try {
      await this.enqueue(event.instance_id, event.conversation_id, reply as SendInput, `event:${event.id}`);
    } catch (err) {
      if (err instanceof Conflict || err instanceof NotFound) return; // the window closed or the channel is gone: nothing to send
      throw err;
    }
  }

  async acceptAgentStream(event: EventEnvelope, body: AsyncIterable<Uint8Array>, contentType: string): Promise<void> {
    if (!this.streamSink) throw new Error('streaming is not available');
    await this.streamSink(event, body, contentType);
  }
}
