/**
 * Streams an agent's answer to the person as the channel allows (`config.streaming`):
 * - `live`: Telegram private chats see a growing draft (sendMessageDraft, throttled) and then the
 *   real message; web chat widgets get every delta; other channels fall back to `sentences`.
 * - `sentences`: whole sentences go out as they complete (SMS, WhatsApp, email when asked).
 * - `final`: one message when the stream ends.
 * Defaults: telegram and web_chat `live`, everything else `final`. Typing indicators are shown
 * while the agent is thinking. The final text is sent through the ordinary outbound path (same
 * rendering, governor and safe retries), keyed on the event, so a redelivered event never sends
 * the answer twice.
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { capabilitiesFor, type ProviderAdapter } from '../../adapters/contract.js';
import { getProvider } from '../../adapters/registry.js';
import { renderFor } from '../../render/index.js';
import { threadKeyOf } from '../../store/repos/inbox.js';
import type { Repos } from '../../store/repos/index.js';
import type { EventEnvelope } from '../event-envelope.js';
import { agentDeltas, lastSentenceEnd, streamParts } from './agent-stream.js';
import type { ChannelContexts } from '../channel-context.js';
import type { WidgetPublisher } from './send-job.js';
import { agentReplyOptions, type AnswerFailure, type OutboundService } from './service.js';
import { AgentIdleTimeout, AgentSuperseded } from '../delivery.js';

export type StreamingMode = 'live' | 'sentences' | 'final';

const DRAFT_INTERVAL_MS = 400;
const TYPING_INTERVAL_MS = 4_000;

/** The channel's `config.streaming`; by default `live` where the channel can show it (drafts, the widget). */
export function streamingMode(adapter: ProviderAdapter | undefined, channelType: string, config: Record<string, unknown>): StreamingMode {
  const v = config.streaming;
  if (v === 'live' || v === 'sentences' || v === 'final') return v;
  if (v === 'off') return 'final';
  return adapter && (adapter.widget || capabilitiesFor(adapter, channelType).drafts) ? 'live' : 'final';
}

export class StreamRelay {
  constructor(
    private readonly repos: Repos,
    private readonly outbound: OutboundService,
    private readonly contexts: ChannelContexts,
    private readonly widgets: WidgetPublisher | undefined,
    private readonly log: Logger,
  ) {}

