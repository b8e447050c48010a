/**
 * Outbound throughput: WhatsApp text messages through the whole send path of a real Switchboard
 * (child process, SQLite) — POST /v1/instances/{id}/conversations/{cid}/messages -> message + job
 * committed -> job runner -> rate governor (token buckets in the database) -> meta_cloud sender ->
 * the fake Graph API on loopback in this process — against a bare loop in this process calling
 * the same fake directly with the same request, as many in flight as the job runner runs (16).
 * Bare and Switchboard slices alternate, so background load falls on both.
 *
 * messages/s = messages received by the fake / time from the first enqueue to the last receipt.
 * Overhead per message = 1000/(Switchboard msgs/s) - 1000/(bare msgs/s), in ms of wall time.
 * Latency (p50/p99): bare = one request; Switchboard = from sending the API request until the
 * fake received the message.
 *
 * The governor must not be what limits the run (that would measure the limit, not the pipeline):
 * messages are spread over NUMBERS business numbers (80/s each) and one conversation per message
 * per slice (the pair bucket allows a burst of 10). Aims are printed, never asserted.
 *
 *   BENCH_OUTBOUND_MESSAGES=400  messages per slice;  BENCH_SLICES=4 slices each
 */
import { randomBytes } from 'node:crypto';
import { startFakeGraph, type FakeGraph } from '../fakes/graph.js';
import { startServer } from './lib/load.js';
import type { BenchResult, Row } from './lib/report.js';

const NUMBERS = 25;
const CONCURRENCY = 16; // the job runner's concurrency (src/core/services.ts)
const API_CLIENTS = 32;
const PER_SLICE = Number(process.env.BENCH_OUTBOUND_MESSAGES ?? 400);
const SLICES = Number(process.env.BENCH_SLICES ?? 4);
const OVERHEAD_AIM_MS = 5;
const RATE_AIM = 200;

interface Slice {
  ms: number;
  latencies: number[];
  errors: number;
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

/** Runs `n` tasks with `width` in flight; returns per-task latencies and the wall time. */
async function pool(n: number, width: number, task: (i: number) => Promise<number | undefined>): Promise<Slice> {
  let next = 0;
  let errors = 0;
  const latencies: number[] = [];
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < n) {
        const i = next++;
        try {
          const l = await task(i);
          if (l !== undefined) latencies.push(l);
        } catch {
          errors++;
        }
      }
    }),
  );
  return { ms: performance.now() - t0, latencies, errors };
}

