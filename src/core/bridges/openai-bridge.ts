/**
 * The OpenAI-compatible bridge: instances whose agent_url is `openai+https://host/v1` are answered
 * by a model, with no agent code. For each `message.received` it builds `messages[]` from the
 * conversation's history, calls `/chat/completions` with `stream: true` (official `openai`
 * client, over the SSRF-guarded fetch), and streams the deltas through the same relay as an HTTP
 * agent's streamed answer. The model may call `handoff` or `close_conversation`, which are honoured.
 *
 * Failures follow the delivery rules: until the first token, any failure (refused connection,
 * timeout, 4xx/5xx, 429 with its Retry-After) is a retry of the delivery job, so the event is
 * retried on the schedule and dead-lettered in the end, never dropped. Once text flows, the answer
 * is the relay's, exactly as for a streamed HTTP answer.
 */
import OpenAI from 'openai';
import type { Logger } from 'pino';
import type { SecretBox } from '../../crypto/secret-box.js';
import type { JobOutcome } from '../../queue/runner.js';
import type { Repos } from '../../store/repos/index.js';
import type { InstanceRow } from '../../store/repos/instances.js';
import { bridgeBaseUrl, decryptAgentApiKey, DEFAULT_MAX_HISTORY, parseAgentConfig } from '../agent-config.js';
import { parseRetryAfter } from '../../adapters/shared/provider-error.js';
import { AGENT_RETRY_AFTER_MAX_MS, agentLimitsOf, type AgentLimits, type ReplySink } from '../delivery.js';
import type { EventEnvelope } from '../event-envelope.js';
import { chatMessages } from './chat-history.js';

/** What the bridge does when the model calls one of Switchboard's own actions. */
export interface ConversationActions {
  handoff(instanceId: string, conversationId: string, p: { reason?: string }): Promise<unknown>;
  close(instanceId: string, conversationId: string): Promise<unknown>;
}

export interface BridgeOptions {
  /** Installation-wide time limits (an instance's own agent_*_timeout_ms win), as for HTTP agents. */
  limits?: Partial<AgentLimits>;
}

const TOOLS: OpenAI.Chat.Completions.ChatCompletionTool[] = [
  {
    type: 'function',
    function: {
      name: 'handoff',
      description: 'Hand this conversation to a human operator: when the person asks for a human, or when you cannot help. The person is told by your message, if you write one.',
      parameters: { type: 'object', properties: { reason: { type: 'string', description: 'Why a human should take over.' } }, required: [], additionalProperties: false },
    },
  },
  {
    type: 'function',
    function: {
      name: 'close_conversation',
      description: "Close this conversation once the person's request is resolved and they are done. Their next message starts a new conversation.",
      parameters: { type: 'object', properties: {}, required: [], additionalProperties: false },
    },
  },
];

interface ToolCall {
  name: string;
  args: string;
}

export class OpenAIBridge {
  constructor(
    private readonly repos: Repos,
    private readonly box: SecretBox,
    private readonly fetchFn: typeof fetch,
    private readonly replies: ReplySink,
    private readonly log: Logger,
    private readonly opts: BridgeOptions,
    /** The media items of messages (signed links the model fetches), when media are stored. */
    private readonly mediaOf?: (messageIds: string[]) => Promise<Map<string, unknown[]>>,
    /** The conversation lifecycle the model's tool calls act on; without it tool calls are logged. */
    private readonly actions?: ConversationActions,
  ) {}

