/**
 * The Resend kit for the provider contract suite (test/contract/): an email address on the fake
 * Resend, email.received webhooks signed by Svix (the official `svix` package), and (outbound) the
 * fake's POST /emails, which honours Idempotency-Key as Resend does.
 */
import { randomBytes } from 'node:crypto';
import { Webhook as SvixWebhook } from 'svix';
import { startFakeResend, type FakeResend } from '../../../fakes/resend.js';
import { createChannel, createConnection, type Kit, type KitContext, type OutboundKit, type WireRequest } from '../../contract/kit.js';

export async function resendKit({ s, instanceId, tag = '' }: KitContext, opts: { viaAccount?: boolean; fake?: FakeResend } = {}): Promise<Kit & { fake: FakeResend; address: string; connectionId: string; signEvent(event: unknown): WireRequest }> {
  const fake = opts.fake ?? (await startFakeResend());
  const whsec = 'whsec_' + randomBytes(24).toString('base64');
  const address = `support${tag}-${randomBytes(3).toString('hex')}@sb.test`;
  const conn = await createConnection(s, instanceId, { provider: 'resend', secrets: { api_key: fake.apiKey, webhook_secret: whsec }, settings: { api_base_url: fake.url } });
  const ch = await createChannel(s, instanceId, { channel_type: 'email', provider: 'resend', external_identifier: address, connection_id: conn.id });
  const url = opts.viaAccount ? conn.webhook_url : ch.webhook_url;
  // One stored email + svix id per (n, conv): a retry re-sends the same svix-id (re-signed, as Svix does).
  const events = new Map<string, { svixId: string; body: string }>();
  const eventFor = (n: number, conv = 1) => {
    const key = `${n}/${conv}`;
    let e = events.get(key);
    if (!e) {
      const { event } = fake.receiveEmail({ from: `Customer ${conv} <c${conv}@example.com>`, to: [address], subject: `Question ${n}`, text: `hello ${n}`, message_id: `<m${n}.${tag}@example.com>`, headers: conv > 1 ? { references: `<root${conv}@example.com>` } : { references: `<root1${tag}@example.com>` } });
      e = { svixId: `msg_${randomBytes(12).toString('hex')}`, body: JSON.stringify(event) };
      events.set(key, e);
    }
    return e;
  };
  const sign = (id: string, body: string | Buffer, at = new Date(), secret = whsec, ct = 'application/json'): WireRequest => ({
    url,
    headers: { 'content-type': ct, 'svix-id': id, 'svix-timestamp': String(Math.floor(at.getTime() / 1000)), 'svix-signature': new SvixWebhook(secret).sign(id, at, body) },
    body,
  });
  return {
    provider: 'resend', channelId: ch.id, url, format: 'json', fake, address, connectionId: conn.id,
    signEvent: (event) => sign(`msg_${randomBytes(12).toString('hex')}`, JSON.stringify(event)),
    valid: async (n, conv) => {
      const e = eventFor(n, conv);
      return sign(e.svixId, e.body);
    },
    badSignature: async (n) => sign(eventFor(n).svixId, eventFor(n).body, new Date(), 'whsec_' + randomBytes(24).toString('base64')),
    missingSignature: async (n) => ({ url, headers: { 'content-type': 'application/json', 'svix-id': eventFor(n).svixId }, body: eventFor(n).body }),
    staleSignature: async (n) => sign(eventFor(n).svixId, eventFor(n).body, new Date(Date.now() - 10 * 60_000)),
    signRaw: async (body, ct) => sign(`msg_${randomBytes(12).toString('hex')}`, body, new Date(), whsec, ct),
    close: async () => {
      if (!opts.fake) await fake.close();
    },
  };
}

export async function resendOutboundKit(c: KitContext): Promise<OutboundKit> {
  const kit = await resendKit(c);
  const { fake } = kit;
  return {
    ...kit,
    sendPath: '/emails',
    secretValues: [fake.apiKey],
    delivered: (text) => fake.sentEmails().filter((e) => e.text?.includes(text)).length,
    direct: {
      channelType: 'email', externalIdentifier: kit.address, secrets: { api_key: fake.apiKey }, settings: {}, config: {}, apiBaseUrl: fake.url,
      conversationKey: '<root1@example.com>', otherConversationKey: '<root2@example.com>',
      chunk: (text) => ({ text, html: `<p>${text}</p>`, subject: 'Re: Question', email: { from: kit.address, to: ['c1@example.com'] } }),
      other: { secrets: { api_key: 're_other_key' }, settings: {}, config: {}, externalIdentifier: 'sales@other.test' },
    },
  };
}
