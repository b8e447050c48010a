/**
 * A fake agent for the ingress bench: a bare node:http server that reads each delivery, answers
 * 200 `{}` (no reply, so nothing goes back out), and records when it arrived, keyed by the event's
 * `data.provider_event_id` (a Telegram update's update_id).
 *
 *   POST  anything        a delivery: recorded, answered 200 {}
 *   GET   /_bench/clock   {"now": <ms>}: this process's clock, for the bench to estimate the offset
 *   GET   /_bench/count   {"count": N}: deliveries recorded since the last reset
 *   GET   /_bench/take    {"<provider_event_id>": <ms>, ...} and reset (also the count)
 *
 * Times are `performance.timeOrigin + performance.now()` (wall-clock ms with sub-millisecond
 * precision); the bench measures the offset to its own clock with /_bench/clock.
 *
 * Prints `{"port":N}` on stdout once listening; exits cleanly on SIGTERM.
 */
import { createServer } from 'node:http';

const OK = Buffer.from('{}');
const now = () => performance.timeOrigin + performance.now();
let arrivals = new Map<string, number>();
let unmatched = 0;

function json(res: import('node:http').ServerResponse, v: unknown): void {
  const b = Buffer.from(JSON.stringify(v));
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': b.length });
  res.end(b);
}

const server = createServer((req, res) => {
  if (req.method === 'GET') {
    if (req.url === '/_bench/clock') return json(res, { now: now() });
    if (req.url === '/_bench/count') return json(res, { count: arrivals.size, unmatched });
    if (req.url === '/_bench/take') {
      const out = Object.fromEntries(arrivals);
      arrivals = new Map();
      unmatched = 0;
      return json(res, out);
    }
    res.writeHead(404).end();
    return;
  }
  const t = now();
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    try {
      const env = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { data?: { provider_event_id?: unknown } };
      const id = env.data?.provider_event_id;
      if (id === undefined) unmatched++;
      // The first arrival counts (a redelivery would be a retry, not the latency we measure).
      else if (!arrivals.has(String(id))) arrivals.set(String(id), t);
    } catch {
      unmatched++;
    }
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': OK.length });
    res.end(OK);
  });
});
server.keepAliveTimeout = 72_000;

server.listen(0, '127.0.0.1', () => {
  const addr = server.address();
  process.stdout.write(JSON.stringify({ port: typeof addr === 'object' && addr ? addr.port : 0 }) + '\n');
});

process.on('SIGTERM', () => {
  server.closeAllConnections();
  server.close(() => process.exit(0));
});
