/**
 * Delivers stored events to the instance's agent_url, signed per Standard Webhooks. At-least-once:
 * the webhook-id is the event id on every attempt, so an agent can drop repeats. Any non-2xx
 * answer or network failure is retried on the runner's schedule (a Retry-After is honoured); the
 * agent may answer with `{"reply": {...}}`, which is handed to the reply sink (the outbound side).
 */
import type { Logger } from 'pino';
import { parseRetryAfter } from '../adapters/shared/provider-error.js';
import { blockedCause } from '../net/ssrf.js';
import { readWithIdleTimeout, AgentIdleTimeout, type AgentClient, type AgentResponse, type BuiltinAgent } from './agent-client.js';
import type { JobRow } from '../queue/jobs.js';
import type { JobOutcome } from '../queue/runner.js';
import type { Repos } from '../store/repos/index.js';
import type { InstanceRow } from '../store/repos/instances.js';
import { ReadCache } from '../store/read-cache.js';
import type { WriteWatch } from '../store/write-watch.js';
import type { EventEnvelope } from './event-envelope.js';
import type { EventRow } from '../store/repos/events.js';
import { turnsOf, type TurnControl, type TurnsConfig } from './turns.js';
import type { ChannelRow } from '../store/repos/channels.js';

/** What an agent may put in its response body to answer right away. */
export interface AgentReply {
  text?: string;
  attachments?: unknown[];
  reply_to?: string;
  /** Close the conversation after this answer (the person's next message opens a new one). */
  close?: boolean;
  /** Hand the conversation to humans (mode "human"). */
  handoff?: { reason?: string; assignee?: string } | boolean;
}

/** Receives agent answers (from delivery responses); the outbound pipeline implements it. */
export interface ReplySink {
  acceptAgentReply(event: EventEnvelope, reply: AgentReply, acceptedAt?: string): Promise<void>;
  /** A streamed answer (text/event-stream or chunked text); optional until streaming exists. */
  acceptAgentStream?(event: EventEnvelope, body: AsyncIterable<Uint8Array>, contentType: string): Promise<void>;
  /** The agent's answer to `event` will not come (timeout, a cut connection): record it as failed. */
  answerFailed?(event: EventEnvelope, reason: AgentFailure, detail: string): Promise<void>;
}

export type AgentFailure = 'agent_timeout' | 'agent_error' | 'agent_superseded';

export type { BuiltinAgent } from './agent-client.js';
export { AgentIdleTimeout } from './agent-client.js';

/**
 * How long an agent may take, per instance (`agent_first_byte_timeout_ms`,
 * `agent_idle_timeout_ms`); there is no limit on the whole answer, only on silences, so a long
 * LLM answer streams for as long as it keeps coming.
 */
export interface AgentLimits {
  /** Until the response headers arrive: a whole (JSON) answer must be ready by then. */
  firstByteMs: number;
  /** The longest silence between body chunks (including before the first one). */
  idleMs: number;
}

/** Defaults sized for LLMs: a several-thousand-token JSON answer from a slow model, a reasoning pause mid-stream. */
export const DEFAULT_AGENT_LIMITS: AgentLimits = { firstByteMs: 120_000, idleMs: 60_000 };

export interface DeliveryOptions {
  /** Answers instances whose agent_url is `openai+https://...` (core/bridges/openai-bridge.ts). */
  bridge?: (instance: InstanceRow, event: EventEnvelope) => Promise<JobOutcome>;
  /** Turn control (config.turns); without it every channel queues. */
  turns?: TurnControl;
  /** Installation-wide defaults; an instance's own limits win. */
  limits?: Partial<AgentLimits>;
  /** PostgreSQL: numbers an instance's committed events (an event is delivered with its cursor). */
  sequence?: (instanceId: string) => Promise<void>;
  /** Media capture: how long an event still waits for its media before delivery (media/capture.ts). */
  mediaWaitMs?: (event: EventRow) => number | undefined;
}

export function agentLimitsOf(instance: Pick<InstanceRow, 'agent_first_byte_timeout_ms' | 'agent_idle_timeout_ms'>, defaults: Partial<AgentLimits> = {}): AgentLimits {
  return {
    firstByteMs: instance.agent_first_byte_timeout_ms ?? defaults.firstByteMs ?? DEFAULT_AGENT_LIMITS.firstByteMs,
    idleMs: instance.agent_idle_timeout_ms ?? defaults.idleMs ?? DEFAULT_AGENT_LIMITS.idleMs,
  };
}

/** An answer aborted because a newer message of the person superseded it (config.turns: supersede). */
export class AgentSuperseded extends Error {
  constructor(detail = 'a newer message from the person superseded this answer (turns: supersede)') {
    super(detail);
  }
}

