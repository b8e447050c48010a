/**
 * The inbound pipeline's commit point. Given the verified, parsed events of one webhook request,
 * stores each new one — event, conversation, message or status change, and the job that delivers
 * it to the agent — in a single transaction, and only then lets the route answer 2xx. A provider's
 * retry of an event already stored changes nothing.
 */
import { newId } from '../store/ids.js';
import type { Notifier } from '../queue/notifier.js';
import { channelName } from '../queue/notifier.js';
import type { JobsRepo } from '../queue/jobs.js';
import type { ChannelRow } from '../store/repos/channels.js';
import type { ConversationState, EventInsert, InboxRepo, Tx } from '../store/repos/inbox.js';
import type { DeliveryStatus, InboundEvent, MessageEvent } from './events.js';
import { messageRow } from './message-row.js';
import { threadRootReported } from './outbound/email-thread.js';
import { eventTypeOf } from './events.js';
import { envelopeFor, eventData, messageContent, unsequencedPayload, type EventEnvelope } from './event-envelope.js';
import type { EventSequencer } from './event-sequencer.js';

export interface IngestResult {
  stored: number;
  duplicates: number;
  eventIds: string[];
}

interface IngestItem {
  channel: ChannelRow;
  events: InboundEvent[];
  deliver: boolean;
}

interface PendingIngest extends IngestItem {
  resolve(r: IngestResult): void;
  reject(err: unknown): void;
}

/**
 * An instance's state inside one transaction: its numbering on SQLite (`seq` null on PostgreSQL,
 * where the sequencer numbers events after commit).
 */
interface InstanceState {
  start: number;
  seq: number | null;
  stored: number;
  agentUrl: string | null;
  queued: boolean;
}

/** Concurrent group-commit transactions per node on PostgreSQL (SQLite has one connection). */
const PG_FLUSHES = 4;

/**
 * PostgreSQL batch state: the dedupe keys already stored (read once for the whole batch) and the
 * events to insert, written in one statement before the commit. Their `pos` is still drawn while
 * the batch holds its conversations' row locks, so per conversation it follows commit order.
 */
interface PgBatch {
  known: Set<string>;
  events: EventInsert[];
}

/** How a provider event is recognised when it comes again: its channel and the provider's own event id. */
export function dedupeKeyOf(channel: Pick<ChannelRow, 'id'>, e: Pick<InboundEvent, 'providerEventId'>): string {
  return `${channel.id}\n${e.providerEventId}`;
}

/** Later statuses never move a message backwards (a late "sent" after "read" is ignored). */
const STATUS_RANK: Record<string, number> = { queued: 0, sending: 1, sent: 2, delivered: 3, read: 4, failed: 5 };

/** Inbound media capture (media/capture.ts): pending items and their job, in the ingest transaction. */
export interface MediaHook {
  /** `messageId` null: media of an event that is no message (a call's recording). */
  prepare(trx: Tx, channel: ChannelRow, e: { media?: MessageEvent['media']; from?: MessageEvent['from'] }, messageId: string | null, eventId: string, now: string): Promise<unknown[]>;
}

export class Inbox {
  private readonly pg: boolean;

  constructor(
    private readonly repo: InboxRepo,
    private readonly jobs: JobsRepo,
    private readonly notifier: Notifier,
    private readonly pgSchema?: string,
    /** PostgreSQL: numbers events after their commit (required there). */
    private readonly sequencer?: EventSequencer,
    /** Inbound media capture; without it media references stay in the event's `raw` only. */
    private readonly media?: MediaHook,
  ) {
    this.pg = repo.dialect === 'postgres';
    if (this.pg && !sequencer) throw new Error('the PostgreSQL inbox needs an event sequencer');
  }

