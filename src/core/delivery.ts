/**
 * Delivers stored events to the instance's agent_url, signed per Standard Webhooks. At-least-once:
 * the webhook-id is the event id on every attempt, so an agent can drop repeats. Any non-2xx
 * answer or network failure is retried on the runner's schedule (a Retry-After is honoured); the
 * agent may answer with `{"reply": {...}}`, which is handed to the reply sink (the outbound side).
 */
import type { Logger } from 'pino';
import { standardWebhookHeaders } from '../crypto/standard-webhooks.js';
import type { SecretBox } from '../crypto/secret-box.js';
import { BlockedUrlError, type GuardedRequest, type GuardedResponse } from '../net/ssrf.js';
import type { JobRow } from '../queue/jobs.js';
import type { JobOutcome } from '../queue/runner.js';
import type { Repos } from '../store/repos/index.js';
import type { InstanceRow } from '../store/repos/instances.js';
import { ReadCache } from '../store/read-cache.js';
import type { WriteWatch } from '../store/write-watch.js';
import type { EventEnvelope } from './event-envelope.js';
import { signingSecretAad } from './instances.js';

/** What an agent may put in its response body to answer right away. */
export interface AgentReply {
  text?: string;
  attachments?: unknown[];
  reply_to?: string;
}

/** Receives agent answers (from delivery responses); the outbound pipeline implements it. */
export interface ReplySink {
  acceptAgentReply(event: EventEnvelope, reply: AgentReply): Promise<void>;
  /** A streamed answer (text/event-stream or chunked text); optional until streaming exists. */
  acceptAgentStream?(event: EventEnvelope, body: AsyncIterable<Uint8Array>, contentType: string): Promise<void>;
}

/** An agent that runs inside Switchboard (`agent_url: builtin:<name>`), answering with a text stream. */
export type BuiltinAgent = (event: EventEnvelope) => AsyncIterable<string>;

export interface DeliveryOptions {
  timeoutMs: number;
  builtins?: Record<string, BuiltinAgent>;
  /** Longest silence allowed inside a streamed answer. */
  idleMs?: number;
  /** Answers instances whose agent_url is `openai+https://...` (core/bridges/openai-bridge.ts). */
  bridge?: (instance: InstanceRow, event: EventEnvelope) => Promise<JobOutcome>;
}

/** Passes chunks through, aborting the request when the agent goes quiet for `idleMs`. */
async function* readWithIdleTimeout(body: AsyncIterable<Uint8Array>, abort: AbortController, idleMs: number): AsyncGenerator<Uint8Array> {
  let timer = setTimeout(() => abort.abort(), idleMs);
  try {
    for await (const chunk of body) {
      clearTimeout(timer);
      yield chunk;
      timer = setTimeout(() => abort.abort(), idleMs);
    }
  } finally {
    clearTimeout(timer);
  }
}

export class AgentDelivery {
  /** Instance rows by id, while unchanged (SQLite; see store/read-cache.ts). */
  private readonly instanceRows: ReadCache<InstanceRow>;

  constructor(
    private readonly repos: Repos,
    private readonly box: SecretBox,
    private readonly postAgent: GuardedRequest,
    private readonly replies: ReplySink,
    private readonly log: Logger,
    private readonly opts: DeliveryOptions,
    writes?: WriteWatch,
  ) {
    this.instanceRows = new ReadCache(writes, ['instances']);
  }