export class AgentDelivery {
  /** Instance rows by id, while unchanged (SQLite; see store/read-cache.ts). */
  private readonly instanceRows: ReadCache<InstanceRow>;
  private readonly channelRows: ReadCache<ChannelRow>;

  constructor(
    private readonly repos: Repos,
    private readonly agents: AgentClient,
    private readonly replies: ReplySink,
    private readonly log: Logger,
    private readonly opts: DeliveryOptions,
    writes?: WriteWatch,
  ) {
    this.instanceRows = new ReadCache(writes, ['instances']);
    this.channelRows = new ReadCache(writes, ['channels']);
    this.turnControl = opts.turns;
  }

  private readonly turnControl?: TurnControl;

  async handle(job: JobRow): Promise<JobOutcome> {
    let event = await this.repos.events.get(job.ref_id);
    if (event && event.seq === null && this.opts.sequence) {
      // Its node committed it but did not get to number it (it died, or lost the database).
      await this.opts.sequence(event.instance_id);
      event = await this.repos.events.get(job.ref_id);
      if (event?.seq === null) return { kind: 'retry', error: 'the event has no cursor yet' };
    }
    if (!event) return { kind: 'done' }; // deleted with its instance or channel
    const wait = this.opts.mediaWaitMs?.(event);
    if (wait !== undefined) return { kind: 'defer', delayMs: wait, reason: 'waiting for the media to be captured' };
    const instance = await this.instanceRows.get(event.instance_id, () => this.repos.instances.get(event.instance_id));
    if (!instance?.agent_url) return { kind: 'dead', error: 'the instance has no agent_url' };
    const builtin = this.agents.builtin(instance.agent_url);
    if (builtin !== null) return this.builtin(builtin, instance.agent_url, JSON.parse(event.payload) as EventEnvelope);
    if (instance.agent_url.startsWith('openai+')) {
      return this.opts.bridge ? this.opts.bridge(instance, JSON.parse(event.payload) as EventEnvelope) : { kind: 'dead', error: 'the OpenAI bridge is not available' };
    }
    const limits = agentLimitsOf(instance, this.opts.limits);
    const answerable = event.type === 'message.received';
    // Turn control (core/turns.ts): a burst waits for the person's next messages and takes them
    // in; a superseded answer's messages come along with the next one.
    let body = event.payload;
    let turns: TurnsConfig = { mode: 'queue', debounceMs: 0, maxWaitMs: 0 };
    if (answerable && this.turnControl && event.channel_id) {
      const channel = await this.channelRows.get(event.channel_id, () => this.repos.channels.get(event.channel_id!));
      turns = turnsOf(channel ? (JSON.parse(channel.config) as Record<string, unknown>) : {});
      const stored = JSON.parse(body) as EventEnvelope;
      const prepared = await this.turnControl.prepare(job, stored, turns);
      if (prepared.kind === 'defer') return { kind: 'defer', delayMs: prepared.delayMs, reason: 'turns: burst, waiting for more messages' };
      if (prepared.envelope !== stored) body = JSON.stringify(prepared.envelope);
    }
    // Time to first byte: until the response headers arrive. A streamed answer may then take as
    // long as it keeps coming, bounded by the idle limit between chunks (readWithIdleTimeout).
    const abort = new AbortController();
    let superseded = false;
    const stopWatching =
      turns.mode === 'supersede' && this.turnControl
        ? this.turnControl.watch(job, () => {
            superseded = true;
            abort.abort(new AgentSuperseded());
          })
        : () => undefined;
    try {
      return await this.exchange(instance, job.attempts, body, abort, limits, answerable, () => superseded, event.id);
    } finally {
      stopWatching();
      if (superseded && this.turnControl) await this.turnControl.carryForward(job, JSON.parse(body) as EventEnvelope);
    }
  }

