/**
 * A fake agent: a real node:http server on loopback that records every delivery Switchboard makes,
 * verifies its Standard Webhooks signature with the official `standardwebhooks` library, and can
 * be scripted per request (fail, answer a reply, be slow).
 *
 * Example:
 *   const agent = await startFakeAgent();
 *   agent.secret = instance.signing_secret;
 *   agent.script = (d, n) => (n <= 2 ? { status: 500 } : { json: { reply: { text: 'hi' } } });
 *   await agent.waitFor((ds) => ds.length >= 3);
 */
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';

export interface Delivery {
  /** webhook-id header (the event id; stable across retries). */
  id: string;
  attempt: number;
  headers: IncomingHttpHeaders;
  raw: string;
  body: any;
  /** Whether the signature verified against `secret` at the time it arrived. */
  verified: boolean;
  verifyError?: string;
  at: number;
  /** Set when Switchboard closed the connection before the answer was complete (an aborted request). */
  closedEarly?: boolean;
}

export interface AgentAnswer {
  status?: number;
  json?: unknown;
  text?: string;
  contentType?: string;
  delayMs?: number;
  headers?: Record<string, string>;
  /** A streamed answer: written one by one, `chunkDelayMs` apart (e.g. SSE `data:` blocks). */
  chunks?: string[];
  chunkDelayMs?: number;
  /** After the chunks, cut the connection instead of ending the response (a crashed agent). */
  cut?: boolean;
}

export interface FakeAgent {
  url: string;
  /** The instance's signing secret (whsec_...); deliveries are verified with it. */
  secret: string | undefined;
  /** Every request received, oldest first (failed attempts included); conversation.* events are in `conversationEvents` instead unless `includeConversationEvents`. */
  deliveries: Delivery[];
  /**
   * conversation.opened/closed/handoff/resumed deliveries, answered 200 without running `script`
   * (most tests are about messages; the lifecycle tests set includeConversationEvents).
   */
  conversationEvents: Delivery[];
  includeConversationEvents: boolean;
  /** Per-request behaviour; `n` counts requests for this webhook-id (1 = first attempt). */
  script: (d: Delivery, n: number) => AgentAnswer | Promise<AgentAnswer>;
  /** Distinct webhook-ids answered 2xx, in the order they were accepted. */
  accepted(): Delivery[];
  waitFor(pred: (ds: Delivery[]) => boolean, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

export async function startFakeAgent(): Promise<FakeAgent> {
  const deliveries: Delivery[] = [];
  const okIds: Delivery[] = [];
  const perId = new Map<string, number>();
  const agent: FakeAgent = {
    url: '',
    secret: undefined,
    deliveries,
    conversationEvents: [],
    includeConversationEvents: false,
    script: () => ({ status: 200, json: {} }),
    accepted: () => okIds,
    async waitFor(pred, timeoutMs = 10_000) {
      const end = Date.now() + timeoutMs;
      while (!pred(deliveries)) {
        if (Date.now() > end) throw new Error(`fake agent: condition not met within ${timeoutMs} ms (${deliveries.length} requests so far)`);
        await new Promise((r) => setTimeout(r, 20));
      }
    },
    close: async () => undefined,
  };

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      void (async () => {
        const raw = Buffer.concat(chunks).toString('utf8');
        let verified = false;
        let verifyError: string | undefined;
        try {
          if (!agent.secret) throw new Error('no secret set on the fake agent');
          new Webhook(agent.secret).verify(raw, req.headers as Record<string, string>);
          verified = true;
        } catch (err) {
          verifyError = (err as Error).message;
        }
        let body: unknown;
        try {
          body = JSON.parse(raw);
        } catch {
          body = undefined;
        }
        const id = String(req.headers['webhook-id'] ?? '');
        const d: Delivery = { id, attempt: Number(req.headers['webhook-attempt'] ?? 0), headers: req.headers, raw, body, verified, verifyError, at: Date.now() };
        if (!agent.includeConversationEvents && String((body as { type?: unknown } | undefined)?.type ?? '').startsWith('conversation.')) {
          agent.conversationEvents.push(d);
          res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
          return;
        }
        deliveries.push(d);
        const n = (perId.get(id) ?? 0) + 1;
        perId.set(id, n);
        let a: AgentAnswer;
        try {
          a = await agent.script(d, n);
        } catch {
          a = { status: 500 };
        }
        if (a.delayMs) await new Promise((r) => setTimeout(r, a.delayMs));
        const status = a.status ?? 200;
        if (status >= 200 && status < 300 && !okIds.some((x) => x.id === id)) okIds.push(d);
        const text = a.text ?? (a.json !== undefined ? JSON.stringify(a.json) : '');
        res.writeHead(status, { 'content-type': a.contentType ?? (a.json !== undefined ? 'application/json' : 'text/plain'), ...a.headers });
        let closed = false;
        res.on('close', () => {
          closed = true;
          if (!res.writableFinished) d.closedEarly = true;
        });
        if (a.chunks) {
          for (const c of a.chunks) {
            if (closed) break;
            res.write(c);
            await new Promise((r) => setTimeout(r, a.chunkDelayMs ?? 0));
          }
        }
        if (a.cut) res.socket?.destroy();
        else res.end(text);
      })();
    });
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  agent.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/agent`;
  agent.close = () =>
    new Promise<void>((ok) => {
      server.closeAllConnections();
      server.close(() => ok());
    });
  return agent;
}
