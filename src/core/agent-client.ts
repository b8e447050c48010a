/**
 * The one client that calls an instance's agent: the event delivery (core/delivery.ts, from the
 * job queue, with retries) and voice (voice/agent-call.ts, at once, a caller waiting) both post
 * the stored event JSON here, signed per Standard Webhooks, through the SSRF-guarded request, with
 * a limit on the wait for the response headers and, for the body, on each silence.
 *
 * @example
 *   const abort = new AbortController();
 *   const res = await agents.post(instance, event.id, payload, { attempt: 1, abort, firstByteMs: 10_000 });
 *   for await (const chunk of readWithIdleTimeout(res.body, abort, 30_000)) ...
 */
import { standardWebhookHeaders } from '../crypto/standard-webhooks.js';
import type { SecretBox } from '../crypto/secret-box.js';
import type { GuardedRequest } from '../net/ssrf.js';
import type { InstanceRow } from '../store/repos/instances.js';
import type { EventEnvelope } from './event-envelope.js';
import { signingSecretAad } from './instances.js';

/** An agent that runs inside Switchboard (`agent_url: builtin:<name>`), answering with a text stream. */
export type BuiltinAgent = (event: EventEnvelope) => AsyncIterable<string>;

export interface AgentPost {
  /** 1 on the first try, 2 on the first retry...: an agent can tell a retry from a new event. */
  attempt: number;
  /** Aborts the request; the header timeout aborts it too (with a TimeoutError). */
  abort: AbortController;
  /** Longest wait for the response headers. */
  firstByteMs: number;
}

export interface AgentResponse {
  status: number;
  header(name: string): string | null;
  body: AsyncIterable<Uint8Array>;
  /** Reads and drops the rest of the body (frees the connection). */
  discard(): Promise<void>;
}

/** An answer cut short by Switchboard's own limit (not by the agent closing the connection). */
export class AgentIdleTimeout extends Error {
  constructor(readonly idleMs: number) {
    super(`the agent went quiet for ${idleMs} ms in the middle of its answer`);
  }
}

export class AgentClient {
  constructor(
    private readonly box: SecretBox,
    private readonly request: GuardedRequest,
    private readonly builtins: Record<string, BuiltinAgent> = {},
  ) {}

  /** The built-in agent an instance names (`builtin:<name>`): null for an HTTP agent, undefined for an unknown name. */
  builtin(agentUrl: string): BuiltinAgent | null | undefined {
    return agentUrl.startsWith('builtin:') ? this.builtins[agentUrl.slice('builtin:'.length)] : null;
  }

  /**
   * POSTs `body` (the event JSON, whose id is `eventId`) to the instance's agent_url; resolves
   * when the response headers are in. A refused address, a network error or the abort (the
   * header timeout among them: `abort.signal.aborted` tells) is thrown as it is.
   */
  async post(instance: Pick<InstanceRow, 'id' | 'agent_url' | 'signing_secret_enc'>, eventId: string, body: string, p: AgentPost): Promise<AgentResponse> {
    if (!instance.agent_url) throw new Error('the instance has no agent_url');
    const secret = this.box.decrypt(instance.signing_secret_enc, signingSecretAad(instance.id));
    const headers = {
      'content-type': 'application/json',
      'user-agent': 'Switchboard-Webhooks/1',
      'webhook-attempt': String(p.attempt),
      ...standardWebhookHeaders(secret, eventId, body),
    };
    const timer = setTimeout(() => p.abort.abort(new DOMException('timeout', 'TimeoutError')), p.firstByteMs);
    try {
      const res = await this.request(instance.agent_url, { method: 'POST', headers, body, signal: p.abort.signal });
      return {
        status: res.statusCode,
        header(name) {
          const v = res.headers[name];
          return Array.isArray(v) ? (v[0] ?? null) : (v ?? null);
        },
        body: res.body,
        discard: () => res.body.dump().then(() => undefined, () => undefined),
      };
    } finally {
      clearTimeout(timer);
    }
  }
}

/** Passes chunks through, aborting the request when the agent goes quiet for `idleMs`. */
export async function* readWithIdleTimeout(body: AsyncIterable<Uint8Array>, abort: AbortController, idleMs: number): AsyncGenerator<Uint8Array> {
  let idled = false;
  const arm = () =>
    setTimeout(() => {
      idled = true;
      abort.abort(new DOMException('idle', 'TimeoutError'));
    }, idleMs);
  let timer = arm();
  try {
    for await (const chunk of body) {
      clearTimeout(timer);
      yield chunk;
      timer = arm();
    }
  } catch (err) {
    if (idled) throw new AgentIdleTimeout(idleMs);
    // A deliberate abort with a reason of ours (a superseded answer) is that reason, not a cut connection.
    const reason: unknown = abort.signal.reason;
    throw abort.signal.aborted && reason instanceof Error && !(reason instanceof DOMException) ? reason : err;
  } finally {
    clearTimeout(timer);
  }
}
