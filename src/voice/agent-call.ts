/**
 * Calls the instance's agent for one voice turn, in-process and at once (no job queue: a caller
 * is waiting). The request is the one core/delivery.ts makes — the stored event's JSON, signed per
 * Standard Webhooks, through the SSRF-guarded fetch — so an agent serves calls with no extra code.
 * `builtin:<name>` agents are called directly. Aborting the signal cancels the HTTP request (a
 * caller who barges in, or hangs up).
 *
 * @example
 *   for await (const part of agent.answer(instance, envelopeJson, eventId, abort.signal)) ...
 */
import { standardWebhookHeaders } from '../crypto/standard-webhooks.js';
import type { SecretBox } from '../crypto/secret-box.js';
import type { BuiltinAgent } from '../core/delivery.js';
import type { EventEnvelope } from '../core/event-envelope.js';
import { signingSecretAad } from '../core/instances.js';
import type { InstanceRow } from '../store/repos/instances.js';
import { answerParts, type AnswerPart } from './agent-answer.js';

export interface VoiceAgentOptions {
  /** Longest wait for the agent's response headers. */
  headerTimeoutMs: number;
  /** Longest silence inside a streamed answer. */
  idleMs: number;
  builtins: Record<string, BuiltinAgent>;
}

/** The agent could not be asked or did not answer usably; `message` is for logs, never the caller. */
export class AgentCallError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AgentCallError';
  }
}

export class VoiceAgent {
  constructor(
    private readonly box: SecretBox,
    private readonly fetchAgent: typeof fetch,
    private readonly opts: VoiceAgentOptions,
  ) {}

  async *answer(instance: InstanceRow, payload: string, eventId: string, signal: AbortSignal): AsyncGenerator<AnswerPart> {
    const url = instance.agent_url;
    if (!url) throw new AgentCallError('the instance has no agent_url');
    if (url.startsWith('builtin:')) {
      const agent = this.opts.builtins[url.slice('builtin:'.length)];
      if (!agent) throw new AgentCallError(`unknown built-in agent ${url}`);
      for await (const text of agent(JSON.parse(payload) as EventEnvelope)) {
        if (signal.aborted) return;
        yield { text };
      }
      return;
    }

    const secret = this.box.decrypt(instance.signing_secret_enc, signingSecretAad(instance.id));
    const headers = { 'content-type': 'application/json', 'user-agent': 'Switchboard-Webhooks/1', 'webhook-attempt': '1', ...standardWebhookHeaders(secret, eventId, payload) };
    const local = new AbortController();
    const onAbort = () => local.abort(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    let timer = setTimeout(() => local.abort(new DOMException('timeout', 'TimeoutError')), this.opts.headerTimeoutMs);
    try {
      let res: Response;
      try {
        res = await this.fetchAgent(url, { method: 'POST', headers, body: payload, signal: local.signal });
      } catch (err) {
        if (signal.aborted) return;
        throw new AgentCallError(local.signal.aborted ? `no answer within ${this.opts.headerTimeoutMs} ms` : `could not reach the agent: ${(err as Error).message}`);
      }
      if (res.status < 200 || res.status >= 300) {
        await res.body?.cancel().catch(() => undefined);
        throw new AgentCallError(`the agent answered HTTP ${res.status}`);
      }
      if (!res.body) return;
      clearTimeout(timer);
      const idle = () => setTimeout(() => local.abort(new DOMException('idle', 'TimeoutError')), this.opts.idleMs);
      timer = idle();
      try {
        for await (const part of answerParts(res.body as unknown as AsyncIterable<Uint8Array>, res.headers.get('content-type') ?? '')) {
          clearTimeout(timer);
          yield part;
          timer = idle();
        }
      } catch (err) {
        if (signal.aborted) return;
        throw new AgentCallError(`the agent's answer broke off: ${(err as Error).message}`);
      }
    } finally {
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      // A consumer that stops early (barge-in) leaves the body unread: cancel the request.
      if (!local.signal.aborted) local.abort();
    }
  }
}