  /**
   * `deliver: false` stores the events without queuing their delivery: for callers that deliver
   * them to the agent themselves, in-process (voice turns, where latency matters).
   */
  async ingest(channel: ChannelRow, events: InboundEvent[], opts: { deliver?: boolean } = {}): Promise<IngestResult> {
    const deliver = opts.deliver !== false;
    if (events.length === 0) return { stored: 0, duplicates: 0, eventIds: [] };
    return new Promise((resolve, reject) => {
      this.pending.push({ channel, events, deliver, resolve, reject });
      this.schedule();
    });
  }

  /**
   * Group commit: the webhooks that arrive while a transaction runs are committed together in the
   * next one, each answered only after that commit. SQLite runs one such transaction at a time
   * (one connection); PostgreSQL up to PG_FLUSHES per node, so its own commits overlap too.
   * Sharing a transaction amortises BEGIN/COMMIT, the instance read and the wake-ups (and, on
   * SQLite, the instance lock and sequence update). If a shared transaction fails, each request
   * is retried alone, so one bad request cannot fail the others.
   */
  private pending: PendingIngest[] = [];
  private flushScheduled = false;
  private flushing = 0;

  private schedule(): void {
    if (this.flushScheduled || this.pending.length === 0) return;
    if (this.pg && this.flushing >= PG_FLUSHES) return; // a finishing flush reschedules
    this.flushScheduled = true;
    setImmediate(() => void this.flush());
  }

  private async flush(): Promise<void> {
    this.flushScheduled = false;
    const batch = this.pending.splice(0, 256);
    if (batch.length === 0) return;
    this.flushing++;
    if (!this.pg) this.schedule();
    let released = false;
    // The slot is given back as soon as the transaction is over: what follows the commit
    // (PostgreSQL's numbering, see commitBatchPg) then overlaps the next batch's transaction.
    const release = () => {
      if (released) return;
      released = true;
      this.flushing--;
      this.schedule();
    };
    try {
      const { results, after } = await this.commitBatch(batch);
      release();
      await after;
      batch.forEach((b, i) => b.resolve(results[i]));
    } catch {
      release();
      await Promise.all(batch.map((b) => this.commitAlone(b).then(b.resolve, b.reject)));
    } finally {
      release();
    }
  }

  /**
   * One request in a transaction of its own. On PostgreSQL two copies of one event can be in
   * flight on two nodes at once (a provider's retry racing the original): both pass the duplicate
   * check, the second waits on the unique key and fails when the first commits. Tried again, it
   * finds the first copy and is a no-op. A deadlock (two batches taking two conversations in
   * opposite orders) is retried the same way.
   */
  private async commitAlone(item: IngestItem): Promise<IngestResult> {
    for (let attempt = 1; ; attempt++) {
      try {
        const { results, after } = await this.commitBatch([item]);
        await after;
        return results[0];
      } catch (err) {
        const code = (err as { code?: string }).code;
        if (attempt >= 3 || !(code === '23505' || code === '40P01' || code === '40001')) throw err;
      }
    }
  }

  /** Commits a batch; `after` settles once what must follow the commit before answering is done. */
  private async commitBatch(batch: IngestItem[]): Promise<{ results: IngestResult[]; after?: Promise<unknown> }> {
    if (this.pg) return this.commitBatchPg(batch);
    const now = new Date();
    const nowIso = now.toISOString();
    const insts = new Map<string, InstanceState>();
    const touched = new Set<string>();
    const out = await this.repo.transaction(async (trx) => {
      const results: IngestResult[] = [];
      for (const item of batch) {
        results.push(await this.ingestIn(trx, item.channel, item.events, item.deliver, insts, nowIso));
        if (!touched.has(item.channel.id) && this.needsTouch(item.channel, now.getTime())) {
          touched.add(item.channel.id);
          await this.repo.touchChannel(trx, item.channel.id, nowIso, new Date(now.getTime() - 1000).toISOString());
        }
      }
      let queued = false;
      for (const [instanceId, st] of insts) {
        if (st.seq === st.start || st.seq === null) continue;
        await this.repo.setEventSeq(trx, instanceId, st.seq);
        queued ||= st.queued;
      }
      if ([...insts.values()].some((st) => st.seq !== st.start)) await this.repo.notify(trx, channelName('events', this.pgSchema));
      if (queued) await this.repo.notify(trx, channelName('jobs', this.pgSchema));
      return results;
    });
    if ([...insts.values()].some((st) => st.queued)) this.notifier.local('jobs');
    for (const [instanceId, st] of insts) if (st.seq !== st.start) this.notifier.local('events', instanceId);
    return { results: out };
  }