  async relay(event: EventEnvelope, body: AsyncIterable<Uint8Array>, contentType: string): Promise<void> {
    const conv = event.conversation_id ? await this.repos.conversations.get(event.conversation_id) : undefined;
    const channel = conv ? await this.repos.channels.get(conv.channel_id) : undefined;
    if (!conv || !channel) {
      for await (const _ of agentDeltas(body, contentType)) void _; // drain
      return;
    }
    const acceptedAt = new Date().toISOString();
    const opts = agentReplyOptions(event, acceptedAt);
    const config = JSON.parse(channel.config) as Record<string, unknown>;
    const adapter = getProvider(channel.provider);
    const caps = adapter ? capabilitiesFor(adapter, channel.channel_type) : undefined;
    let mode = streamingMode(adapter, channel.channel_type, config);
    // Humans drive: the agent's answer is kept whole (stored "suppressed"), nothing shows.
    const human = conv.mode === 'human';
    if (human) mode = 'final';
    const sender = adapter?.outbound;
    // Drafts where this conversation can show them (Telegram: private chats only).
    const drafts = caps?.drafts && sender?.draft?.available(threadKeyOf(conv)) ? sender.draft : undefined;
    // Live is not possible here: a channel that shows drafts elsewhere waits for the whole
    // answer (a Telegram group); the others get whole sentences.
    if (mode === 'live' && !(adapter?.widget || drafts)) mode = caps?.drafts ? 'final' : 'sentences';

    const ctx = sender ? await this.contexts.forConversation(channel, conv, `stream:${event.id}`) : undefined;
    const lastInbound = typeof event.data.provider_message_id === 'string' ? event.data.provider_message_id : undefined;
    const typing = async () => {
      if (sender?.typing && ctx && !human) await sender.typing(ctx, lastInbound).catch((err: Error) => this.log.debug({ err: err.message }, 'typing indicator failed'));
    };

    let text = '';
    let sentUpTo = 0;
    let part = 0;
    let lastDraft = 0;
    let lastTyping = 0;
    const draftId = 1 + Math.floor(Math.random() * 2_000_000_000);
    const webMessageId = randomUUID();
    const widget = adapter?.widget && !human ? this.widgets : undefined;

    // close / handoff frames: applied when the stream ends, after its text, as a JSON reply's are.
    const asked: { close?: boolean; handoff?: { reason?: string; assignee?: string } } = {};

    await typing();
    lastTyping = Date.now();
    try {
    for await (const piece of streamParts(body, contentType)) {
      if ('close' in piece) {
        asked.close = true;
        continue;
      }
      if ('handoff' in piece) {
        asked.handoff = piece.handoff;
        continue;
      }
      const delta = piece.text;
      text += delta;
      const now = Date.now();
      if (mode === 'live' && widget) {
        await widget.publishDelta(conv.id, webMessageId, delta);
      } else if (mode === 'live' && drafts && caps && ctx && now - lastDraft >= DRAFT_INTERVAL_MS) {
        lastDraft = now;
        const preview = renderFor(caps.format, text, { limit: caps.maxTextLength }).chunks[0] ?? '';
        if (preview) await drafts.update(ctx, draftId, preview).catch((err: Error) => this.log.debug({ err: err.message }, 'draft update failed'));
      } else if (mode === 'sentences') {
        const end = lastSentenceEnd(text);
        if (end > sentUpTo && text.slice(sentUpTo, end).trim()) {
          await this.outbound.enqueueAnswer(event, { text: text.slice(sentUpTo, end).trim() }, `event:${event.id}:${part++}`, undefined, opts);
          sentUpTo = end;
        }
      }
      if (mode !== 'live' && now - lastTyping >= TYPING_INTERVAL_MS) {
        lastTyping = now;
        await typing();
      }
    }
    } catch (err) {
      // The stream broke (connection cut, idle limit, superseded): what arrived but was not sent
      // is stored as a failed message, never sent as a half answer (see docs/delivery.md).
      const key = mode === 'sentences' ? `event:${event.id}:${part}` : `event:${event.id}`;
      const { reason, detail } = brokenStream(err);
      await this.outbound.failAnswer(event, { text: text.slice(sentUpTo).trim() }, reason, detail, key, widget ? webMessageId : undefined);
      // The widget showed the deltas: it gets the stored (failed) message, so its bubble ends.
      if (widget) await widget.publishMessage(conv.id, webMessageId).catch(() => undefined);
      // A handoff asked before the break still stands (the agent wanted humans, and the person
      // got no full answer); a close does not (a conversation is not closed on half an answer).
      if (asked.handoff) await this.outbound.afterAgentAnswer(event, { handoff: asked.handoff });
      return;
    }
    const rest = text.slice(sentUpTo).trim();
    if (rest) {
      const key = mode === 'sentences' ? `event:${event.id}:${part}` : `event:${event.id}`;
      await this.outbound.enqueueAnswer(event, { text: rest }, key, widget ? webMessageId : undefined, opts);
    }
    if (asked.close || asked.handoff) await this.outbound.afterAgentAnswer(event, asked);
  }
}

/** Why a stream ended early, for the failed message. */
function brokenStream(err: unknown): { reason: AnswerFailure; detail: string } {
  if (err instanceof AgentSuperseded) return { reason: 'agent_superseded', detail: err.message };
  if (err instanceof AgentIdleTimeout) return { reason: 'agent_timeout', detail: `${err.message} (agent_idle_timeout_ms)` };
  return { reason: 'agent_stream_broken', detail: `the agent's stream broke before it ended: ${(err as Error).message}` };
}
