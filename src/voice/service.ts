/**
 * What the Retell socket and the Twilio voice routes share: the channel and its secrets, the
 * caller's turn stored through the inbox (so it is in the conversation's history and the event
 * stream, but not queued: the voice code delivers it itself), and the agent's answer stored as
 * the conversation's outbound message.
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { ProviderAdapter } from '../adapters/contract.js';
import { retellSocketToken } from '../adapters/retell/urls.js';
import type { ChannelContexts } from '../core/channel-context.js';
import type { MessageEvent } from '../core/events.js';
import { dedupeKeyOf, type Inbox } from '../core/inbox.js';
import { messageRow } from '../core/message-row.js';
import type { ChannelRow } from '../store/repos/channels.js';
import type { Repos } from '../store/repos/index.js';
import type { InstanceRow } from '../store/repos/instances.js';
import type { VoiceAgent } from './agent-call.js';
import { isUniqueViolation as uniqueViolation } from '../store/errors.js';

export interface VoiceChannel {
  row: ChannelRow;
  config: Record<string, unknown>;
  /** The secret provider requests are verified with: the channel's webhook_secret, else the account's. */
  verifySecret?: string;
}

/** One stored caller turn: the event the agent receives, exactly as stored. */
export interface StoredTurn {
  eventId: string;
  conversationId: string;
  /** The event envelope JSON (the body the agent is sent). */
  payload: string;
  createdAt: string;
  duplicate: boolean;
}

export interface SavedAnswer {
  text: string | null;
  endCall: boolean;
  failed: boolean;
}

export class VoiceService {
  constructor(
    readonly repos: Repos,
    private readonly inbox: Inbox,
    private readonly contexts: ChannelContexts,
    readonly agent: VoiceAgent,
    readonly log: Logger,
  ) {}

  /** The voice channel of this provider, with its verification secret; undefined when there is none. */
  async channel(channelId: string, adapter: ProviderAdapter): Promise<VoiceChannel | undefined> {
    const row = await this.repos.channels.get(channelId);
    if (!row || row.provider !== adapter.name || row.channel_type !== 'voice') return undefined;
    return { row, config: JSON.parse(row.config) as Record<string, unknown>, verifySecret: await this.verifySecret(adapter, row) };
  }

  /** The channel's webhook_secret, else its account's verify secret (see core/channel-context). */
  async verifySecret(adapter: ProviderAdapter, row: ChannelRow): Promise<string | undefined> {
    const ctx = this.contexts.api(adapter.name, await this.contexts.accountOf(row), row);
    return this.contexts.verifySecret(adapter, ctx.secrets, row);
  }

  /** The token Retell's custom-LLM WebSocket URL must carry for this channel (adapters/retell/urls.ts). */
  retellToken(ch: VoiceChannel): string | undefined {
    return ch.verifySecret ? retellSocketToken(ch.verifySecret, ch.row.id) : undefined;
  }

  instance(ch: VoiceChannel): Promise<InstanceRow | undefined> {
    return this.repos.instances.get(ch.row.instance_id);
  }

  /** Stores what the caller said (once: a provider's retry finds the first copy). */
  async storeTurn(ch: VoiceChannel, ev: MessageEvent): Promise<StoredTurn | undefined> {
    const r = await this.inbox.ingest(ch.row, [ev], { deliver: false });
    const id = r.eventIds[0];
    const row = id
      ? await this.repos.events.get(id)
      : await this.repos.events.byDedupeKey(dedupeKeyOf(ch.row, ev));
    if (!row || !row.conversation_id) return undefined;
    return { eventId: row.id, conversationId: row.conversation_id, payload: row.payload, createdAt: row.created_at, duplicate: !id };
  }

  /**
   * The agent's answer to a turn, as the conversation's outbound message (`delivered`: it was
   * spoken; `sent` + interrupted: the caller talked over it; `failed`: no usable answer). Keyed
   * on the turn's event id, so it is written once and any node can find it (the Twilio poll).
   */
  async saveAnswer(ch: VoiceChannel, turn: StoredTurn, text: string, outcome: { endCall?: boolean; interrupted?: boolean; error?: string }): Promise<void> {
    const at = new Date(Math.max(Date.now(), Date.parse(turn.createdAt) + 1)).toISOString();
    const status = outcome.error ? 'failed' : outcome.interrupted ? 'sent' : 'delivered';
    try {
      const row = messageRow({
        id: randomUUID(),
        instanceId: ch.row.instance_id,
        channelId: ch.row.id,
        conversationId: turn.conversationId,
        direction: 'out',
        status,
        text: text || null,
        content: { text, voice: { in_reply_to_event: turn.eventId, end_call: outcome.endCall === true, ...(outcome.interrupted ? { interrupted: true } : {}) } },
        error: outcome.error ? { code: 'agent', message: outcome.error } : null,
        idempotencyKey: answerKey(turn.eventId),
        author: { kind: 'agent' },
        sentAt: status === 'failed' ? null : at,
        at,
      });
      await this.repos.inbox.insertMessageAlone(row);
    } catch (err) {
      if (!uniqueViolation(err, { primaryKey: true })) throw err; // a retried turn answered twice: the first answer stands
    }
  }

  /** The stored answer to a turn, from any node; undefined while the agent is still answering. */
  async findAnswer(instanceId: string, eventId: string): Promise<SavedAnswer | undefined> {
    const m = await this.repos.conversations.messageByIdempotencyKey(instanceId, answerKey(eventId));
    if (!m) return undefined;
    const content = JSON.parse(m.content) as { voice?: { end_call?: boolean } };
    return { text: m.text, endCall: content.voice?.end_call === true, failed: m.status === 'failed' };
  }
}

const answerKey = (eventId: string) => `voice:${eventId}`;

/** Makes `text` at most `max` characters for a log line. */
export function clip(text: string, max = 200): string {
  return text.length > max ? text.slice(0, max) + '…' : text;
}