  /**
   * PostgreSQL: the same writes without the instance lock; events go in unnumbered. Items are
   * taken in conversation order so concurrent batches lock conversations in one order (no
   * deadlocks); a conversation's own items keep their arrival order (a stable sort). The channel's
   * last_event_at is moved after the commit: in the transaction its row lock would serialise every
   * batch of the channel across nodes. Numbering and the touch run after the commit, outside the
   * batch's flush slot (`after`): the requests are answered once their events are numbered.
   */
  private async commitBatchPg(batch: IngestItem[]): Promise<{ results: IngestResult[]; after: Promise<unknown> }> {
    const now = new Date();
    const nowIso = now.toISOString();
    const insts = new Map<string, InstanceState>();
    const order = batch.map((item, i) => ({ item, i, key: `${item.channel.id}\n${item.events[0]?.conversationKey ?? ''}` }));
    order.sort((x, y) => (x.key < y.key ? -1 : x.key > y.key ? 1 : x.i - y.i));
    const results: IngestResult[] = new Array(batch.length);
    await this.repo.transaction(async (trx) => {
      const keys = batch.flatMap((item) => item.events.map((e) => dedupeKeyOf(item.channel, e)));
      const pgBatch: PgBatch = { known: await this.repo.knownDedupeKeys(trx, keys), events: [] };
      for (const { item, i } of order) results[i] = await this.ingestIn(trx, item.channel, item.events, item.deliver, insts, nowIso, pgBatch);
      await this.repo.insertEventsUnnumbered(trx, pgBatch.events);
      if ([...insts.values()].some((st) => st.queued)) await this.repo.notify(trx, channelName('jobs', this.pgSchema));
    });
    if ([...insts.values()].some((st) => st.queued)) this.notifier.local('jobs');
    const touched = new Map<string, ChannelRow>();
    for (const item of batch) if (!touched.has(item.channel.id) && this.needsTouch(item.channel, now.getTime())) touched.set(item.channel.id, item.channel);
    const after = Promise.all([
      ...[...insts].filter(([, st]) => st.stored > 0).map(([id]) => this.sequenced(id)),
      ...[...touched.keys()].map((id) => this.repo.touchChannelAlone(id, nowIso, new Date(now.getTime() - 1000).toISOString()).catch(() => undefined)),
    ]);
    return { results, after };
  }

  /**
   * Numbers the instance's just-committed events before the webhook is answered. A failure here
   * does not fail the request: its events are committed, and the sweep numbers them later.
   */
  private async sequenced(instanceId: string): Promise<void> {
    try {
      await this.sequencer!.sequence(instanceId);
      this.notifier.local('events', instanceId);
    } catch {
      // see EventSequencer.startSweep
    }
  }

  /**
   * last_event_at moves at most once a second per channel (per node): the UPDATE is skipped in
   * memory rather than filtered in SQL, because even a no-op write to `channels` invalidates the
   * channel caches. A pending channel is always touched, so it turns active on its first event.
   */
  private readonly lastTouch = new Map<string, number>();

  private needsTouch(channel: ChannelRow, nowMs: number): boolean {
    const last = this.lastTouch.get(channel.id);
    if (channel.status !== 'pending' && last !== undefined && nowMs - last < 1000) return false;
    if (this.lastTouch.size > 100_000) this.lastTouch.clear();
    this.lastTouch.set(channel.id, nowMs);
    return true;
  }

