/**
 * Runs one 'send' job: renders the message for its channel, waits for the rate governor, sends
 * it chunk by chunk (progress is saved after each chunk, so a retry never repeats a chunk that
 * went out), and records the outcome on the message, the channel's health and the agent's event
 * stream. Retries only what cannot have been sent; an unknown outcome is never retried blindly.
 */
import type { Logger } from 'pino';
import { ProviderError } from '../../adapters/shared/provider-error.js';
import { getProvider } from '../../adapters/registry.js';
import { capabilitiesFor, type OutboundChunk, type OutboundPart, type ProviderAdapter, type SendResult } from '../../adapters/contract.js';
import type { OutboundAttachment } from '../../adapters/contract.js';
import type { MediaService } from '../../media/service.js';
import type { JobRow } from '../../queue/jobs.js';
import type { JobOutcome } from '../../queue/runner.js';
import { renderFor } from '../../render/index.js';
import type { ChannelRow } from '../../store/repos/channels.js';
import type { ConversationRow, MessageRow } from '../../store/repos/inbox.js';
import type { Repos } from '../../store/repos/index.js';
import type { Inbox } from '../inbox.js';
import type { ChannelContexts } from '../channel-context.js';
import type { RateGovernor } from './governor.js';
import type { SendInput } from './service.js';
import { ChannelHealth } from './health.js';
import { startedThread } from './email-thread.js';

/** Pushes stored outbound messages to web chat widgets (implemented by the web chat hub). */
export interface WidgetPublisher {
  publishMessage(conversationId: string, messageId: string): Promise<void>;
  publishDelta(conversationId: string, messageId: string, delta: string): Promise<void>;
}

interface Progress {
  sent: number;
  ids: string[];
}

/** Telegram's and WhatsApp's caption limit. */
const CAPTION_LIMIT = 1024;

export class SendJob {
  constructor(
    private readonly repos: Repos,
    private readonly inbox: Inbox,
    private readonly contexts: ChannelContexts,
    private readonly governor: RateGovernor,
    private readonly health: ChannelHealth,
    private readonly log: Logger,
    private readonly maxAttempts: number,
    /** Web chat: outbound messages are pushed to the visitor's widget. */
    private readonly widgets?: WidgetPublisher,
    /** Uploaded media (attachments by media_id). */
    private readonly media?: MediaService,
  ) {}

  async handle(job: JobRow): Promise<JobOutcome> {
    const msg = await this.repos.conversations.message(job.ref_id);
    if (!msg || msg.status !== 'queued') return { kind: 'done' };
    const conv = await this.repos.conversations.get(msg.conversation_id);
    const channel = conv ? await this.repos.channels.get(conv.channel_id) : undefined;
    if (!conv || !channel) return { kind: 'done' };

    const adapter = getProvider(channel.provider);
    if (adapter?.widget) return this.toWidget(channel, msg);
    const sender = adapter?.outbound;
    if (!adapter || !sender) return this.fail(channel, msg, { code: 'unsupported', message: `Switchboard cannot send through provider '${channel.provider}'.` }, 'done', 'unsupported');

    const input = JSON.parse(msg.content) as SendInput & { reply_to_provider_message_id?: string };
    let chunks: OutboundChunk[];
    try {
      chunks = await this.render(channel, conv, adapter, input, msg.id);
    } catch (err) {
      return this.fail(channel, msg, { code: 'render', message: (err as Error).message }, 'done', 'render_failed');
    }
    const progress: Progress = { sent: 0, ids: [], ...(JSON.parse(job.payload) as Partial<Progress>) };
    // One context and one set of limits for every chunk; only the idempotency key differs.
    const base = await this.contexts.forConversation(channel, conv, `${msg.id}:${progress.sent}`);
    const limits = sender.rateLimits(base);
    for (let i = progress.sent; i < chunks.length; i++) {
      const ctx = { ...base, idempotencyKey: `${msg.id}:${i}` };
      const take = await this.governor.take(limits);
      if (!take.ok) return this.defer(job, progress, take.waitMs, 'waiting for the rate governor');
      try {
        const r = await sender.send(ctx, chunks[i]);
        progress.sent = i + 1;
        progress.ids.push(r.providerMessageId);
        await this.saveProgress(job, progress);
        if (r.conversationKey || r.threadId) await this.adoptThread(channel, conv, r);
      } catch (err) {
        return this.onError(err, job, progress, channel, msg, sender, limits);
      }
    }
    const now = new Date().toISOString();
    await this.repos.inbox.updateMessageAlone(msg.id, { status: 'sent', provider_message_id: progress.ids[0] ?? null, sent_at: now, updated_at: now });
    await this.health.succeeded(channel);
    await this.inbox.emit(channel, conv.id, 'message.status', { kind: 'status', message_id: msg.id, status: 'sent', provider_message_ids: progress.ids, chunks: chunks.length }, `out:${msg.id}:sent`);
    return { kind: 'done' };
  }

