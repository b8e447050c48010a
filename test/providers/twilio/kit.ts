/**
 * The Twilio kit for the provider contract suite (test/contract/): an SMS number on a fake Twilio
 * (creating the channel points the number's SMS URL at it), webhooks signed with the twilio SDK's
 * X-Twilio-Signature, and (outbound) the fake's Messages API.
 */
import { randomBytes } from 'node:crypto';
import twilio from 'twilio';
import { startFakeTwilio, type FakeTwilio } from '../../../fakes/twilio.js';
import { createChannel, createConnection, type Kit, type KitContext, type OutboundKit } from '../../contract/kit.js';

export async function twilioKit({ s, instanceId }: KitContext): Promise<Kit & { fake: FakeTwilio; number: string; accountSid: string; authToken: string }> {
  const token = 'twilio-token-' + randomBytes(8).toString('hex');
  const number = `+1415${String(Math.floor(Math.random() * 1e7)).padStart(7, '0')}`;
  const accountSid = 'AC' + randomBytes(16).toString('hex');
  // Creating the channel points the number's SMS URL at it (provisioning): a fake Twilio owns it.
  const fake = await startFakeTwilio({ accountSid, authToken: token, phoneNumbers: [number] });
  const conn = await createConnection(s, instanceId, { provider: 'twilio', secrets: { account_sid: accountSid, auth_token: token }, settings: { api_base_url: fake.url } });
  const ch = await createChannel(s, instanceId, { channel_type: 'sms', provider: 'twilio', external_identifier: number, connection_id: conn.id });
  const params = (n: number, conv = 1) => ({ MessageSid: `SM${String(n).padStart(32, '0')}`, AccountSid: 'AC1', From: `+1650555${String(conv).padStart(4, '0')}`, To: number, Body: `hello ${n}`, NumMedia: '0', NumSegments: '1', SmsStatus: 'received' });
  const form = (p: Record<string, string>) => new URLSearchParams(p).toString();
  const FORM = 'application/x-www-form-urlencoded';
  const url = ch.webhook_url;
  return {
    provider: 'twilio', channelId: ch.id, url, format: 'form', fake, number, accountSid, authToken: token,
    valid: async (n, conv) => ({ url, headers: { 'content-type': FORM, 'x-twilio-signature': twilio.getExpectedTwilioSignature(token, url, params(n, conv)) }, body: form(params(n, conv)) }),
    badSignature: async (n) => ({ url, headers: { 'content-type': FORM, 'x-twilio-signature': twilio.getExpectedTwilioSignature(token + 'x', url, params(n)) }, body: form(params(n)) }),
    missingSignature: async (n) => ({ url, headers: { 'content-type': FORM }, body: form(params(n)) }),
    staleSignature: async () => undefined, // X-Twilio-Signature carries no timestamp
    // Raw junk is signed as Twilio would sign a form post with no parseable fields, or a JSON body (bodySHA256).
    async signRaw(body, ct) {
      const fields: Record<string, string> = {};
      if (!ct.includes('json')) for (const [k, v] of new URLSearchParams(body.toString('utf8'))) fields[k] ??= v;
      return { url, headers: { 'content-type': ct, 'x-twilio-signature': twilio.getExpectedTwilioSignature(token, url, fields) }, body };
    },
    close: () => fake.close(),
  };
}

export async function twilioOutboundKit(c: KitContext): Promise<OutboundKit> {
  const kit = await twilioKit(c);
  return {
    ...kit,
    sendPath: '/Messages.json',
    secretValues: [kit.authToken],
    delivered: (text) => kit.fake.sentMessages().filter((m) => m.body.includes(text)).length,
    // The Messages API takes a form: the text is in the Body field, not verbatim in the raw body.
    isSend: (r, text) => r.path.includes('/Messages.json') && String((r.body as { Body?: unknown } | undefined)?.Body ?? '').includes(text),
    direct: {
      channelType: 'sms', externalIdentifier: kit.number, secrets: { account_sid: kit.accountSid, auth_token: kit.authToken }, settings: {}, config: {}, apiBaseUrl: kit.fake.url,
      conversationKey: '+16505550001', otherConversationKey: '+16505550002',
      chunk: (text) => ({ text }),
      other: { secrets: { account_sid: 'AC' + '0'.repeat(32), auth_token: 'other-token' }, settings: {}, config: {}, externalIdentifier: '+14155550199' },
    },
  };
}