  /** One request's events inside a (possibly shared) transaction. */
  private async ingestIn(trx: Tx, channel: ChannelRow, events: InboundEvent[], deliver: boolean, insts: Map<string, InstanceState>, nowIso: string, pgBatch?: PgBatch): Promise<IngestResult> {
    const insertEvent = (row: EventInsert) => (pgBatch ? void pgBatch.events.push(row) : this.repo.insertEvent(trx, row));
    let inst = insts.get(channel.instance_id);
    if (!inst) {
      if (this.pg) {
        const found = await this.repo.instanceAgent(trx, channel.instance_id);
        if (!found) return { stored: 0, duplicates: events.length, eventIds: [] };
        inst = { start: 0, seq: null, stored: 0, agentUrl: found.agent_url, queued: false };
      } else {
        const locked = await this.repo.lockInstance(trx, channel.instance_id);
        if (!locked) return { stored: 0, duplicates: events.length, eventIds: [] };
        inst = { start: locked.event_seq, seq: locked.event_seq, stored: 0, agentUrl: locked.agent_url, queued: false };
      }
      insts.set(channel.instance_id, inst);
    }
    const out: IngestResult = { stored: 0, duplicates: 0, eventIds: [] };
    for (const e of events) {
      const dedupeKey = dedupeKeyOf(channel, e);
      if (pgBatch ? pgBatch.known.has(dedupeKey) : await this.repo.eventExists(trx, dedupeKey)) {
        out.duplicates++;
        continue;
      }
      pgBatch?.known.add(dedupeKey); // a second copy in the same batch is a duplicate too
      const { envelope, opened } = await this.storeOne(trx, channel, e, nowIso);
      if (opened) {
        // A new conversation: its conversation.opened event comes first, in the same delivery group.
        const openSeq = inst.seq === null ? null : ++inst.seq;
        inst.stored++;
        const ev = openedEnvelope(channel, opened, openSeq, nowIso);
        await insertEvent({ id: ev.id, instance_id: channel.instance_id, seq: openSeq, channel_id: channel.id, conversation_id: opened.id, type: ev.type, dedupe_key: `conv:${opened.id}:opened`, payload: openSeq === null ? unsequencedPayload(ev) : JSON.stringify(ev), created_at: nowIso });
        if (inst.agentUrl) {
          await this.jobs.enqueue(trx, { kind: 'deliver', instanceId: channel.instance_id, groupKey: `deliver:${opened.id}`, refId: ev.id }, nowIso);
          inst.queued = true;
        }
      }
      const seq = inst.seq === null ? null : ++inst.seq;
      inst.stored++;
      envelope.cursor = seq === null ? '' : String(seq); // PostgreSQL: written in by the sequencer
      if (Array.isArray(envelope.data.attachments)) inst.queued = true; // a capture job
      await insertEvent({
        id: envelope.id,
        instance_id: channel.instance_id,
        seq,
        channel_id: channel.id,
        conversation_id: envelope.conversation_id,
        type: envelope.type,
        dedupe_key: dedupeKey,
        payload: seq === null ? unsequencedPayload(envelope) : JSON.stringify(envelope),
        created_at: nowIso,
      });
      if (inst.agentUrl && deliver) {
        await this.jobs.enqueue(trx, { kind: 'deliver', instanceId: channel.instance_id, groupKey: `deliver:${envelope.conversation_id ?? envelope.id}`, refId: envelope.id }, nowIso);
        inst.queued = true;
      }
      out.stored++;
      out.eventIds.push(envelope.id);
    }
    return out;
  }

