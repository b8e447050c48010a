/**
 * Baseline: a bare node:http server. It reads the whole request body (so POST baselines pay for
 * receiving bytes, as an ingress handler would), then answers a fixed JSON body.
 *
 *   BARE_BODY          body for GET and other body-less requests (default `{"ok":true}`)
 *   BARE_POST_BODY     body for requests that carry a body (default: BARE_BODY)
 *   BARE_POST_STATUS   status for those (default 200)
 *
 * Prints `{"port":N}` on stdout once listening; exits cleanly on SIGTERM.
 */
import { createServer } from 'node:http';

const getBody = Buffer.from(process.env.BARE_BODY ?? '{"ok":true}');
const postBody = process.env.BARE_POST_BODY !== undefined ? Buffer.from(process.env.BARE_POST_BODY) : getBody;
const postStatus = Number(process.env.BARE_POST_STATUS ?? 200);

const server = createServer((req, res) => {
  let received = 0;
  req.on('data', (chunk: Buffer) => {
    received += chunk.length;
  });
  req.on('end', () => {
    const withBody = received > 0;
    const body = withBody ? postBody : getBody;
    res.writeHead(withBody ? postStatus : 200, { 'content-type': 'application/json; charset=utf-8', 'content-length': body.length });
    res.end(body);
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