  private async render(channel: ChannelRow, conv: ConversationRow, adapter: ProviderAdapter, input: SendInput & { reply_to_provider_message_id?: string }, msgId: string): Promise<OutboundChunk[]> {
    const caps = capabilitiesFor(adapter, channel.channel_type);
    const format = caps.format;
    const attachments = input.attachments?.map((a): OutboundAttachment => (a.media_id && this.media ? this.media.outbound({ ...a, media_id: a.media_id }) : { url: a.url ?? '', kind: a.kind, fileName: a.file_name }));
    if (input.template) return [{ text: '', template: input.template }];
    if (format === 'email') {
      const r = renderFor('email', input.text ?? '');
      return [{ text: r.chunks.join('\n\n'), html: r.html, ...(attachments?.length ? { attachments } : {}), ...(await this.emailHeaders(channel, conv, input, msgId)) }];
    }
    const md = input.text ?? '';
    const texts = md ? renderFor(format, md, { limit: caps.maxTextLength }).chunks : [];
    const replyTo = input.reply_to_provider_message_id ? { replyToProviderMessageId: input.reply_to_provider_message_id } : {};
    // One attachment per message (Telegram, WhatsApp Cloud): each becomes its own chunk. The
    // text is the first one's caption when it fits one (1024 characters), else it goes first.
    // Otherwise (Twilio MMS) they ride on the (last) text.
    if (caps.maxAttachments === 1) {
      const captioned = attachments?.length && md ? renderFor(format, md, { limit: CAPTION_LIMIT }).chunks : undefined;
      const groups = groupAttachments(attachments ?? [], adapter.outbound?.mediaGroup);
      if (groups.length && captioned?.length === 1) {
        const chunks: OutboundChunk[] = groups.map((g, i) => ({ text: i === 0 ? captioned[0] : '', attachments: g }));
        Object.assign(chunks[0], replyTo);
        return chunks;
      }
      const chunks: OutboundChunk[] = [...texts.map((text) => ({ text })), ...groups.map((g) => ({ text: '', attachments: g }))];
      if (chunks.length) Object.assign(chunks[0], replyTo);
      return chunks;
    }
    const chunks: OutboundChunk[] = (texts.length ? texts : ['']).map((text) => ({ text }));
    Object.assign(chunks[0], replyTo);
    if (attachments?.length) chunks[chunks.length - 1].attachments = attachments;
    return chunks;
  }