  async handle(instance: InstanceRow, event: EventEnvelope): Promise<JobOutcome> {
    if (event.type !== 'message.received' || !event.conversation_id) return { kind: 'done' };
    // While a person drives the conversation the agent's answer would not be sent: no model call.
    if ((event as EventEnvelope & { conversation?: { mode?: string } }).conversation?.mode === 'human') return { kind: 'done' };
    const config = parseAgentConfig(instance.agent_config);
    if (!config || !instance.agent_url) return { kind: 'dead', error: 'the instance has an openai+ agent_url but no agent_config' };
    if (!this.replies.acceptAgentStream) return { kind: 'dead', error: 'streaming answers are not available' };
    const apiKey = decryptAgentApiKey(this.box, instance.id, instance.agent_api_key_enc) ?? '';

    const rows = await this.repos.conversations.recentMessages(event.conversation_id, config.max_history_messages ?? DEFAULT_MAX_HISTORY);
    const messages = chatMessages(config.system_prompt, rows, this.mediaOf ? await this.mediaOf(rows.filter((r) => r.direction === 'in').map((r) => r.id)) : new Map());
    const limits = agentLimitsOf(instance, this.opts.limits);
    const client = new OpenAI({ apiKey, baseURL: bridgeBaseUrl(instance.agent_url), fetch: this.fetchFn, maxRetries: 0, timeout: limits.firstByteMs });

    const abort = new AbortController();
    let stream: AsyncIterable<OpenAI.Chat.Completions.ChatCompletionChunk>;
    try {
      stream = await client.chat.completions.create(
        { model: config.model, messages, stream: true, tools: TOOLS, ...(config.temperature !== undefined ? { temperature: config.temperature } : {}) },
        { signal: abort.signal },
      );
    } catch (err) {
      return failure(err);
    }

    // The first chunk decides: a stream that fails before any chunk is retried like a refused call.
    const iter = withIdleTimeout(stream, abort, limits.idleMs)[Symbol.asyncIterator]();
    let first: IteratorResult<OpenAI.Chat.Completions.ChatCompletionChunk>;
    try {
      first = await iter.next();
    } catch (err) {
      return failure(err);
    }

    const calls = new Map<number, ToolCall>();
    const enc = new TextEncoder();
    async function* deltas(): AsyncGenerator<Uint8Array> {
      let r = first;
      while (!r.done) {
        const choice = r.value.choices?.[0];
        const text = choice?.delta?.content;
        if (text) yield enc.encode(text);
        for (const tc of choice?.delta?.tool_calls ?? []) {
          const c = calls.get(tc.index) ?? { name: '', args: '' };
          if (tc.function?.name) c.name += tc.function.name;
          if (tc.function?.arguments) c.args += tc.function.arguments;
          calls.set(tc.index, c);
        }
        r = await iter.next();
      }
    }
    try {
      await this.replies.acceptAgentStream(event, deltas(), 'text/plain');
    } catch (err) {
      // Text was flowing: calling the model again could send its first sentences twice. What the
      // person got is the relay's to record (as for an HTTP agent's broken stream).
      this.log.warn({ err: (err as Error).message, event: event.id }, 'the model stream broke midway');
      return { kind: 'done' };
    }
    await this.honour(event, [...calls.values()]);
    return { kind: 'done' };
  }

  private async honour(event: EventEnvelope, calls: ToolCall[]): Promise<void> {
    for (const call of calls) {
      if (call.name !== 'handoff' && call.name !== 'close_conversation') {
        this.log.warn({ event: event.id, tool: call.name }, 'the model called an unknown tool; ignored');
        continue;
      }
      if (!this.actions) {
        this.log.warn({ event: event.id, tool: call.name }, 'the model asked for a conversation action that is not available yet');
        continue;
      }
      let args: { reason?: unknown } = {};
      try {
        args = call.args ? (JSON.parse(call.args) as { reason?: unknown }) : {};
      } catch {
        this.log.warn({ event: event.id, tool: call.name }, 'the model sent tool arguments that are not JSON; acting without them');
      }
      if (call.name === 'handoff') await this.actions.handoff(event.instance_id, event.conversation_id!, typeof args.reason === 'string' ? { reason: args.reason } : {});
      else await this.actions.close(event.instance_id, event.conversation_id!);
    }
  }
}

/** A failed model call as the runner's outcome: retried (with the API's Retry-After when it gave one). */
function failure(err: unknown): JobOutcome {
  if (err instanceof OpenAI.APIError && err.status) {
    const ra = parseRetryAfter(err.headers?.get?.('retry-after') ?? null, Date.now(), AGENT_RETRY_AFTER_MAX_MS);
    const msg = (err.error as { message?: unknown } | undefined)?.message;
    return { kind: 'retry', error: `the model API answered HTTP ${err.status}${typeof msg === 'string' ? `: ${msg.slice(0, 300)}` : ''}`, ...(ra !== undefined ? { delayMs: ra } : {}) };
  }
  const e = err as Error;
  const cause = (e as { cause?: Error }).cause;
  if (err instanceof OpenAI.APIConnectionTimeoutError) return { kind: 'retry', error: 'the model API did not answer in time' };
  if (cause?.name === 'BlockedUrlError' || e.name === 'BlockedUrlError') return { kind: 'dead', error: `agent_url refused: ${(cause ?? e).message}. Private addresses need SWITCHBOARD_ALLOW_PRIVATE_URLS=true.` };
  return { kind: 'retry', error: `could not reach the model API: ${(cause ?? e).message}` };
}

/** Passes chunks through, aborting the call when the model goes quiet for `idleMs`. */
async function* withIdleTimeout<T>(source: AsyncIterable<T>, abort: AbortController, idleMs: number): AsyncGenerator<T> {
  let timer = setTimeout(() => abort.abort(), idleMs);
  try {
    for await (const chunk of source) {
      clearTimeout(timer);
      yield chunk;
      timer = setTimeout(() => abort.abort(), idleMs);
    }
  } finally {
    clearTimeout(timer);
  }
}
