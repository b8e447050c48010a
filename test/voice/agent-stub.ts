/**
 * A scriptable agent for voice tests and the voice bench: a real node:http server that verifies
 * each request's Standard Webhooks signature (official `standardwebhooks` library), records it,
 * notices when Switchboard aborts it (the caller barged in or hung up), and answers as scripted:
 * a streamed SSE/chunked body (`chunks`, `chunkDelayMs`) or a whole JSON/text body after `delayMs`.
 *
 * Example:
 *   const agent = await startAgentStub();
 *   agent.script = (r) => ({ sse: ['Hello', ' there.'], chunkDelayMs: 20 });
 */
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';

export interface StubRequest {
  n: number;
  headers: IncomingHttpHeaders;
  body: any;
  verified: boolean;
  /** Set when the connection closed before the whole answer was written. */
  aborted: boolean;
  /** ms timestamps (performance.now()) of arrival and of the first answer byte written. */
  receivedAt: number;
  firstByteAt?: number;
  done: boolean;
}

export interface StubAnswer {
  /** SSE `data: {"delta": ...}` blocks, one per entry, `chunkDelayMs` apart (then `data: [DONE]`). */
  sse?: string[];
  /** Raw chunks written as they are (any content type). */
  chunks?: string[];
  contentType?: string;
  chunkDelayMs?: number;
  /** Wait before the headers. */
  delayMs?: number;
  json?: unknown;
  status?: number;
  /** Extra SSE blocks appended after the deltas (e.g. `data: {"end_call":true}`). */
  sseTail?: string[];
}

export interface AgentStub {
  url: string;
  secret: string | undefined;
  requests: StubRequest[];
  script: (r: StubRequest) => StubAnswer;
  /** Requests whose body is an event of this type. */
  ofType(type: string): StubRequest[];
  waitFor(pred: (rs: StubRequest[]) => boolean, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function startAgentStub(): Promise<AgentStub> {
  const stub: AgentStub = {
    url: '',
    secret: undefined,
    requests: [],
    script: () => ({ json: {} }),
    ofType: (type) => stub.requests.filter((r) => r.body?.type === type),
    async waitFor(pred, timeoutMs = 10_000) {
      const end = Date.now() + timeoutMs;
      while (!pred(stub.requests)) {
        if (Date.now() > end) throw new Error(`agent stub: condition not met within ${timeoutMs} ms (${stub.requests.length} requests)`);
        await sleep(10);
      }
    },
    close: async () => undefined,
  };
  const server = createServer((req, res) => {
    const parts: Buffer[] = [];
    req.on('data', (c: Buffer) => parts.push(c));
    req.on('end', () => {
      void (async () => {
        const raw = Buffer.concat(parts).toString('utf8');
        let verified = false;
        try {
          new Webhook(stub.secret ?? '').verify(raw, req.headers as Record<string, string>);
          verified = true;
        } catch {
          verified = false;
        }
        let body: any;
        try {
          body = JSON.parse(raw);
        } catch {
          body = undefined;
        }
        const r: StubRequest = { n: stub.requests.length + 1, headers: req.headers, body, verified, aborted: false, receivedAt: performance.now(), done: false };
        stub.requests.push(r);
        res.on('close', () => {
          if (!r.done) r.aborted = true;
        });
        const a = stub.script(r);
        if (a.delayMs) await sleep(a.delayMs);
        if (res.destroyed) return;
        const sse = a.sse ? [...a.sse.map((d) => `data: ${JSON.stringify({ delta: d })}\n\n`), ...(a.sseTail ?? []), 'data: [DONE]\n\n'] : undefined;
        const chunks = sse ?? a.chunks;
        const type = a.contentType ?? (sse ? 'text/event-stream' : a.json !== undefined ? 'application/json' : 'text/plain');
        res.writeHead(a.status ?? 200, { 'content-type': type });
        if (chunks) {
          for (let i = 0; i < chunks.length; i++) {
            if (res.destroyed) return;
            if (i > 0 && a.chunkDelayMs) await sleep(a.chunkDelayMs);
            if (res.destroyed) return;
            r.firstByteAt ??= performance.now();
            res.write(chunks[i]);
          }
          r.done = true;
          res.end();
          return;
        }
        r.firstByteAt = performance.now();
        r.done = true;
        res.end(a.json !== undefined ? JSON.stringify(a.json) : '');
      })();
    });
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  stub.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/agent`;
  stub.close = () =>
    new Promise<void>((ok) => {
      server.closeAllConnections();
      server.close(() => ok());
    });
  return stub;
}
