/**
 * The one server-sent-events writer, for the instance event stream (routes/events.ts) and the web
 * chat widget's stream (routes/webchat.ts): it takes the response over from Fastify, writes the
 * headers proxies need to pass a stream through unbuffered, and frames events (a `data:` line per
 * line of data, as the SSE format requires).
 *
 * @example
 *   const sse = openSse(reply, { retryMs: 2000 });
 *   sse.event({ id: '42', event: 'message.received', data: JSON.stringify(envelope) });
 *   sse.comment('keep-alive');
 */
import type { ServerResponse } from 'node:http';
import type { FastifyReply } from 'fastify';

export interface SseEvent {
  /** The resume cursor a reconnecting client sends back as Last-Event-ID. */
  id?: string | number;
  event?: string;
  data: string;
}

export interface SseWriter {
  readonly res: ServerResponse;
  event(e: SseEvent): void;
  comment(text: string): void;
  end(): void;
}

export interface SseOptions {
  /** Extra response headers (CORS for the widget). */
  headers?: Record<string, string>;
  /** `Cache-Control`; `no-cache` unless given. */
  cacheControl?: string;
  /** The reconnect delay the client should use (the `retry:` field). */
  retryMs?: number;
}

export function openSse(reply: FastifyReply, opts: SseOptions = {}): SseWriter {
  reply.hijack();
  const res = reply.raw;
  res.writeHead(200, { ...opts.headers, 'content-type': 'text/event-stream', 'cache-control': opts.cacheControl ?? 'no-cache', connection: 'keep-alive', 'x-accel-buffering': 'no' });
  res.write(`${opts.retryMs !== undefined ? `retry: ${opts.retryMs}\n` : ''}: connected\n\n`);
  return {
    res,
    event(e) {
      const head = `${e.id !== undefined ? `id: ${e.id}\n` : ''}${e.event ? `event: ${e.event}\n` : ''}`;
      res.write(`${head}${e.data.split(/\r\n|\r|\n/).map((l) => `data: ${l}\n`).join('')}\n`);
    },
    comment(text) {
      res.write(`: ${text}\n\n`);
    },
    end() {
      if (!res.writableEnded) res.end();
    },
  };
}
