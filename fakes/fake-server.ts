/**
 * The loopback HTTP server every provider fake is built on: records each request with its parsed
 * body, injects failures on demand, and leaves the provider's rules to the fake's own handler.
 * Fakes are test and demo code only; nothing here runs in production.
 */
import { createServer } from 'node:http';
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request as the fake received it. */
export interface RecordedRequest {
  method: string;
  /** Path without the query string. */
  path: string;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  rawBody: Buffer;
  /** Parsed body: JSON value, form fields (repeated keys as arrays), or undefined. */
  body: unknown;
  /** Set when failNext answered this request instead of the provider logic. */
  injectedFailure?: FailSpec;
  /** Date.now() when the request arrived (to check that a client waited, e.g. for retry_after). */
  receivedAt: number;
}

/**
 * A failure to inject into the next matching request:
 * - `{status}`: answer with that status and the provider's own error body (`retryAfter` in seconds
 *   for 429, `code` to choose the provider error code);
 * - `{timeoutMs}`: hold the request that long, then process it normally (the send happens late,
 *   as with a real provider, so a client timeout is an unknown outcome);
 * - `{dropConnection: true}`: read the request, then destroy the socket without answering or
 *   processing it.
 * `match` limits the failure to requests whose path contains that string.
 */
export type FailSpec = (
  | { status: number; retryAfter?: number; code?: string | number; message?: string }
  | { timeoutMs: number }
  | { dropConnection: true }
) & { match?: string };

export type StatusFailSpec = Extract<FailSpec, { status: number }>;

/** What a handler answers. */
export interface FakeReply {
  status: number;
  json?: unknown;
  text?: string;
  bytes?: Uint8Array;
  headers?: Record<string, string>;
}

/** The part of the API every fake shares. */
export interface FakeServer {
  /** Base URL, e.g. http://127.0.0.1:54321 (no trailing slash). */
  url: string;
  /** Every request received, oldest first. */
  requests: RecordedRequest[];
  /** Queues a failure for the next matching request (queued failures apply in order). */
  failNext(spec: FailSpec): void;
  /** Stops the server and drops open connections. */
  close(): Promise<void>;
}

export type Handler = (req: RecordedRequest) => FakeReply | Promise<FakeReply>;

export interface FakeServerInit {
  handler: Handler;
  /** Builds the provider's error body for an injected `{status}` failure. */
  failure: (spec: StatusFailSpec, req: RecordedRequest) => FakeReply;
  /** Port to listen on; 0 (default) picks a free one. */
  port?: number;
}

export async function startFakeServer(init: FakeServerInit): Promise<FakeServer> {
  const requests: RecordedRequest[] = [];
  const pending: FailSpec[] = [];

  const server = createServer((req, res) => {
    void serve(req, res);
  });

  async function serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const rawBody = Buffer.concat(chunks);
    const u = new URL(req.url ?? '/', 'http://fake.local');
    const rec: RecordedRequest = {
      method: req.method ?? 'GET',
      path: decodeURIComponent(u.pathname),
      query: u.searchParams,
      headers: req.headers,
      rawBody,
      body: parseBody(req.headers['content-type'], rawBody),
      receivedAt: Date.now(),
    };
    requests.push(rec);

    const i = pending.findIndex((f) => f.match === undefined || rec.path.includes(f.match));
    const fail = i >= 0 ? pending.splice(i, 1)[0] : undefined;
    if (fail) rec.injectedFailure = fail;

    let reply: FakeReply;
    try {
      if (fail && 'dropConnection' in fail) {
        req.socket.destroy();
        return;
      }
      if (fail && 'timeoutMs' in fail) await new Promise((r) => setTimeout(r, fail.timeoutMs));
      reply = fail && 'status' in fail ? init.failure(fail, rec) : await init.handler(rec);
    } catch (err) {
      reply = { status: 500, json: { error: 'fake handler crashed', detail: err instanceof Error ? err.message : String(err) } };
    }
    if (res.destroyed || res.writableEnded) return;
    send(res, reply);
  }

  await new Promise<void>((resolve) => server.listen(init.port ?? 0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    failNext(spec) {
      pending.push(spec);
    },
    close() {
      server.closeAllConnections();
      return new Promise<void>((resolve, reject) => server.close((err) => (err ? reject(err) : resolve())));
    },
  };
}

function send(res: ServerResponse, reply: FakeReply): void {
  const headers: Record<string, string> = { ...reply.headers };
  let payload: Buffer | undefined;
  if (reply.json !== undefined) {
    headers['content-type'] ??= 'application/json';
    payload = Buffer.from(JSON.stringify(reply.json));
  } else if (reply.text !== undefined) {
    headers['content-type'] ??= 'text/plain; charset=utf-8';
    payload = Buffer.from(reply.text);
  } else if (reply.bytes) {
    headers['content-type'] ??= 'application/octet-stream';
    payload = Buffer.from(reply.bytes);
  }
  if (payload) headers['content-length'] = String(payload.length);
  res.writeHead(reply.status, headers);
  res.end(payload);
}

function parseBody(contentType: string | undefined, raw: Buffer): unknown {
  if (raw.length === 0) return undefined;
  const ct = (contentType ?? '').toLowerCase();
  if (ct.includes('application/json')) {
    try {
      return JSON.parse(raw.toString('utf8')) as unknown;
    } catch {
      return undefined;
    }
  }
  if (ct.includes('application/x-www-form-urlencoded')) return formToObject(new URLSearchParams(raw.toString('utf8')));
  return undefined;
}

/** Form fields as an object; a key sent several times (Twilio MediaUrl) becomes an array. */
export function formToObject(form: URLSearchParams): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const key of new Set(form.keys())) {
    const all = form.getAll(key);
    out[key] = all.length === 1 ? all[0] : all;
  }
  return out;
}

/** Narrows a parsed body to an object for field checks. */
export function fields(body: unknown): Record<string, unknown> {
  return body !== null && typeof body === 'object' && !Array.isArray(body) ? (body as Record<string, unknown>) : {};
}

/** The bearer token of a request, if any. */
export function bearer(req: RecordedRequest): string | undefined {
  const h = req.headers.authorization;
  const m = typeof h === 'string' ? /^Bearer\s+(.+)$/i.exec(h) : null;
  return m ? m[1].trim() : undefined;
}

/** A random id of hex digits (resource ids). */
export function hexId(bytes = 16): string {
  let s = '';
  for (let i = 0; i < bytes; i++) s += Math.floor(Math.random() * 256).toString(16).padStart(2, '0');
  return s;
}
