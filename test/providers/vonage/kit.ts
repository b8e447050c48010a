/**
 * The Vonage kit for the provider contract suite (test/contract/): a connection on the fake
 * Vonage, an SMS channel, webhooks signed as Vonage signs them, and (outbound) the fake's
 * POST /v1/messages.
 */
import { startFakeVonage, type FakeVonage } from '../../../fakes/vonage.js';
import type { Kit, KitContext, OutboundKit } from '../../contract/kit.js';

export async function vonageKit({ s, instanceId }: KitContext, opts: { fake?: FakeVonage; channelType?: 'sms' | 'whatsapp' } = {}): Promise<Kit & { fake: FakeVonage; number: string; connectionId: string }> {
  const fake = opts.fake ?? (await startFakeVonage());
  const number = `4477009${String(Math.floor(Math.random() * 1e5)).padStart(5, '0')}`;
  const conn = await s.api('POST', `/v1/instances/${instanceId}/connections`, {
    provider: 'vonage',
    secrets: { api_key: fake.credentials.apiKey, api_secret: fake.credentials.apiSecret, signature_secret: fake.credentials.signatureSecret },
    settings: { api_base_url: fake.url },
  });
  if (conn.status !== 201) throw new Error(`connection create failed: ${conn.status} ${conn.text}`);
  const ch = await s.api('POST', `/v1/instances/${instanceId}/channels`, { channel_type: opts.channelType ?? 'sms', provider: 'vonage', external_identifier: `+${number}`, connection_id: conn.body.id });
  if (ch.status !== 201) throw new Error(`channel create failed: ${ch.status} ${ch.text}`);
  const url: string = ch.body.webhook_url;
  const secret = fake.credentials.signatureSecret;
  // The same n and conv give the same message_uuid: Vonage's retry of one event.
  const uuid = (n: number, conv: number) => `00000000-0000-4000-8000-${String(conv).padStart(4, '0')}${String(n).padStart(8, '0')}`;
  const body = (n: number, conv = 1) =>
    JSON.stringify(fake.inboundText({ from: `4479460${String(conv).padStart(5, '0')}`, to: number, text: `hello ${n}`, messageUuid: uuid(n, conv), channel: opts.channelType ?? 'sms' }));
  const headers = async (b: string | Buffer, claims?: Parameters<FakeVonage['signature']>[2], key = secret) => ({ 'content-type': 'application/json', authorization: await fake.signature(b, key, claims) });
  return {
    provider: 'vonage', channelId: ch.body.id, url, format: 'json', fake, number, connectionId: conn.body.id,
    valid: async (n, conv) => {
      const b = body(n, conv);
      return { url, headers: await headers(b), body: b };
    },
    badSignature: async (n) => ({ url, headers: await headers(body(n), undefined, secret + 'x'), body: body(n) }),
    missingSignature: async (n) => ({ url, headers: { 'content-type': 'application/json' }, body: body(n) }),
    staleSignature: async (n) => ({ url, headers: await headers(body(n), { iat: Math.floor(Date.now() / 1000) - 3600 }), body: body(n) }),
    signRaw: async (b, ct) => ({ url, headers: { ...(await headers(b)), 'content-type': ct }, body: b }),
    close: () => (opts.fake ? Promise.resolve() : fake.close()),
  };
}

export async function vonageOutboundKit(c: KitContext): Promise<OutboundKit> {
  const kit = await vonageKit(c);
  const { fake } = kit;
  const creds = fake.credentials;
  return {
    ...kit,
    sendPath: '/v1/messages',
    secretValues: [creds.apiSecret, creds.signatureSecret],
    delivered: (text) => fake.sentMessages().filter((m) => m.text?.includes(text)).length,
    direct: {
      channelType: 'sms', externalIdentifier: `+${kit.number}`, secrets: { api_key: creds.apiKey, api_secret: creds.apiSecret, signature_secret: creds.signatureSecret }, settings: {}, config: {}, apiBaseUrl: fake.url,
      conversationKey: '447946000001', otherConversationKey: '447946000002',
      chunk: (text) => ({ text }),
      other: { secrets: { api_key: 'other-key', api_secret: 'other-secret', signature_secret: 'other' }, settings: {}, config: {}, externalIdentifier: '+447700900999' },
    },
  };
}