  /**
   * Threading for email: answer the last inbound email of the conversation, in its thread. A
   * thread Switchboard started (start_conversation) that has no answer yet: its first email
   * carries the thread's Message-ID, later ones answer that first one.
   */
  private async emailHeaders(channel: ChannelRow, conv: ConversationRow, input: SendInput, msgId: string): Promise<Pick<OutboundChunk, 'subject' | 'email'>> {
    const config = JSON.parse(channel.config) as Record<string, unknown>;
    const from = typeof config.from === 'string' ? config.from : channel.external_identifier;
    const started = startedThread(conv);
    const last = await this.repos.conversations.lastInbound(conv.id);
    // snake_case since the public naming (message_id, thread_id); camelCase on older rows.
    const stored = last ? ((JSON.parse(last.content) as { email?: { subject?: string; from?: string; message_id?: string; messageId?: string; references?: string[]; thread_id?: string; threadId?: string } }).email ?? {}) : {};
    const email = { ...stored, messageId: stored.message_id ?? stored.messageId, threadId: stored.thread_id ?? stored.threadId };
    const participant = conv.participant ? (JSON.parse(conv.participant) as { id?: string; email?: string }) : {};
    const to = email.from ?? participant.email ?? participant.id;
    if (!to) throw new Error('this conversation has no email address to answer');
    if (!last && started) {
      const first = !(await this.repos.conversations.hasSentOutbound(conv.id, msgId));
      const thread = started.thread_id ? { threadId: started.thread_id } : {};
      if (first) {
        // Remembered before it goes out: its status events may report the Message-ID the provider
        // really gave it (Inbox re-keys the conversation then), and may come before the send returns.
        if (started.first_message !== msgId) await this.repos.conversations.mergeState(conv.id, { email_thread: { ...started, first_message: msgId } }, new Date().toISOString());
        return { subject: input.subject ?? started.subject, email: { from, to: [to], messageId: started.message_id, ...thread } };
      }
      const subject = input.subject ?? (/^re:/i.test(started.subject) ? started.subject : `Re: ${started.subject}`);
      return { subject, email: { from, to: [to], inReplyTo: started.message_id, references: [started.message_id], ...thread } };
    }
    const subject = input.subject ?? (email.subject ? (/^re:/i.test(email.subject) ? email.subject : `Re: ${email.subject}`) : 'Re:');
    const references = [...(email.references ?? []), ...(email.messageId ? [email.messageId] : [])];
    return {
      subject,
      email: { from, to: [to], ...(email.messageId ? { inReplyTo: email.messageId } : {}), ...(references.length ? { references } : {}), ...(email.threadId ? { threadId: email.threadId } : {}) },
    };
  }

  /**
   * The provider told where a started thread's answers will arrive (a new Gmail thread's
   * threadId): a conversation nobody has answered yet takes that key, so the person's reply lands
   * in it, and later emails go into that thread.
   */
  private async adoptThread(channel: ChannelRow, conv: ConversationRow, r: SendResult): Promise<void> {
    const fresh = await this.repos.conversations.get(conv.id);
    const started = fresh && startedThread(fresh);
    if (!fresh || !started || fresh.last_inbound_at) return;
    if (r.conversationKey && r.conversationKey !== fresh.key && fresh.status === 'open') {
      await this.repos.inbox.transaction((trx) => this.repos.inbox.moveConversationKey(trx, channel.id, r.conversationKey!, [fresh.key]));
    }
    if (r.threadId && r.threadId !== started.thread_id) await this.repos.conversations.mergeState(conv.id, { email_thread: { ...started, thread_id: r.threadId } }, new Date().toISOString());
  }

  private async toWidget(channel: ChannelRow, msg: MessageRow): Promise<JobOutcome> {
    const now = new Date().toISOString();
    // The widget gets the media items themselves (images inline, files as links), signed now, in
    // the same write that marks it delivered: a reader never sees it delivered without its files.
    const input = JSON.parse(msg.content) as SendInput & { widget_attachments?: unknown[] };
    const patch: Partial<MessageRow> = {};
    if (input.attachments?.length && this.media) {
      const items = [];
      for (const a of input.attachments) {
        const row = a.media_id ? await this.media.repo.get(a.media_id) : undefined;
        items.push(row ? this.media.item(row) : { kind: a.kind ?? 'document', url: a.url, file_name: a.file_name, status: 'ready' });
      }
      patch.content = JSON.stringify({ ...input, widget_attachments: items });
    }
    await this.repos.inbox.updateMessageAlone(msg.id, { status: 'delivered', sent_at: now, updated_at: now, ...patch });
    await this.widgets?.publishMessage(msg.conversation_id, msg.id);
    await this.inbox.emit(channel, msg.conversation_id, 'message.status', { kind: 'status', message_id: msg.id, status: 'delivered' }, `out:${msg.id}:delivered`);
    return { kind: 'done' };
  }

  private async saveProgress(job: JobRow, p: Progress): Promise<void> {
    await this.repos.jobs.savePayload(job.seq, JSON.stringify(p));
  }

