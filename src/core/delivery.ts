/**
 * Delivers stored events to the instance's agent_url, signed per Standard Webhooks. At-least-once:
 * the webhook-id is the event id on every attempt, so an agent can drop repeats. Any non-2xx
 * answer or network failure is retried on the runner's schedule (a Retry-After is honoured); the
 * agent may answer with `{"reply": {...}}`, which is handed to the reply sink (the outbound side).
 */
import type { Logger } from 'pino';
import { standardWebhookHeaders } from '../crypto/standard-webhooks.js';
import type { SecretBox } from '../crypto/secret-box.js';
import { BlockedUrlError } from '../net/ssrf.js';
import type { JobRow } from '../queue/jobs.js';
import type { JobOutcome } from '../queue/runner.js';
import type { Repos } from '../store/repos/index.js';
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

export interface DeliveryOptions {
  timeoutMs: number;
}

export class AgentDelivery {
  constructor(
    private readonly repos: Repos,
    private readonly box: SecretBox,
    private readonly fetchAgent: typeof fetch,
    private readonly replies: ReplySink,
    private readonly log: Logger,
    private readonly opts: DeliveryOptions,
  ) {}

  async handle(job: JobRow): Promise<JobOutcome> {
    const event = await this.repos.events.get(job.ref_id);
    if (!event) return { kind: 'done' }; // deleted with its instance or channel
    const instance = await this.repos.instances.get(event.instance_id);
    if (!instance?.agent_url) return { kind: 'dead', error: 'the instance has no agent_url' };
    const secret = this.box.decrypt(instance.signing_secret_enc, signingSecretAad(instance.id));
    const body = event.payload;
    const headers = {
      'content-type': 'application/json',
      'user-agent': 'Switchboard-Webhooks/1',
      'webhook-attempt': String(job.attempts),
      ...standardWebhookHeaders(secret, event.id, body),
    };

    let res: Response;
    try {
      res = await this.fetchAgent(instance.agent_url, { method: 'POST', headers, body, signal: AbortSignal.timeout(this.opts.timeoutMs) });
    } catch (err) {
      if (err instanceof BlockedUrlError || (err as { cause?: unknown }).cause instanceof BlockedUrlError) {
        return { kind: 'dead', error: `agent_url refused: ${(err as Error).message}. Private addresses need SWITCHBOARD_ALLOW_PRIVATE_URLS=true.` };
      }
      const e = err as Error;
      return { kind: 'retry', error: e.name === 'TimeoutError' ? `no answer within ${this.opts.timeoutMs} ms` : `could not reach the agent: ${e.message}` };
    }

    if (res.status < 200 || res.status >= 300) {
      await res.body?.cancel().catch(() => undefined);
      const ra = retryAfterMs(res.headers.get('retry-after'));
      const kind = res.status >= 300 && res.status < 400 ? 'redirect (not followed)' : `HTTP ${res.status}`;
      return { kind: 'retry', error: `the agent answered ${kind}`, ...(ra !== undefined ? { delayMs: ra } : {}) };
    }

    const envelope = JSON.parse(body) as EventEnvelope;
    const type = (res.headers.get('content-type') ?? '').toLowerCase();
    try {
      if (this.replies.acceptAgentStream && res.body && (type.startsWith('text/event-stream') || type.startsWith('text/plain'))) {
        await this.replies.acceptAgentStream(envelope, res.body as unknown as AsyncIterable<Uint8Array>, type);
      } else if (type.includes('json')) {
        const text = await res.text();
        const reply = parseReply(text);
        if (reply) await this.replies.acceptAgentReply(envelope, reply);
      } else {
        await res.body?.cancel().catch(() => undefined);
      }
    } catch (err) {
      // Delivered all the same: the agent got the event. A bad answer is logged, not redelivered.
      this.log.warn({ err: (err as Error).message, event: event.id }, 'the agent answer could not be used');
    }
    return { kind: 'done' };
  }
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
