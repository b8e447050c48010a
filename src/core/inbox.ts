/**
 * The inbound pipeline's commit point. Given the verified, parsed events of one webhook request,
 * stores each new one — event, conversation, message or status change, and the job that delivers
 * it to the agent — in a single transaction, and only then lets the route answer 2xx. A provider's
 * retry of an event already stored changes nothing.
 */
import { randomUUID } from 'node:crypto';
import type { Notifier } from '../queue/notifier.js';
import { channelName } from '../queue/notifier.js';
import type { JobsRepo } from '../queue/jobs.js';
import type { ChannelRow } from '../store/repos/channels.js';
import type { InboxRepo, Tx } from '../store/repos/inbox.js';
import type { DeliveryStatus, InboundEvent } from './events.js';
import { eventTypeOf } from './events.js';
import { eventData, type EventEnvelope } from './event-envelope.js';

export interface IngestResult {
  stored: number;
  duplicates: number;
  eventIds: string[];
}

/** Later statuses never move a message backwards (a late "sent" after "read" is ignored). */
const STATUS_RANK: Record<string, number> = { queued: 0, sending: 1, sent: 2, delivered: 3, read: 4, failed: 5 };

export class Inbox {
  constructor(
    private readonly repo: InboxRepo,
    private readonly jobs: JobsRepo,
    private readonly notifier: Notifier,
    private readonly pgSchema?: string,
  ) {}

  /**
   * `deliver: false` stores the events without queuing their delivery: for callers that deliver
   * them to the agent themselves, in-process (voice turns, where latency matters).
   */
  async ingest(channel: ChannelRow, events: InboundEvent[], opts: { deliver?: boolean } = {}): Promise<IngestResult> {
    const deliver = opts.deliver !== false;
    if (events.length === 0) return { stored: 0, duplicates: 0, eventIds: [] };
    const now = new Date();
    const nowIso = now.toISOString();
    const result = await this.repo.transaction(async (trx) => {
      const inst = await this.repo.lockInstance(trx, channel.instance_id);
      if (!inst) return { stored: 0, duplicates: events.length, eventIds: [] };
      let seq = inst.event_seq;
      const out: IngestResult = { stored: 0, duplicates: 0, eventIds: [] };
      for (const e of events) {
        const dedupeKey = `${channel.id}\n${e.providerEventId}`;
        if (await this.repo.eventExists(trx, dedupeKey)) {
          out.duplicates++;
          continue;
        }
        seq++;
        const envelope = await this.storeOne(trx, channel, e, seq, nowIso);
        await this.repo.insertEvent(trx, {
          id: envelope.id,
          instance_id: channel.instance_id,
          seq,
          channel_id: channel.id,
          conversation_id: envelope.conversation_id,
          type: envelope.type,
          dedupe_key: dedupeKey,
          payload: JSON.stringify(envelope),
          created_at: nowIso,
        });
        if (inst.agent_url && deliver) {
          await this.jobs.enqueue(trx, { kind: 'deliver', instanceId: channel.instance_id, groupKey: `deliver:${envelope.conversation_id ?? envelope.id}`, refId: envelope.id }, nowIso);
        }
        out.stored++;
        out.eventIds.push(envelope.id);
      }
      if (out.stored > 0) {
        await this.repo.setEventSeq(trx, channel.instance_id, seq);
        await this.repo.notify(trx, channelName('events', this.pgSchema));
        if (inst.agent_url && deliver) await this.repo.notify(trx, channelName('jobs', this.pgSchema));
      }
      await this.repo.touchChannel(trx, channel.id, nowIso, new Date(now.getTime() - 1000).toISOString());
      return out;
    });
    if (result.stored > 0) {
      if (deliver) this.notifier.local('jobs');
      this.notifier.local('events', channel.instance_id);
    }
    return result;
  }