  async handle(job: JobRow): Promise<JobOutcome> {
    const event = await this.repos.events.get(job.ref_id);
    if (!event) return { kind: 'done' }; // deleted with its instance or channel
    const instance = await this.instanceRows.get(event.instance_id, () => this.repos.instances.get(event.instance_id));
    if (!instance?.agent_url) return { kind: 'dead', error: 'the instance has no agent_url' };
    if (instance.agent_url.startsWith('builtin:')) return this.builtin(instance.agent_url, JSON.parse(event.payload) as EventEnvelope);
    if (instance.agent_url.startsWith('openai+')) {
      return this.opts.bridge ? this.opts.bridge(instance, JSON.parse(event.payload) as EventEnvelope) : { kind: 'dead', error: 'the OpenAI bridge is not available' };
    }
    const secret = this.box.decrypt(instance.signing_secret_enc, signingSecretAad(instance.id));
    const body = event.payload;
    const headers = {
      'content-type': 'application/json',
      'user-agent': 'Switchboard-Webhooks/1',
      'webhook-attempt': String(job.attempts),
      ...standardWebhookHeaders(secret, event.id, body),
    };

    // The timeout covers the wait for the agent's response headers; a streamed answer may then take
    // longer, bounded by an idle timeout between chunks (see readWithIdleTimeout).
    const abort = new AbortController();
    const headerTimer = setTimeout(() => abort.abort(new DOMException('timeout', 'TimeoutError')), this.opts.timeoutMs);
    let res: GuardedResponse;
    try {
      res = await this.postAgent(instance.agent_url, { method: 'POST', headers, body, signal: abort.signal });
    } catch (err) {
      if (err instanceof BlockedUrlError || (err as { cause?: unknown }).cause instanceof BlockedUrlError) {
        return { kind: 'dead', error: `agent_url refused: ${(err as Error).message}. Private addresses need SWITCHBOARD_ALLOW_PRIVATE_URLS=true.` };
      }
      const e = err as Error;
      return { kind: 'retry', error: abort.signal.aborted ? `no answer within ${this.opts.timeoutMs} ms` : `could not reach the agent: ${e.message}` };
    } finally {
      clearTimeout(headerTimer);
    }

    if (res.statusCode < 200 || res.statusCode >= 300) {
      await res.body.dump().catch(() => undefined);
      const ra = retryAfterMs(header(res, 'retry-after'));
      const kind = res.statusCode >= 300 && res.statusCode < 400 ? 'redirect (not followed)' : `HTTP ${res.statusCode}`;
      return { kind: 'retry', error: `the agent answered ${kind}`, ...(ra !== undefined ? { delayMs: ra } : {}) };
    }

    // Only a person's message can be answered: a reply to a status or call event would make a new
    // message, whose status event the agent would answer again, and so on.
    if (event.type !== 'message.received') {
      await res.body.dump().catch(() => undefined);
      return { kind: 'done' };
    }
    const envelope = JSON.parse(body) as EventEnvelope;
    const type = (header(res, 'content-type') ?? '').toLowerCase();
    try {
      if (this.replies.acceptAgentStream && (type.startsWith('text/event-stream') || type.startsWith('text/plain'))) {
        await this.replies.acceptAgentStream(envelope, readWithIdleTimeout(res.body, abort, this.opts.idleMs ?? 30_000), type);
      } else if (type.includes('json')) {
        const text = await res.body.text();
        const reply = parseReply(text);
        if (reply) await this.replies.acceptAgentReply(envelope, reply);
      } else {
        await res.body.dump().catch(() => undefined);
      }
    } catch (err) {
      // Delivered all the same: the agent got the event. A bad answer is logged, not redelivered.
      this.log.warn({ err: (err as Error).message, event: event.id }, 'the agent answer could not be used');
    }
    return { kind: 'done' };
  }

  private async builtin(url: string, envelope: EventEnvelope): Promise<JobOutcome> {
    const agent = this.opts.builtins?.[url.slice('builtin:'.length)];
    if (!agent) return { kind: 'dead', error: `unknown built-in agent ${url}` };
    if (envelope.type !== 'message.received') return { kind: 'done' };
    if (!this.replies.acceptAgentStream) return { kind: 'dead', error: 'streaming answers are not available' };
    await this.replies.acceptAgentStream(envelope, asBytes(agent(envelope)), 'text/plain');
    return { kind: 'done' };
  }
}

function header(res: GuardedResponse, name: string): string | null {
  const v = res.headers[name];
  return Array.isArray(v) ? (v[0] ?? null) : (v ?? null);
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
  if (typeof reply.text !== 'string' && !Array.isArray(reply.attachments)) return undefined;
  return reply as AgentReply;
}

/** Retry-After as seconds or an HTTP date, capped at an hour. */
export function retryAfterMs(v: string | null): number | undefined {
  if (!v) return undefined;
  const secs = Number(v);
  const ms = Number.isFinite(secs) ? secs * 1000 : Date.parse(v) - Date.now();
  return Number.isFinite(ms) ? Math.min(Math.max(0, ms), 3_600_000) : undefined;
}
