/**
 * One function answers Switchboard's events, served as a Fetch handler (Next.js, Hono, Bun, Deno,
 * Workers) or a Node `http` listener. Every request is verified first (401 when it is not a
 * genuine event); the function's `reply.*` value becomes the response; a thrown error answers 500,
 * so Switchboard delivers the event again later.
 *
 * @example
 *   const agent = createHandler(async ({ event, reply, history }) => {
 *     if (event.type !== 'message.received') return reply.none();
 *     const result = streamText({ model, messages: await history() });
 *     return reply.stream(result.textStream);
 *   });
 *   http.createServer(agent.node).listen(3000);   // or: export const POST = agent.fetch;
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { SwitchboardClient, type ClientOptions } from './client.js';
import type { AiSdkMessage, HistoryFormat, ModelMessage, OpenAIMessage } from './history.js';
import { reply, sseBytes, type Answer } from './reply.js';
import type { EventEnvelope } from './types.js';
import { verify, VerificationError } from './verify.js';

export interface HandlerContext {
  event: EventEnvelope;
  reply: typeof reply;
  /** The API client for this event's instance (needs an API key: option `apiKey` or SWITCHBOARD_API_KEY). */
  client: SwitchboardClient;
  /** This event's conversation as model messages (AI SDK shape, or `format: 'openai'`), the new message included. */
  history: {
    (opts?: { limit?: number; format?: 'ai-sdk' }): Promise<AiSdkMessage[]>;
    (opts: { limit?: number; format: 'openai' }): Promise<OpenAIMessage[]>;
  };
}

export type AgentFunction = (ctx: HandlerContext) => Answer | void | Promise<Answer | void>;

export interface HandlerOptions {
  /** The instance's signing secret (whsec_...). Default: SWITCHBOARD_SIGNING_SECRET. */
  secret?: string;
  /** Switchboard's URL. Default: SWITCHBOARD_URL. */
  baseUrl?: string;
  /** An API key for the client. Default: SWITCHBOARD_API_KEY. */
  apiKey?: string;
  fetch?: ClientOptions['fetch'];
  /** Called with errors the function threw (the response is a 500 either way). */
  onError?: (err: unknown) => void;
}

interface Rendered {
  status: number;
  headers: Record<string, string>;
  body: string | AsyncIterable<Uint8Array>;
}

export interface Handler {
  fetch(request: Request): Promise<Response>;
  node(req: IncomingMessage, res: ServerResponse): void;
}

export function createHandler(fn: AgentFunction, opts: HandlerOptions = {}): Handler {
  const env = typeof process !== 'undefined' ? process.env : {};
  const secret = opts.secret ?? env.SWITCHBOARD_SIGNING_SECRET ?? '';

  async function run(request: Request | IncomingMessage): Promise<Rendered> {
    let event: EventEnvelope;
    try {
      event = await verify(request, secret);
    } catch (err) {
      if (err instanceof VerificationError) return jsonResponse(401, { error: err.message });
      throw err;
    }
    const client = new SwitchboardClient({
      baseUrl: opts.baseUrl ?? env.SWITCHBOARD_URL ?? '',
      apiKey: opts.apiKey ?? env.SWITCHBOARD_API_KEY ?? '',
      instanceId: event.instance_id,
      fetch: opts.fetch,
    });
    const history = (async (o?: { limit?: number; format?: HistoryFormat }) => (event.conversation_id ? client.history(event.conversation_id, o as { format: 'openai' }) : [])) as HandlerContext['history'];
    let answer: Answer | void;
    try {
      answer = await fn({ event, reply, client, history });
    } catch (err) {
      opts.onError?.(err);
      return jsonResponse(500, { error: 'the agent failed' });
    }
    if (!answer || answer.kind === 'none') return jsonResponse(200, {});
    if (answer.kind === 'json') return jsonResponse(200, answer.body);
    return { status: 200, headers: { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' }, body: sseBytes(answer.source, answer.options) };
  }

  return {
    async fetch(request) {
      const r = await run(request);
      const body = typeof r.body === 'string' ? r.body : toReadable(r.body);
      return new Response(body, { status: r.status, headers: r.headers });
    },
    node(req, res) {
      run(req)
        .then(async (r) => {
          res.writeHead(r.status, r.headers);
          if (typeof r.body === 'string') return void res.end(r.body);
          for await (const chunk of r.body) {
            if (!res.write(chunk)) await new Promise((ok) => res.once('drain', ok));
          }
          res.end();
        })
        .catch((err: unknown) => {
          opts.onError?.(err);
          // Mid-stream, a clean end would read as a complete answer: break the connection instead.
          if (res.headersSent) res.destroy(err as Error);
          else {
            res.writeHead(500, { 'content-type': 'application/json' });
            res.end(JSON.stringify({ error: 'the agent failed' }));
          }
        });
    },
  };
}

function jsonResponse(status: number, body: unknown): Rendered {
  return { status, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) };
}

function toReadable(it: AsyncIterable<Uint8Array>): ReadableStream<Uint8Array> {
  const iter = it[Symbol.asyncIterator]();
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const { done, value } = await iter.next();
        if (done) controller.close();
        else controller.enqueue(value);
      } catch (err) {
        controller.error(err);
      }
    },
    async cancel() {
      await iter.return?.();
    },
  });
}
