/**
 * The static side of Switchboard, served by the same process: the operator dashboard at `/`
 * (files under src/web/dashboard/), the embeddable widget at `/widget.js`, and a sample page with
 * the widget at `/demo`. Files are read once at startup; no directory is ever walked per request.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { extname, join, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { getProvider } from '../../adapters/registry.js';
import { WEB_PROVIDER } from '../../adapters/web/index.js';
import { identityKey } from '../../core/channels.js';
import type { Services } from '../../core/services.js';
import { DEMO_CHANNEL_IDENTIFIER } from '../../demo/seed.js';
import { parseUuid } from '../validation/fields.js';

const WEB_DIR = fileURLToPath(new URL('../../web/', import.meta.url));

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
};

interface Asset {
  body: Buffer;
  type: string;
  etag: string;
}

function asset(path: string): Asset {
  const body = readFileSync(path);
  return { body, type: TYPES[extname(path)] ?? 'application/octet-stream', etag: `"${createHash('sha1').update(body).digest('base64url').slice(0, 20)}"` };
}

function serve(req: FastifyRequest, reply: FastifyReply, a: Asset, headers: Record<string, string> = {}): FastifyReply {
  reply.headers({ etag: a.etag, 'cache-control': 'no-cache', 'x-content-type-options': 'nosniff', ...headers });
  if (req.headers['if-none-match'] === a.etag) return reply.code(304).send();
  return reply.code(200).type(a.type).send(a.body);
}

/** The dashboard only talks to this origin's API: nothing inline, nothing from elsewhere. */
const DASHBOARD_CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function demoPage(publicUrl: string, channelId: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Acme Outdoor — Switchboard web chat demo</title>
<style>
  body { margin: 0; font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #212529; background: #f1f3f5; }
  header { background: #2b8a3e; color: #fff; padding: 18px 24px; }
  header h1 { margin: 0; font-size: 22px; }
  main { max-width: 760px; margin: 24px auto; padding: 0 20px; }
  .card { background: #fff; border-radius: 10px; padding: 18px 20px; margin-bottom: 16px; box-shadow: 0 1px 3px rgba(0,0,0,.08); }
  code { background: #e9ecef; padding: 2px 5px; border-radius: 4px; font-size: 13px; word-break: break-all; }
</style>
</head>
<body>
<header><h1>Acme Outdoor</h1></header>
<main>
  <div class="card">
    <h2>Welcome to the Switchboard web chat demo</h2>
    <p>This is an ordinary page. The chat button in the corner comes from one script tag:</p>
    <p><code>&lt;script src="${escapeHtml(publicUrl)}/widget.js" data-channel="${escapeHtml(channelId)}" async&gt;&lt;/script&gt;</code></p>
    <p>Open it and write something: the message goes through Switchboard's inbound pipeline to the
    instance's agent (here the built-in echo agent), and the answer streams back.</p>
  </div>
  <div class="card">
    <h2>Tents, stoves and lanterns</h2>
    <p>Everything for a weekend outside. Ask the chat anything — it will echo you.</p>
  </div>
</main>
<!-- Relative src: the widget talks to the origin the page was opened on (localhost or 127.0.0.1 alike). -->
<script src="/widget.js" data-channel="${escapeHtml(channelId)}" async></script>
</body>
</html>
`;
}

export function webPageRoutes(app: FastifyInstance, s: Services): void {
  const pub = { config: { public: true }, schema: { hide: true } };
  const widget = asset(join(WEB_DIR, 'widget.js'));
  const dashboardDir = join(WEB_DIR, 'dashboard');
  // The dashboard is ES modules in sub-folders (lib/, views/): every file is read once, keyed by its relative path.
  const dashboard = new Map<string, Asset>();
  for (const name of readdirSync(dashboardDir, { recursive: true, encoding: 'utf8' })) {
    if (TYPES[extname(name)]) dashboard.set(name.split(sep).join('/'), asset(join(dashboardDir, name)));
  }

  // Any site may load the script; which sites may *use* a chat is the channel's allowed_origins.
  app.get('/widget.js', pub, async (req, reply) => serve(req, reply, widget, { 'access-control-allow-origin': '*', 'cross-origin-resource-policy': 'cross-origin' }));

  const index = dashboard.get('index.html');
  app.get('/', pub, async (req, reply) => {
    if (!index) return reply.code(404).send({ detail: 'Not Found' });
    return serve(req, reply, index, { 'content-security-policy': DASHBOARD_CSP, 'x-frame-options': 'DENY', 'referrer-policy': 'no-referrer' });
  });
  app.get('/dashboard/*', pub, async (req, reply) => {
    const a = dashboard.get((req.params as { '*': string })['*']);
    if (!a) return reply.code(404).send({ detail: 'Not Found' });
    return serve(req, reply, a, { 'content-security-policy': DASHBOARD_CSP });
  });

  // The sample page: the demo channel, or any web chat channel named by ?channel=.
  app.get('/demo', pub, async (req, reply) => {
    const asked = (req.query as { channel?: string }).channel;
    let channelId = asked ? parseUuid(asked) : undefined;
    if (!channelId) channelId = (await s.repos.channels.byIdentity(identityKey(WEB_PROVIDER, DEMO_CHANNEL_IDENTIFIER)))?.id;
    const ch = channelId ? await s.repos.channels.get(channelId) : undefined;
    if (!ch || !getProvider(ch.provider)?.widget) {
      return reply.code(404).type('text/html; charset=utf-8').send('<!doctype html><title>No demo</title><p>No web chat channel to show. Start Switchboard with the demo seed, or pass <code>?channel=&lt;web chat channel id&gt;</code>.</p>');
    }
    return reply.code(200).header('cache-control', 'no-store').type('text/html; charset=utf-8').send(demoPage(s.config.publicUrl, ch.id));
  });
}