  /**
   * Records an event Switchboard itself raises (an outbound message's status, a channel error)
   * and queues its delivery, exactly like a provider's event. `dedupeKey` makes it once-only.
   */
  async emit(channel: ChannelRow, conversationId: string | null, type: string, data: Record<string, unknown>, dedupeKey: string): Promise<void> {
    const nowIso = new Date().toISOString();
    let stored = false;
    let agent = false;
    await this.repo.transaction(async (trx) => {
      const inst = await this.repo.lockInstance(trx, channel.instance_id);
      if (!inst || (await this.repo.eventExists(trx, dedupeKey))) return;
      const seq = inst.event_seq + 1;
      const envelope: EventEnvelope = {
        id: randomUUID(),
        type,
        instance_id: channel.instance_id,
        channel_id: channel.id,
        conversation_id: conversationId,
        cursor: String(seq),
        created_at: nowIso,
        channel: { type: channel.channel_type, provider: channel.provider, external_identifier: channel.external_identifier },
        data,
      };
      await this.repo.insertEvent(trx, { id: envelope.id, instance_id: channel.instance_id, seq, channel_id: channel.id, conversation_id: conversationId, type, dedupe_key: dedupeKey, payload: JSON.stringify(envelope), created_at: nowIso });
      await this.repo.setEventSeq(trx, channel.instance_id, seq);
      if (inst.agent_url) {
        await this.jobs.enqueue(trx, { kind: 'deliver', instanceId: channel.instance_id, groupKey: `deliver:${conversationId ?? envelope.id}`, refId: envelope.id }, nowIso);
        await this.repo.notify(trx, channelName('jobs', this.pgSchema));
        agent = true;
      }
      await this.repo.notify(trx, channelName('events', this.pgSchema));
      stored = true;
    });
    if (stored) {
      if (agent) this.notifier.local('jobs');
      this.notifier.local('events', channel.instance_id);
    }
  }

  /** Conversation + message/status rows for one new event; returns its envelope. */
  private async storeOne(trx: Tx, channel: ChannelRow, e: InboundEvent, seq: number, now: string): Promise<EventEnvelope> {
    const eventId = randomUUID();
    let conversationId: string | null = null;
    let messageId: string | undefined;

    if (e.kind === 'message') {
      const conv = await this.repo.upsertConversation(trx, { instanceId: channel.instance_id, channelId: channel.id, key: e.conversationKey, participant: e.from, inboundAt: e.occurredAt, now });
      conversationId = conv.id;
      messageId = randomUUID();
      await this.repo.insertMessage(trx, {
        id: messageId,
        instance_id: channel.instance_id,
        channel_id: channel.id,
        conversation_id: conv.id,
        direction: 'in',
        provider_message_id: e.providerMessageId,
        status: 'received',
        text: e.text ?? e.email?.text ?? null,
        content: JSON.stringify(eventData(e)),
        error: null,
        idempotency_key: null,
        created_at: now,
        updated_at: now,
      });
    } else if (e.kind === 'status') {
      const msg = await this.repo.messageByProviderId(trx, channel.id, e.providerMessageId);
      if (msg) {
        conversationId = msg.conversation_id;
        messageId = msg.id;
        if (advances(msg.status, e.status)) {
          await this.repo.updateMessage(trx, msg.id, { status: e.status, error: e.error ? JSON.stringify(e.error) : msg.error, updated_at: now });
        }
      }
    } else if (e.conversationKey) {
      const conv = await this.repo.upsertConversation(trx, { instanceId: channel.instance_id, channelId: channel.id, key: e.conversationKey, participant: e.kind === 'call' ? e.from : undefined, now });
      conversationId = conv.id;
    }

    return {
      id: eventId,
      type: eventTypeOf(e),
      instance_id: channel.instance_id,
      channel_id: channel.id,
      conversation_id: conversationId,
      cursor: String(seq),
      created_at: now,
      channel: { type: channel.channel_type, provider: channel.provider, external_identifier: channel.external_identifier },
      data: eventData(e, messageId),
    };
  }
}

function advances(current: string, next: DeliveryStatus): boolean {
  if (next === 'failed') return current !== 'failed';
  return (STATUS_RANK[next] ?? 0) > (STATUS_RANK[current] ?? -1);
}
