/**
 * The WhatsApp Cloud (meta_cloud) kit for the provider contract suite (test/contract/): a number
 * whose webhooks carry X-Hub-Signature-256 (HMAC-SHA256 with the app secret), the GET
 * hub.challenge handshake with the channel's verify_token, and (outbound) the fake Graph API.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { startFakeGraph, type FakeGraph } from '../../../fakes/graph.js';
import { createChannel, createConnection, noop, type Kit, type KitContext, type OutboundKit } from '../../contract/kit.js';

export const metaSign = (secret: string, body: string | Buffer) => 'sha256=' + createHmac('sha256', secret).update(body).digest('hex');

/** `epoch`: the timestamp of event 0 (the default is in 2024: WhatsApp's 24-hour window is closed). */
export function metaBody(phoneNumberId: string, n: number, conv = 1, epoch = 1714560000): string {
  const waId = String(16505550000 + conv);
  return JSON.stringify({
    object: 'whatsapp_business_account',
    entry: [{ id: 'WABA1', changes: [{ field: 'messages', value: {
      messaging_product: 'whatsapp',
      metadata: { display_phone_number: '15550001111', phone_number_id: phoneNumberId },
      contacts: [{ profile: { name: 'Sheena' }, wa_id: waId }],
      messages: [{ from: waId, id: `wamid.${phoneNumberId}.${n}`, timestamp: String(epoch + n), type: 'text', text: { body: `hello ${n}` } }],
    } }] }],
  });
}

export async function metaKit({ s, instanceId, tag = '' }: KitContext, opts: { viaAccount?: boolean; fake?: FakeGraph } = {}): Promise<Kit & { appSecret: string; connectionId: string; phoneNumberId: string }> {
  const appSecret = 'meta-app-secret-' + randomBytes(6).toString('hex');
  const verifyToken = 'verify-' + randomBytes(6).toString('hex');
  // The fake Graph API sends only from its own number id.
  const phoneNumberId = opts.fake ? opts.fake.phoneNumberId : String(100000000000000 + Math.floor(Math.random() * 1e9)) + tag.replace(/\D/g, '');
  const conn = await createConnection(s, instanceId, {
    provider: 'meta_cloud',
    secrets: { access_token: opts.fake ? opts.fake.accessToken : 'EAAG-test', app_secret: appSecret },
    ...(opts.fake ? { settings: { api_base_url: opts.fake.baseUrl } } : {}),
  });
  const ch = await createChannel(s, instanceId, { channel_type: 'whatsapp', provider: 'meta_cloud', external_identifier: `+1555${randomBytes(3).toString('hex')}`, connection_id: conn.id, config: { phone_number_id: phoneNumberId, verify_token: verifyToken } });
  const url = opts.viaAccount ? conn.webhook_url : ch.webhook_url;
  // Sends need the person's 24-hour window open: with a fake, events are an hour old at most.
  const epoch = opts.fake ? Math.floor(Date.now() / 1000) - 3600 : undefined;
  const signed = (body: string | Buffer, secret = appSecret, ct = 'application/json') => ({ url, headers: { 'content-type': ct, 'x-hub-signature-256': metaSign(secret, body) }, body });
  const hub = (token: string) => ({ url: `${url}?hub.mode=subscribe&hub.verify_token=${encodeURIComponent(token)}&hub.challenge=1158201444`, method: 'GET', headers: {}, body: '' });
  return {
    provider: 'meta_cloud', channelId: ch.id, url, format: 'json', appSecret, connectionId: conn.id, phoneNumberId,
    valid: async (n, conv) => signed(metaBody(phoneNumberId, n, conv, epoch)),
    badSignature: async (n) => signed(metaBody(phoneNumberId, n), appSecret + 'x'),
    missingSignature: async (n) => ({ url, headers: { 'content-type': 'application/json' }, body: metaBody(phoneNumberId, n) }),
    staleSignature: async () => undefined, // X-Hub-Signature-256 carries no timestamp
    signRaw: async (body, ct) => signed(body, appSecret, ct),
    handshake: { valid: hub(verifyToken), answer: '1158201444', wrongToken: hub(verifyToken + 'x') },
    close: noop,
  };
}

export async function metaOutboundKit(c: KitContext): Promise<OutboundKit> {
  const fake = await startFakeGraph();
  const kit = await metaKit(c, { fake });
  return {
    ...kit,
    fake,
    sendPath: '/messages',
    secretValues: [fake.accessToken, kit.appSecret],
    delivered: (text) => fake.sentMessages().filter((m) => m.text?.includes(text)).length,
    rateLimit: { retryAfterMs: 1000, why: "Meta's throughput error 130429 carries no Retry-After: the adapter waits its documented 1 s" },
    direct: {
      channelType: 'whatsapp', externalIdentifier: '+15550001111', secrets: { access_token: fake.accessToken }, settings: {}, config: { phone_number_id: fake.phoneNumberId }, apiBaseUrl: fake.baseUrl,
      conversationKey: '16505550001', otherConversationKey: '16505550002',
      chunk: (text) => ({ text }),
      other: { secrets: { access_token: 'EAAG-other' }, settings: {}, config: { phone_number_id: '200000000000001' }, externalIdentifier: '+15550002222' },
    },
    close: () => fake.close(),
  };
}
