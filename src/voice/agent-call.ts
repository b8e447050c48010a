/**
 * Calls the instance's agent for one voice turn, in-process and at once (no job queue: a caller
 * is waiting). The request is the one the event delivery makes, by the same client
 * (core/agent-client.ts): the stored event's JSON, signed per Standard Webhooks, through the
 * SSRF-guarded request, so an agent serves calls with no extra code. `builtin:<name>` agents are
 * called directly. Aborting the signal cancels the HTTP request (a caller who barges in, or hangs up).
 *
 * @example
 *   for await (const part of agent.answer(instance, envelopeJson, eventId, abort.signal)) ...
 */
import { readWithIdleTimeout, type AgentClient, type AgentResponse } from '../core/agent-client.js';
import type { EventEnvelope } from '../core/event-envelope.js';
import type { InstanceRow } from '../store/repos/instances.js';
import { answerParts, type AnswerPart } from './agent-answer.js';

export interface VoiceAgentOptions {
  /** Longest wait for the agent's response headers. */
  headerTimeoutMs: number;
  /** Longest silence inside a streamed answer. */
  idleMs: number;
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
    private readonly agents: AgentClient,
    private readonly opts: VoiceAgentOptions,
  ) {}

  async *answer(instance: InstanceRow, payload: string, eventId: string, signal: AbortSignal): AsyncGenerator<AnswerPart> {
    const url = instance.agent_url;
    if (!url) throw new AgentCallError('the instance has no agent_url');
    const builtin = this.agents.builtin(url);
    if (builtin === undefined) throw new AgentCallError(`unknown built-in agent ${url}`);
    if (builtin) {
      for await (const text of builtin(JSON.parse(payload) as EventEnvelope)) {
        if (signal.aborted) return;
        yield { text };
      }
      return;
    }

    const local = new AbortController();
    const onAbort = () => local.abort(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      let res: AgentResponse;
      try {
        res = await this.agents.post(instance, eventId, payload, { attempt: 1, abort: local, firstByteMs: this.opts.headerTimeoutMs });
      } catch (err) {
        if (signal.aborted) return;
        throw new AgentCallError(local.signal.aborted ? `no answer within ${this.opts.headerTimeoutMs} ms` : `could not reach the agent: ${(err as Error).message}`);
      }
      if (res.status < 200 || res.status >= 300) {
        await res.discard();
        throw new AgentCallError(`the agent answered HTTP ${res.status}`);
      }
      try {
        for await (const part of answerParts(readWithIdleTimeout(res.body, local, this.opts.idleMs), res.header('content-type') ?? '')) yield part;
      } catch (err) {
        if (signal.aborted) return;
        throw new AgentCallError(`the agent's answer broke off: ${(err as Error).message}`);
      }
    } finally {
      signal.removeEventListener('abort', onAbort);
      // A consumer that stops early (barge-in) leaves the body unread: cancel the request.
      if (!local.signal.aborted) local.abort();
    }
  }
}