  /** One POST to the agent and what its answer becomes. */
  private async exchange(instance: InstanceRow, attempt: number, body: string, abort: AbortController, limits: AgentLimits, answerable: boolean, superseded: () => boolean, eventId: string): Promise<JobOutcome> {
    const event = { id: eventId };
    let res: AgentResponse;
    try {
      // 1 on the first try, 2 on the first retry...
      res = await this.agents.post(instance, event.id, body, { attempt, abort, firstByteMs: limits.firstByteMs });
    } catch (err) {
      const blocked = blockedCause(err);
      if (blocked) {
        return { kind: 'dead', error: `agent_url ${blocked.message}. Private addresses need SWITCHBOARD_ALLOW_PRIVATE_URLS=true.` };
      }
      if (superseded()) {
        await this.answerFailed(event.id, body, 'agent_superseded', new AgentSuperseded().message);
        return { kind: 'done' };
      }
      if (abort.signal.aborted) {
        const detail = `the agent sent no response within ${limits.firstByteMs} ms (agent_first_byte_timeout_ms)`;
        // The agent took the event and is (or was) working on it: calling it again would run the
        // model again and answer late. The answer is recorded as failed; the agent may still
        // send it with POST .../messages. Events that need no answer are retried as usual.
        if (answerable) {
          await this.answerFailed(event.id, body, 'agent_timeout', detail);
          return { kind: 'done' };
        }
        return { kind: 'retry', error: detail };
      }
      return { kind: 'retry', error: `could not reach the agent: ${(err as Error).message}` };
    }

    if (res.status < 200 || res.status >= 300) {
      await res.discard();
      const ra = parseRetryAfter(res.header('retry-after'), Date.now(), AGENT_RETRY_AFTER_MAX_MS);
      const kind = res.status >= 300 && res.status < 400 ? 'redirect (not followed)' : `HTTP ${res.status}`;
      return { kind: 'retry', error: `the agent answered ${kind}`, ...(ra !== undefined ? { delayMs: ra } : {}) };
    }

    // Only a person's message can be answered: a reply to a status or call event would make a new
    // message, whose status event the agent would answer again, and so on.
    if (!answerable) {
      await res.discard();
      return { kind: 'done' };
    }
    const envelope = JSON.parse(body) as EventEnvelope;
    const type = (res.header('content-type') ?? '').toLowerCase();
    const chunks = readWithIdleTimeout(res.body, abort, limits.idleMs);
    const acceptedAt = new Date().toISOString();
    try {
      if (this.replies.acceptAgentStream && (type.startsWith('text/event-stream') || type.startsWith('text/plain'))) {
        await this.replies.acceptAgentStream(envelope, chunks, type);
      } else if (type.includes('json')) {
        let text: string;
        try {
          text = await readText(chunks);
        } catch (err) {
          if (superseded()) {
            await this.answerFailed(event.id, body, 'agent_superseded', new AgentSuperseded().message);
            return { kind: 'done' };
          }
          const detail = err instanceof AgentIdleTimeout ? `${err.message} (agent_idle_timeout_ms)` : `the connection broke while the agent's answer arrived: ${(err as Error).message}`;
          await this.answerFailed(event.id, body, err instanceof AgentIdleTimeout ? 'agent_timeout' : 'agent_error', detail);
          return { kind: 'done' };
        }
        const reply = parseReply(text);
        if (reply) await this.replies.acceptAgentReply(envelope, reply, acceptedAt);
      } else {
        await res.discard();
      }
    } catch (err) {
      // Delivered all the same: the agent got the event. A bad answer is logged, not redelivered.
      this.log.warn({ err: (err as Error).message, event: event.id }, 'the agent answer could not be used');
    }
    return { kind: 'done' };
  }

  private async answerFailed(eventId: string, payload: string, reason: AgentFailure, detail: string): Promise<void> {
    this.log.warn({ event: eventId, reason, detail }, 'no answer from the agent');
    await this.replies.answerFailed?.(JSON.parse(payload) as EventEnvelope, reason, detail);
  }

  private async builtin(agent: BuiltinAgent | undefined, url: string, envelope: EventEnvelope): Promise<JobOutcome> {
    if (!agent) return { kind: 'dead', error: `unknown built-in agent ${url}` };
    if (envelope.type !== 'message.received') return { kind: 'done' };
    if (!this.replies.acceptAgentStream) return { kind: 'dead', error: 'streaming answers are not available' };
    await this.replies.acceptAgentStream(envelope, asBytes(agent(envelope)), 'text/plain');
    return { kind: 'done' };
  }
}

async function readText(chunks: AsyncIterable<Uint8Array>): Promise<string> {
  const decoder = new TextDecoder();
  let text = '';
  for await (const c of chunks) text += decoder.decode(c, { stream: true });
  return text + decoder.decode();
}

/** Text deltas as the bytes a streaming HTTP agent would have sent. */
async function* asBytes(tokens: AsyncIterable<string>): AsyncGenerator<Uint8Array> {
  const enc = new TextEncoder();
  for await (const t of tokens) yield enc.encode(t);
}

function parseReply(text: string): AgentReply | undefined {
  if (!text.trim()) return undefined;
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return undefined;
  }
  const r = (v as { reply?: unknown })?.reply;
  if (!r || typeof r !== 'object' || Array.isArray(r)) return undefined;
  const reply = r as Record<string, unknown>;
  if (typeof reply.text !== 'string' && !Array.isArray(reply.attachments) && reply.close !== true && !reply.handoff) return undefined;
  return reply as AgentReply;
}

/** An agent's Retry-After counts for at most an hour (a mistaken header must not park its events for days). */
export const AGENT_RETRY_AFTER_MAX_MS = 3_600_000;