  /**
   * Records an event Switchboard itself raises (an outbound message's status, a channel error, a
   * conversation's lifecycle) and queues its delivery, exactly like a provider's event.
   * `dedupeKey` makes it once-only. `change`, when given, runs first in the same transaction: the
   * state change and its event commit together, and `false` from it means nothing changed, so no
   * event. Returns whether the event was stored.
   */
  async emit(channel: ChannelRow, conversationId: string | null, type: string, data: Record<string, unknown>, dedupeKey: string, change?: (trx: Tx) => Promise<boolean>): Promise<boolean> {
    if (this.pg) return this.emitPg(channel, conversationId, type, data, dedupeKey, change);
    const nowIso = new Date().toISOString();
    let stored = false;
    let agent = false;
    await this.repo.transaction(async (trx) => {
      const inst = await this.repo.lockInstance(trx, channel.instance_id);
      if (!inst || (await this.repo.eventExists(trx, dedupeKey))) return;
      if (change && !(await change(trx))) return;
      const seq = inst.event_seq + 1;
      const conversation = conversationId ? ((await this.repo.conversationState(trx, conversationId)) ?? null) : null;
      const envelope = envelopeFor(channel, { id: newId(), type, conversation, conversationId, data, createdAt: nowIso, cursor: String(seq) });
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
    return stored;
  }

  /** emit() on PostgreSQL: unnumbered, no instance lock; the conversation's row orders it. */
  private async emitPg(channel: ChannelRow, conversationId: string | null, type: string, data: Record<string, unknown>, dedupeKey: string, change?: (trx: Tx) => Promise<boolean>): Promise<boolean> {
    const nowIso = new Date().toISOString();
    let stored = false;
    let agent = false;
    try {
      await this.repo.transaction(async (trx) => {
        const inst = await this.repo.instanceAgent(trx, channel.instance_id);
        if (!inst || (await this.repo.eventExists(trx, dedupeKey))) return;
        if (conversationId) await this.repo.lockConversation(trx, conversationId);
        if (change && !(await change(trx))) return;
        const conversation = conversationId ? ((await this.repo.conversationState(trx, conversationId)) ?? null) : null;
        const envelope = envelopeFor(channel, { id: newId(), type, conversation, conversationId, data, createdAt: nowIso });
        await this.repo.insertEvent(trx, { id: envelope.id, instance_id: channel.instance_id, seq: null, channel_id: channel.id, conversation_id: conversationId, type, dedupe_key: dedupeKey, payload: unsequencedPayload(envelope), created_at: nowIso });
        if (inst.agent_url) {
          await this.jobs.enqueue(trx, { kind: 'deliver', instanceId: channel.instance_id, groupKey: `deliver:${conversationId ?? envelope.id}`, refId: envelope.id }, nowIso);
          await this.repo.notify(trx, channelName('jobs', this.pgSchema));
          agent = true;
        }
        stored = true;
      });
    } catch (err) {
      // The same event raised on another node at the same moment: that copy is the one.
      if ((err as { code?: string }).code === '23505') return false;
      throw err;
    }
    if (agent) this.notifier.local('jobs');
    if (stored) await this.sequenced(channel.instance_id);
    return stored;
  }

  /**
   * A thread Switchboard started by email, whose first email the provider gave a Message-ID of its
   * own: the conversation is re-keyed to it (the person's reply names it), and later emails answer it.
   */
  private async threadRoot(trx: Tx, channelId: string, conversationId: string, messageId: string, reported: string): Promise<void> {
    const conv = await this.repo.conversationThread(trx, conversationId);
    const change = conv && threadRootReported(conv, messageId, reported);
    if (!change) return;
    await this.repo.setConversationState(trx, conversationId, change.state);
    await this.repo.moveConversationKey(trx, channelId, change.key, [conv.key]);
  }

  /**
   * Conversation + message/status rows for one new event; returns its envelope (cursor set by the
   * caller) and the conversation when this event opened it.
   */
  private async storeOne(trx: Tx, channel: ChannelRow, e: InboundEvent, now: string): Promise<{ envelope: EventEnvelope; opened?: ConversationState }> {
    const eventId = newId();
    let conversation: ConversationState | null = null;
    let opened: ConversationState | undefined;
    let messageId: string | undefined;
    let attachments: unknown[] | undefined;

    if (e.conversationKey && e.previousConversationKeys?.length) await this.repo.moveConversationKey(trx, channel.id, e.conversationKey, e.previousConversationKeys);
    if (e.kind === 'message') {
      const conv = await this.repo.upsertConversation(trx, { instanceId: channel.instance_id, channelId: channel.id, key: e.conversationKey, participant: e.from, inboundAt: e.occurredAt, messageAt: now, now });
      conversation = { id: conv.id, status: conv.status, mode: conv.mode };
      if (conv.created) opened = conversation;
      messageId = newId();
      await this.repo.insertMessage(
        trx,
        messageRow({
          id: messageId,
          instanceId: channel.instance_id,
          channelId: channel.id,
          conversationId: conv.id,
          direction: 'in',
          providerMessageId: e.providerMessageId,
          status: 'received',
          text: e.text ?? e.email?.text ?? null,
          // The provider's raw payload is kept once, on the event (data.raw); the message keeps the
          // normalised fields. Emails and WhatsApp batches made it the largest part of both rows.
          content: messageContent(e),
          at: now,
          author: contactAuthor(e.from),
        }),
      );
      if (e.media?.length && this.media) attachments = await this.media.prepare(trx, channel, e, messageId, eventId, now);
    } else if (e.kind === 'status') {
      const msg = await this.repo.messageByProviderId(trx, channel.id, e.providerMessageId);
      if (msg) {
        conversation = { id: msg.conversation_id, status: msg.conv_status, mode: msg.conv_mode };
        // Without the instance lock (PostgreSQL), the conversation's row orders its deliveries.
        if (this.pg) await this.repo.lockConversation(trx, msg.conversation_id);
        messageId = msg.id;
        if (e.emailMessageId) await this.threadRoot(trx, channel.id, msg.conversation_id, msg.id, e.emailMessageId);
        if (advances(msg.status, e.status)) {
          await this.repo.updateMessage(trx, msg.id, { status: e.status, error: e.error ? JSON.stringify(e.error) : msg.error, ...(e.status === 'failed' ? { status_reason: 'delivery_failed' } : {}), updated_at: now });
        }
      }
    } else if (e.conversationKey) {
      const conv = await this.repo.upsertConversation(trx, { instanceId: channel.instance_id, channelId: channel.id, key: e.conversationKey, participant: e.kind === 'call' ? e.from : undefined, now });
      conversation = { id: conv.id, status: conv.status, mode: conv.mode };
      if (conv.created) opened = conversation;
      if (e.kind === 'call' && e.media?.length && this.media) attachments = await this.media.prepare(trx, channel, e, null, eventId, now);
    }

    const envelope = envelopeFor(channel, { id: eventId, type: eventTypeOf(e), conversation, data: attachments ? withAttachments(eventData(e, messageId), attachments) : eventData(e, messageId), createdAt: now });
    return { envelope, ...(opened ? { opened } : {}) };
  }
}

/** The author of a person's message, from the provider's party. */
function contactAuthor(from: { id: string; name?: string } | undefined): Record<string, unknown> {
  return { kind: 'contact', ...(from?.id ? { id: from.id } : {}), ...(from?.name ? { name: from.name } : {}) };
}

function openedEnvelope(channel: ChannelRow, conv: ConversationState, seq: number | null, now: string): EventEnvelope {
  const data = { kind: 'conversation', status: conv.status, mode: conv.mode, reason: 'first_message' };
  return envelopeFor(channel, { id: newId(), type: 'conversation.opened', conversation: conv, data, createdAt: now, cursor: seq === null ? '' : String(seq) });
}

function advances(current: string, next: DeliveryStatus): boolean {
  if (next === 'failed') return current !== 'failed';
  return (STATUS_RANK[next] ?? 0) > (STATUS_RANK[current] ?? -1);
}

/** The provider's media references become media items (`data.attachments`; the references stay in `raw`). */
function withAttachments(data: Record<string, unknown>, attachments: unknown[]): Record<string, unknown> {
  const { media: _refs, ...rest } = data;
  return { ...rest, attachments };
}
