/**
 * `npm run demo`: a full round trip on five channels with no internet. It starts the provider
 * fakes (real local HTTP servers that check requests as the providers do), a Switchboard on a
 * temporary SQLite store pointed at them, and a tiny agent; then a person writes on Telegram,
 * WhatsApp, SMS (Twilio and Vonage) and email, the agent answers in Markdown, and the demo prints what each provider
 * was asked to send — rendered natively for each channel.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import pino from 'pino';
import { startAllFakes } from '../fakes/index.js';
import { buildApp } from '../src/api/app.js';
import { loadConfig } from '../src/config.js';
import { makeServices } from '../src/core/services.js';
import { SecretBox } from '../src/crypto/secret-box.js';
import { signStandardWebhook } from '../src/crypto/standard-webhooks.js';
import { loggerOptions } from '../src/log.js';
import { openStore } from '../src/store/database.js';

const out = (s = '') => process.stdout.write(s + '\n');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until<T>(fn: () => T | undefined | Promise<T | undefined>, what: string): Promise<T> {
  const end = Date.now() + 15_000;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(25);
  }
}

async function main(): Promise<void> {
  const fakes = await startAllFakes();

  // The agent: verifies Switchboard's Standard Webhooks signature, answers every message in Markdown.
  let signingSecret = '';
  const agent = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const [id, ts, sig] = ['webhook-id', 'webhook-timestamp', 'webhook-signature'].map((h) => String(req.headers[h] ?? ''));
      if (signStandardWebhook(signingSecret, id, Number(ts), body) !== sig) {
        res.writeHead(401).end();
        return;
      }
      const event = JSON.parse(body) as { type: string; channel: { type: string }; data: { text?: string; email?: { text?: string } } };
      res.writeHead(200, { 'content-type': 'application/json' });
      if (event.type !== 'message.received') return res.end('{}');
      const said = (event.data.text ?? event.data.email?.text ?? '').trim();
      res.end(JSON.stringify({ reply: { text: `Hi! You wrote *"${said}"* on **${event.channel.type}**.\n\n- rendered natively\n- within the channel's limits\n\nDocs: [Switchboard](https://example.com/docs) & more <soon>` } }));
    });
  });
  await new Promise<void>((r) => agent.listen(0, '127.0.0.1', r));
  const agentUrl = `http://127.0.0.1:${(agent.address() as AddressInfo).port}/agent`;

  const dir = mkdtempSync(join(tmpdir(), 'switchboard-demo-'));
  const adminKey = 'sb_demo_' + randomBytes(12).toString('hex');
  const config = loadConfig({
    DATABASE_URL: `sqlite:${join(dir, 'demo.db')}`,
    SWITCHBOARD_DATA_DIR: dir,
    SWITCHBOARD_ADMIN_KEY: adminKey,
    SWITCHBOARD_ALLOW_PRIVATE_URLS: 'true',
    PORT: '0',
    SWITCHBOARD_TELEGRAM_API_URL: fakes.baseUrls.telegram,
    SWITCHBOARD_META_GRAPH_URL: fakes.baseUrls.meta_cloud,
    SWITCHBOARD_TWILIO_API_URL: fakes.baseUrls.twilio,
    SWITCHBOARD_RESEND_API_URL: fakes.baseUrls.resend,
    SWITCHBOARD_VONAGE_API_URL: fakes.baseUrls.vonage,
  });
  const logger = pino(loggerOptions('warn'));
  const store = await openStore(config.databaseUrl);
  const services = makeServices(config, store, SecretBox.fromKey(randomBytes(32)), logger);
  const app = await buildApp(services, { logger });
  await app.listen({ host: '127.0.0.1', port: 0 });
  config.publicUrl = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  await services.start();

  const api = async (method: string, path: string, body?: unknown) => {
    const r = await fetch(config.publicUrl + path, { method, headers: { 'x-api-key': adminKey, 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
    const j = (await r.json()) as Record<string, unknown>;
    if (r.status >= 300) throw new Error(`${method} ${path}: ${r.status} ${JSON.stringify(j)}`);
    return j;
  };

  out(`Switchboard ${config.publicUrl} (SQLite in ${dir}); fakes for Telegram, Graph, Twilio, Vonage, Resend on loopback.\n`);
  const inst = await api('POST', '/v1/instances', { name: 'demo agent', agent_url: agentUrl });
  signingSecret = inst.signing_secret as string;
  const I = inst.id as string;

  // Telegram: the channel is provisioned on the fake (getMe + setWebhook), which then delivers.
  const tgConn = await api('POST', `/v1/instances/${I}/connections`, { provider: 'telegram', secrets: { bot_token: fakes.telegram.token } });
  const tg = await api('POST', `/v1/instances/${I}/channels`, { channel_type: 'telegram', provider: 'telegram', external_identifier: 'switchboard_test_bot', connection_id: tgConn.id });
  out(`telegram  channel ${tg.id}: status=${tg.status}, webhook set on the fake: ${fakes.telegram.webhook()?.url === tg.webhook_url}`);
  await fakes.telegram.deliverUpdate({ update_id: 1, message: { message_id: 10, date: Math.floor(Date.now() / 1000), chat: { id: 4242, type: 'private' }, from: { id: 4242, is_bot: false, first_name: 'Ada' }, text: 'hello from Telegram' } });
  const tgSent = await until(() => fakes.telegram.sentMessages(4242)[0], 'the Telegram answer');
  out(`  -> sendMessage parse_mode=${tgSent.parse_mode}:\n     ${tgSent.text.replace(/\n/g, '\n     ')}\n`);

  // WhatsApp Cloud: signed with the app secret, routed by phone_number_id.
  const appSecret = 'demo-app-secret';
  const waConn = await api('POST', `/v1/instances/${I}/connections`, { provider: 'meta_cloud', secrets: { access_token: fakes.graph.accessToken, app_secret: appSecret } });
  const wa = await api('POST', `/v1/instances/${I}/channels`, { channel_type: 'whatsapp', provider: 'meta_cloud', external_identifier: '+15550100200', connection_id: waConn.id, config: { phone_number_id: fakes.graph.phoneNumberId } });
  const waIn = fakes.graph.inboundText({ from: '4915112345678', text: 'hello from WhatsApp', name: 'Bea' });
  await fakes.graph.deliverWebhook(wa.webhook_url as string, waIn.payload, appSecret);
  const waSent = await until(() => fakes.graph.sentMessages('4915112345678')[0], 'the WhatsApp answer');
  out(`whatsapp  channel ${wa.id}\n  -> /messages text.body:\n     ${String(waSent.text).replace(/\n/g, '\n     ')}\n`);

  // SMS through Twilio: signed with the account's auth token over PUBLIC_URL + path.
  const twConn = await api('POST', `/v1/instances/${I}/connections`, { provider: 'twilio', secrets: { account_sid: fakes.twilio.accountSid, auth_token: fakes.twilio.authToken } });
  const sms = await api('POST', `/v1/instances/${I}/channels`, { channel_type: 'sms', provider: 'twilio', external_identifier: fakes.twilio.phoneNumber, connection_id: twConn.id });
  out(`sms       channel ${sms.id}: status=${sms.status} (the number's SMS URL now points at it)`);
  await fakes.twilio.deliverWebhook(sms.webhook_url as string, fakes.twilio.inboundSms({ from: '+14155550123', body: 'hello from SMS', to: fakes.twilio.phoneNumber }));
  const smsSent = await until(() => fakes.twilio.sentMessages('+14155550123')[0], 'the SMS answer');
  out(`  -> Messages.json Body:\n     ${String((smsSent as unknown as { body: string }).body).replace(/\n/g, '\n     ')}\n`);

  // SMS through Vonage: the Messages API webhook carries a JWT (HS256, signature secret) over the body's hash.
  const vg = fakes.vonage.credentials;
  const vgConn = await api('POST', `/v1/instances/${I}/connections`, { provider: 'vonage', secrets: { api_key: vg.apiKey, api_secret: vg.apiSecret, signature_secret: vg.signatureSecret } });
  const vsms = await api('POST', `/v1/instances/${I}/channels`, { channel_type: 'sms', provider: 'vonage', external_identifier: '+447700900100', connection_id: vgConn.id });
  await fakes.vonage.deliverWebhook(vsms.webhook_url as string, vg.signatureSecret, fakes.vonage.inboundText({ from: '447700900123', to: '447700900100', text: 'hello from Vonage' }));
  const vgSent = await until(() => fakes.vonage.sentMessages('447700900123')[0], 'the Vonage answer');
  out(`sms       channel ${vsms.id} (Vonage)\n  -> /v1/messages text:\n     ${String(vgSent.text).replace(/\n/g, '\n     ')}\n`);

  // Email through Resend: Svix-signed email.received, body fetched from the (fake) API, threaded reply.
  const whsec = 'whsec_' + randomBytes(24).toString('base64');
  const rsConn = await api('POST', `/v1/instances/${I}/connections`, { provider: 'resend', secrets: { api_key: fakes.resend.apiKey, webhook_secret: whsec } });
  const em = await api('POST', `/v1/instances/${I}/channels`, { channel_type: 'email', provider: 'resend', external_identifier: 'support@demo.test', connection_id: rsConn.id });
  const received = fakes.resend.receiveEmail({ from: 'Cy <cy@example.com>', to: ['support@demo.test'], subject: 'Question', text: 'hello from email', message_id: '<q1@example.com>' });
  await fakes.resend.deliverWebhook(em.webhook_url as string, whsec, received.event);
  const mail = await until(() => fakes.resend.sentEmails('cy@example.com')[0], 'the email answer');
  const m = mail as unknown as { subject: string; headers?: Record<string, string>; text?: string };
  out(`email     channel ${em.id}\n  -> /emails subject="${m.subject}" In-Reply-To=${m.headers?.['In-Reply-To']} (text + HTML parts)\n     ${String(m.text).replace(/\n/g, '\n     ')}\n`);

  const events = await api('GET', `/v1/instances/${I}/events?limit=500`);
  out(`${(events.events as unknown[]).length} events recorded for the agent (messages in, statuses out). Every answer went out once.`);

  await app.close();
  await services.stop();
  await store.close();
  await fakes.close();
  agent.close();
}

main().catch((err: unknown) => {
  process.stderr.write(`demo failed: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