export default async function outboundBench(): Promise<BenchResult> {
  const phoneIds = Array.from({ length: NUMBERS }, (_, i) => String(100200300400500 + i));
  const graph: FakeGraph = await startFakeGraph({ phoneNumberIds: phoneIds });
  const sb = await startServer<{ adminKey: string }>('outbound', { SWITCHBOARD_META_GRAPH_URL: graph.baseUrl });
  const api = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(sb.url + path, { method, headers: { 'x-api-key': sb.info.adminKey, ...(body ? { 'content-type': 'application/json' } : {}) }, body: body ? JSON.stringify(body) : undefined });
    const text = await res.text();
    if (res.status >= 300) throw new Error(`${method} ${path} answered ${res.status}: ${text}`);
    return JSON.parse(text) as any;
  };

  try {
    // Provision through the API: one instance without an agent, one Meta connection, NUMBERS channels.
    const appSecret = 'bench-' + randomBytes(8).toString('hex');
    const inst = await api('POST', '/v1/instances', { name: 'outbound bench', agent_url: null });
    const conn = await api('POST', `/v1/instances/${inst.id}/connections`, { provider: 'meta_cloud', secrets: { access_token: graph.accessToken, app_secret: appSecret } });
    const channels: any[] = [];
    for (const [i, pid] of phoneIds.entries()) {
      channels.push(await api('POST', `/v1/instances/${inst.id}/channels`, { channel_type: 'whatsapp', provider: 'meta_cloud', external_identifier: `+1555700${String(i).padStart(4, '0')}`, connection_id: conn.id, config: { phone_number_id: pid } }));
    }
    // Conversations: one per message of a slice, opened by signed inbound webhooks (100 messages each).
    const perChannel = Math.ceil(PER_SLICE / NUMBERS);
    for (const [c, ch] of channels.entries()) {
      const waIds = Array.from({ length: perChannel }, (_, k) => String(4915100000000 + c * 10_000 + k));
      for (let off = 0; off < waIds.length; off += 100) {
        const batch = waIds.slice(off, off + 100);
        const payload = {
          object: 'whatsapp_business_account',
          entry: [{ id: 'WABA', changes: [{ field: 'messages', value: {
            messaging_product: 'whatsapp',
            metadata: { display_phone_number: ch.external_identifier.slice(1), phone_number_id: phoneIds[c] },
            contacts: batch.map((w) => ({ profile: { name: 'Bench' }, wa_id: w })),
            messages: batch.map((w) => ({ from: w, id: `wamid.in.${w}`, timestamp: String(Math.floor(Date.now() / 1000)), type: 'text', text: { body: 'hi' } })),
          } }] }],
        };
        const status = await graph.deliverWebhook(ch.webhook_url, payload, appSecret);
        if (status !== 200) throw new Error(`inbound webhook answered ${status}`);
      }
    }
    const convs: { id: string; key: string; channel: number }[] = [];
    for (const [c, ch] of channels.entries()) {
      const r = await api('GET', `/v1/instances/${inst.id}/conversations?channel_id=${ch.id}&limit=${perChannel}`);
      for (const conv of r.conversations) convs.push({ id: conv.id, key: conv.key, channel: c });
    }
    // Interleave the numbers, so consecutive messages go out from different numbers.
    convs.sort((x, y) => (x.key.slice(-4) + String(x.channel).padStart(3, '0')).localeCompare(y.key.slice(-4) + String(y.channel).padStart(3, '0')));
    if (convs.length < PER_SLICE) throw new Error(`expected ${PER_SLICE} conversations, found ${convs.length}`);

    const bareBody = (to: string, text: string) => JSON.stringify({ messaging_product: 'whatsapp', recipient_type: 'individual', to, type: 'text', text: { body: text } });
    const bareSlice = (tag: string) =>
      pool(PER_SLICE, CONCURRENCY, async (i) => {
        const c = convs[i];
        const t = performance.now();
        const res = await fetch(`${graph.baseUrl}/${phoneIds[c.channel]}/messages`, { method: 'POST', headers: { authorization: `Bearer ${graph.accessToken}`, 'content-type': 'application/json' }, body: bareBody(c.key, `${tag} ${i}`) });
        await res.arrayBuffer();
        if (res.status !== 200) throw new Error(String(res.status));
        return performance.now() - t;
      });

    const sbSlice = async (tag: string): Promise<Slice> => {
      const from = graph.requests.length;
      const startedAt = new Map<string, number>();
      let errors = 0;
      const t0 = performance.now();
      const wall0 = Date.now();
      const enq = await pool(PER_SLICE, API_CLIENTS, async (i) => {
        const text = `${tag} ${i}`;
        startedAt.set(text, Date.now());
        const res = await fetch(`${sb.url}/v1/instances/${inst.id}/conversations/${convs[i].id}/messages`, { method: 'POST', headers: { 'x-api-key': sb.info.adminKey, 'content-type': 'application/json' }, body: JSON.stringify({ text }) });
        await res.arrayBuffer();
        if (res.status !== 202) throw new Error(String(res.status));
        return undefined;
      });
      errors += enq.errors;
      const want = PER_SLICE - enq.errors;
      const deadline = Date.now() + 120_000;
      // Scan only what arrived since the last look: this process also serves the fake.
      const got: typeof graph.requests = [];
      for (let seen = from; ; ) {
        for (; seen < graph.requests.length; seen++) {
          const q = graph.requests[seen];
          if (String((q.body as any)?.text?.body ?? '').startsWith(`${tag} `)) got.push(q);
        }
        if (got.length >= want || Date.now() > deadline) break;
        await new Promise((r) => setTimeout(r, 10));
      }
      const last = Math.max(...got.map((q) => q.receivedAt));
      const latencies = got.map((q) => q.receivedAt - (startedAt.get((q.body as any).text.body) ?? wall0));
      if (got.length < want) errors += want - got.length;
      return { ms: Math.max(performance.now() - t0 - (Date.now() - last), 1), latencies, errors };
    };

    // Warm-up (unmeasured): JIT, connections, the SQLite file and the buckets.
    process.stderr.write('  outbound: warm-up...\n');
    await bareSlice('warm-bare');
    await sbSlice('warm-sb');

    const bare: Slice[] = [];
    const subj: Slice[] = [];
    for (let s = 0; s < SLICES; s++) {
      process.stderr.write(`  outbound: slice ${s + 1}/${SLICES}, bare then switchboard (${PER_SLICE} messages each)...\n`);
      bare.push(await bareSlice(`bare-${s}`));
      subj.push(await sbSlice(`sb-${s}`));
    }

    const sum = (xs: Slice[]) => {
      const ms = xs.reduce((a, x) => a + x.ms, 0);
      const lat = xs.flatMap((x) => x.latencies).sort((a, b) => a - b);
      const errors = xs.reduce((a, x) => a + x.errors, 0);
      return { rps: (lat.length / ms) * 1000, p50: percentile(lat, 50), p99: percentile(lat, 99), errors, non2xx: 0, total: lat.length };
    };
    const b = sum(bare);
    const s = sum(subj);
    const sliceRatios = subj.map((x, i) => (x.latencies.length / x.ms) / (bare[i].latencies.length / bare[i].ms));
    const overheadMs = 1000 / s.rps - 1000 / b.rps;
    const name = 'send a WhatsApp text';
    const rows: Row[] = [
      { name: `${name} (fetch loop -> fake Graph)`, server: 'bare', connections: CONCURRENCY, ...b },
      {
        name: `${name} (API -> queue -> governor -> fake Graph)`,
        server: 'switchboard',
        connections: CONCURRENCY,
        ...s,
        baseline: `${name} on bare`,
        ratio: s.rps / b.rps,
        ratioRange: [Math.min(...sliceRatios), Math.max(...sliceRatios)],
      },
    ];
    return {
      name: 'outbound',
      description: `outbound messages/s through the send pipeline and rate governor (SQLite) vs a bare loop calling the fake provider; ${SLICES} x ${PER_SLICE} messages each`,
      rows,
      aims: [
        { aim: `overhead per message < ${OVERHEAD_AIM_MS} ms of wall time`, measured: `${overheadMs.toFixed(2)} ms (${(1000 / s.rps).toFixed(2)} ms vs ${(1000 / b.rps).toFixed(2)} ms bare)`, holds: overheadMs < OVERHEAD_AIM_MS },
        { aim: `>= ${RATE_AIM} messages/s through the governor on SQLite`, measured: `${s.rps.toFixed(0)} msgs/s (bare ${b.rps.toFixed(0)})`, holds: s.rps >= RATE_AIM },
      ],
      notes: [
        'req/s column = messages/s received by the fake; p50/p99 = one request (bare) or API request to receipt by the fake (switchboard).',
        `Switchboard: 1 instance, ${NUMBERS} WhatsApp numbers (80/s each), one conversation per message; enqueued by ${API_CLIENTS} API clients; the runner sends with concurrency ${CONCURRENCY}.`,
        `Bare: ${CONCURRENCY} requests in flight, the same JSON body the sender posts.`,
      ],
    };
  } finally {
    await sb.stop();
    await graph.close();
  }
}

// `node --import tsx bench/outbound.ts` runs it alone.
if (import.meta.url === `file://${process.argv[1]}`) {
  const { textTable } = await import('./lib/report.js');
  process.stdout.write(textTable(await outboundBench()) + '\n');
}