  private async defer(job: JobRow, p: Progress, ms: number, reason: string): Promise<JobOutcome> {
    await this.saveProgress(job, p);
    return { kind: 'defer', delayMs: ms, reason };
  }

  private async onError(err: unknown, job: JobRow, p: Progress, channel: ChannelRow, msg: MessageRow, sender: OutboundPart, limits: ReturnType<OutboundPart['rateLimits']>): Promise<JobOutcome> {
    if (!(err instanceof ProviderError)) {
      this.log.warn({ err: (err as Error).message, message: msg.id }, 'send failed');
      return this.fail(channel, msg, { code: 'error', message: (err as Error).message }, 'done', 'send_error');
    }
    const e = err;
    const detail = { code: e.code, message: e.message, provider: e.provider, kind: e.kind };
    switch (e.kind) {
      case 'rate_limited': {
        const ms = e.retryAfterMs ?? 1000;
        await this.governor.penalise(limits, ms);
        return this.defer(job, p, ms, `${e.provider} asked to slow down (${e.code})`);
      }
      case 'retryable':
        if (job.attempts >= this.maxAttempts) return this.fail(channel, msg, detail, 'dead', 'provider_unavailable');
        await this.saveProgress(job, p);
        // A retryable refusal that says when to come back (a 503 with Retry-After) is taken at its
        // word; when it is a 429, every node holds back for the same time.
        if (e.retryAfterMs !== undefined && e.httpStatus === 429) await this.governor.penalise(limits, e.retryAfterMs);
        return { kind: 'retry', error: `${e.provider}: ${e.message}`, ...(e.retryAfterMs !== undefined ? { delayMs: e.retryAfterMs } : {}) };
      case 'unknown_outcome':
        if (sender.idempotent && job.attempts < this.maxAttempts) {
          await this.saveProgress(job, p);
          return { kind: 'retry', error: `${e.provider}: ${e.message} (retried with the same idempotency key)` };
        }
        return this.fail(channel, msg, { ...detail, message: `${e.message}. The provider may or may not have delivered it; it is not retried automatically to avoid sending it twice.` }, 'dead', 'unknown_outcome');
      case 'auth':
        await this.health.authFailed(channel, e);
        return this.fail(channel, msg, detail, 'dead', 'provider_auth');
      default:
        if (e.windowClosed) {
          // Remembered, so the next free-form send is refused up front (409) instead of failing here.
          await this.repos.conversations.mergeState(msg.conversation_id, { window_closed_at: new Date().toISOString() }, new Date().toISOString());
          return this.fail(channel, msg, { ...detail, message: `${e.message} (outside the 24-hour window: a template message is required)` }, 'done', 'whatsapp_window_closed');
        }
        return this.fail(channel, msg, detail, 'done', 'provider_refused');
    }
  }

  private async fail(channel: ChannelRow, msg: MessageRow, error: Record<string, unknown>, outcome: 'done' | 'dead', reason: string): Promise<JobOutcome> {
    const now = new Date().toISOString();
    this.log.warn({ message: msg.id, conversation: msg.conversation_id, channel: channel.id, reason, code: error.code, detail: error.message }, 'a message could not be sent');
    await this.repos.inbox.updateMessageAlone(msg.id, { status: 'failed', status_reason: reason, error: JSON.stringify(error), updated_at: now });
    await this.inbox.emit(channel, msg.conversation_id, 'message.status', { kind: 'status', message_id: msg.id, status: 'failed', status_reason: reason, error }, `out:${msg.id}:failed`);
    return outcome === 'done' ? { kind: 'done' } : { kind: 'dead', error: String(error.message ?? 'send failed') };
  }
}

/** Attachments as messages: one each, or runs of the same album key where the sender has albums. */
function groupAttachments(list: OutboundAttachment[], albums: { max: number; key(a: OutboundAttachment): string | undefined } | undefined): OutboundAttachment[][] {
  const out: OutboundAttachment[][] = [];
  let runKey: string | undefined;
  for (const a of list) {
    const key = albums ? albums.key(a) : undefined;
    const last = out[out.length - 1];
    if (key !== undefined && key === runKey && last && last.length < albums!.max) last.push(a);
    else out.push([a]);
    runKey = key;
  }
  return out;
}
