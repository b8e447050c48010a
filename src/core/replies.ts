/**
 * Until a channel can send (the outbound pipeline), an agent's answer is kept as an outbound
 * message in state `queued`, so nothing the agent said is lost.
 */
import { randomUUID } from 'node:crypto';
import type { Repos } from '../store/repos/index.js';
import type { AgentReply, ReplySink } from './delivery.js';
import type { EventEnvelope } from './event-envelope.js';

export class StoredReplies implements ReplySink {
  constructor(private readonly repos: Repos) {}

  async acceptAgentReply(event: EventEnvelope, reply: AgentReply): Promise<void> {
    if (!event.conversation_id || !event.channel_id) return;
    const now = new Date().toISOString();
    await this.repos.inbox.insertMessage(this.repos.inbox.db, {
      id: randomUUID(),
      instance_id: event.instance_id,
      channel_id: event.channel_id,
      conversation_id: event.conversation_id,
      direction: 'out',
      provider_message_id: null,
      status: 'queued',
      text: reply.text ?? null,
      content: JSON.stringify({ reply, in_reply_to_event: event.id }),
      error: null,
      idempotency_key: `event:${event.id}`,
      created_at: now,
      updated_at: now,
    });
  }
}
