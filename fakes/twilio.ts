/**
 * A fake Twilio REST API on loopback: HTTP Basic check (wrong -> 401 code 20003), the Messages
 * resource (To, From | MessagingServiceSid, Body | MediaUrl required, Body <= 1600 -> 21617,
 * From must be a number of the account), IncomingPhoneNumbers list/update and the Messaging v2
 * Senders list (GET /v2/Channels/Senders?Channel=whatsapp, Channel required, PageSize 1-1000,
 * PageToken paging with `meta.next_page_url`; served on this same host, as for any base URL other
 * than api.twilio.com). Error bodies are Twilio's `{code, message, more_info, status}`.
 *
 * Example:
 *   const tw = await startFakeTwilio();
 *   await twilioApi({ accountSid: tw.accountSid, authToken: tw.authToken, baseUrl: tw.url })
 *     .sendMessage({ from: tw.phoneNumber, to: '+14155550100', body: 'hi' });
 */
import { fields, hexId, startFakeServer } from './fake-server.js';
import type { FakeReply, FakeServer, RecordedRequest, StatusFailSpec } from './fake-server.js';
import { postWebhook, twilioSignature } from './webhook-delivery.js';

export const FAKE_TWILIO_ACCOUNT_SID = 'AC' + '0123456789abcdef'.repeat(2);
export const FAKE_TWILIO_AUTH_TOKEN = 'fake_twilio_auth_token_0123456789';
export const FAKE_TWILIO_NUMBER = '+15005550006';

export interface FakeTwilioOptions {
  accountSid?: string;
  authToken?: string;
  /** E.164 numbers the account owns; defaults to [FAKE_TWILIO_NUMBER]. */
  phoneNumbers?: string[];
  /** E.164 numbers registered as the account's WhatsApp senders; defaults to every phoneNumbers entry. */
  whatsappSenders?: string[];
  port?: number;
}

export interface FakeTwilioMessage {
  sid: string;
  account_sid: string;
  to: string;
  from: string | null;
  messaging_service_sid: string | null;
  body: string;
  media_urls: string[];
  status_callback?: string;
  status: string;
  num_segments: string;
  date_created: string;
}

export interface FakeTwilioNumber {
  sid: string;
  phone_number: string;
  sms_url: string;
  sms_method: string;
  voice_url: string;
  voice_method: string;
  status_callback: string;
  status_callback_method: string;
}

export interface FakeTwilio extends FakeServer {
  accountSid: string;
  authToken: string;
  /** The first number of the account. */
  phoneNumber: string;
  sentMessages(to?: string): FakeTwilioMessage[];
  /** The account's numbers with their current webhook settings. */
  incomingNumbers(): FakeTwilioNumber[];
  /** The account's WhatsApp senders (E.164). */
  whatsappSenders(): string[];
  /** Sends to this recipient fail with 63016 (WhatsApp 24-hour window closed). */
  closeWindow(to: string): void;
  /** Sends to this recipient fail with 21610 (recipient replied STOP). */
  optOut(to: string): void;
  /** The form fields Twilio posts for an inbound SMS (an MMS with `media`) to one of the account's numbers. */
  inboundSms(input: { from: string; body: string; to?: string; media?: { url: string; contentType: string }[] }): Record<string, string>;
  /**
   * Stores an inbound MMS's media; returns its MediaUrl (on the API host, HTTP Basic required,
   * redirecting to a short-lived unauthenticated CDN URL as Twilio does).
   */
  addMedia(bytes: Uint8Array, contentType: string): string;
  /** Deletes media (as DELETE .../Media/{sid} would): its URLs answer 404 from now on. */
  removeMedia(url: string): void;
  /** POSTs form fields signed with X-Twilio-Signature (account auth token); returns the status. */
  deliverWebhook(url: string, params: Record<string, string>): Promise<number>;
}

const E164 = /^\+[1-9]\d{6,14}$/;

export async function startFakeTwilio(opts: FakeTwilioOptions = {}): Promise<FakeTwilio> {
  const accountSid = opts.accountSid ?? FAKE_TWILIO_ACCOUNT_SID;
  const authToken = opts.authToken ?? FAKE_TWILIO_AUTH_TOKEN;
  const numbers: FakeTwilioNumber[] = (opts.phoneNumbers ?? [FAKE_TWILIO_NUMBER]).map((n, i) => ({
    sid: 'PN' + String(i + 1).padStart(32, '0'),
    phone_number: n, sms_url: '', sms_method: 'POST', voice_url: '', voice_method: 'POST', status_callback: '', status_callback_method: 'POST',
  }));
  const senders = (opts.whatsappSenders ?? numbers.map((n) => n.phone_number)).map((n, i) => ({ sid: 'XE' + String(i + 1).padStart(32, '0'), number: n }));
  const sent: FakeTwilioMessage[] = [];
  const media = new Map<string, { bytes: Uint8Array; contentType: string }>();
  let base = '';
  const closed = new Set<string>();
  const stopped = new Set<string>();
  const bare = (n: string) => n.replace(/^whatsapp:/, '');

  const error = (status: number, code: number, message: string): FakeReply => ({
    status,
    json: { code, message, more_info: `https://www.twilio.com/docs/errors/${code}`, status },
  });

  function authorised(req: RecordedRequest): boolean {
    const h = req.headers.authorization;
    if (typeof h !== 'string' || !h.startsWith('Basic ')) return false;
    return Buffer.from(h.slice(6), 'base64').toString('utf8') === `${accountSid}:${authToken}`;
  }

  function resource(m: FakeTwilioMessage): Record<string, unknown> {
    return {
      sid: m.sid, account_sid: m.account_sid, to: m.to, from: m.from, messaging_service_sid: m.messaging_service_sid,
      body: m.body, status: m.status, num_segments: m.num_segments, num_media: String(m.media_urls.length),
      direction: 'outbound-api', api_version: '2010-04-01', date_created: m.date_created, date_updated: m.date_created,
      date_sent: null, price: null, price_unit: 'USD', error_code: null, error_message: null,
      uri: `/2010-04-01/Accounts/${m.account_sid}/Messages/${m.sid}.json`,
    };
  }

  function createMessage(req: RecordedRequest): FakeReply {
    const f = fields(req.body);
    const one = (k: string): string | undefined => (typeof f[k] === 'string' ? (f[k] as string) : Array.isArray(f[k]) ? String((f[k] as string[])[0]) : undefined);
    const to = one('To');
    const from = one('From');
    const service = one('MessagingServiceSid');
    const body = one('Body') ?? '';
    const media = f.MediaUrl === undefined ? [] : Array.isArray(f.MediaUrl) ? (f.MediaUrl as string[]) : [String(f.MediaUrl)];
    if (!to) return error(400, 21604, "A 'To' phone number is required.");
    if (!from && !service) return error(400, 21603, "A 'From' phone number is required.");
    const contentSid = one('ContentSid');
    if (contentSid !== undefined && !/^HX[0-9a-f]{32}$/.test(contentSid)) return error(400, 21655, `The ContentSid ${contentSid} is invalid.`);
    if (!body && media.length === 0 && !contentSid) return error(400, 21602, 'Message body is required.');
    if (!E164.test(bare(to))) return error(400, 21211, `The 'To' number ${to} is not a valid phone number.`);
    if (from && !numbers.some((n) => n.phone_number === bare(from))) {
      return error(400, 21606, `The From phone number ${from} is not a valid, SMS-capable inbound phone number or short code for your account.`);
    }
    if (service && !/^MG[0-9a-f]{32}$/.test(service)) return error(400, 21701, `The Messaging Service Sid ${service} is invalid.`);
    if (body.length > 1600) return error(400, 21617, 'The concatenated message body exceeds the 1600 character limit.');
    if (stopped.has(bare(to))) return error(400, 21610, 'Attempt to send to unsubscribed recipient');
    if (to.startsWith('whatsapp:') && closed.has(bare(to)) && !contentSid) {
      return error(400, 63016, 'Failed to send freeform message because you are outside the allowed window. If you are using WhatsApp, please use a Message Template.');
    }
    const gsm = /^[\x20-\x7e\n\r£¥èéùìòÇØøÅåÄÖÑÜ§¿äöñüà]*$/.test(body);
    const single = gsm ? 160 : 70;
    const part = gsm ? 153 : 67;
    const segments = body.length <= single ? 1 : Math.ceil(body.length / part);
    const msg: FakeTwilioMessage = {
      sid: 'SM' + hexId(16), account_sid: accountSid, to, from: from ?? null, messaging_service_sid: service ?? null,
      body, media_urls: media, status_callback: one('StatusCallback'), status: service && !from ? 'accepted' : 'queued',
      num_segments: String(segments), date_created: new Date().toUTCString().replace('GMT', '+0000'),
    };
    sent.push(msg);
    return { status: 201, json: resource(msg) };
  }

  function numberResource(n: FakeTwilioNumber): Record<string, unknown> {
    return { ...n, account_sid: accountSid, friendly_name: n.phone_number, capabilities: { sms: true, mms: true, voice: true }, uri: `/2010-04-01/Accounts/${accountSid}/IncomingPhoneNumbers/${n.sid}.json` };
  }

  /** Messaging v2 `GET /v2/Channels/Senders`: one page, paged by an opaque PageToken (here: the offset). */
  function listSenders(req: RecordedRequest): FakeReply {
    if (!authorised(req)) return error(401, 20003, 'Authenticate');
    const channel = req.query.get('Channel');
    if (!channel) return error(400, 20001, 'Missing required parameter Channel in the post body');
    if (!['whatsapp', 'rcs'].includes(channel.toLowerCase())) return error(400, 20001, `Invalid Channel: ${channel}`);
    const sizeText = req.query.get('PageSize') ?? '20';
    const size = Number(sizeText);
    if (!/^\d+$/.test(sizeText) || size < 1 || size > 1000) return error(400, 20001, 'PageSize must be between 1 and 1000');
    const from = Number(req.query.get('PageToken') ?? '0');
    const all = channel.toLowerCase() === 'whatsapp' ? senders : [];
    const page = all.slice(from, from + size);
    const url = (token?: number) => `${base}/v2/Channels/Senders?Channel=${channel}&PageSize=${size}${token ? `&PageToken=${token}` : ''}`;
    return {
      status: 200,
      json: {
        senders: page.map((x) => ({
          sid: x.sid, status: 'ONLINE', sender_id: `whatsapp:${x.number}`,
          configuration: { waba_id: '100000000000001', verification_method: 'sms', verification_code: null, voice_application_sid: null },
          webhook: { callback_url: null, callback_method: 'POST', fallback_url: null, fallback_method: 'POST', status_callback_url: null, status_callback_method: 'POST' },
          profile: { name: 'Fake business', about: null, address: null, description: null, emails: null, logo_url: null, vertical: null, websites: null },
          properties: { quality_rating: 'HIGH', messaging_limit: '10K Customers/24hr' },
          offline_reasons: null, compliance: null, url: `${base}/v2/Channels/Senders/${x.sid}`,
        })),
        meta: {
          page: Math.floor(from / size), page_size: size, first_page_url: url(), previous_page_url: from > 0 ? url(Math.max(0, from - size)) : null,
          url: url(from), next_page_url: from + size < all.length ? url(from + size) : null, key: 'senders',
        },
      },
    };
  }

  function handler(req: RecordedRequest): FakeReply {
    if (req.path === '/v2/Channels/Senders' && req.method === 'GET') return listSenders(req);
    const cdn = /^\/cdn\/(ME[0-9a-f]{32})$/.exec(req.path);
    if (cdn && req.method === 'GET') {
      const item = media.get(cdn[1]);
      if (!item || !(Number(req.query.get('Expires') ?? 0) * 1000 > Date.now())) return { status: 403, text: 'AccessDenied' };
      return { status: 200, bytes: item.bytes, headers: { 'content-type': item.contentType } };
    }
    const m = /^\/2010-04-01\/Accounts\/([^/]+)\/(.+)$/.exec(req.path);
    if (!m) return error(404, 20404, 'The requested resource was not found');
    if (!authorised(req) || m[1] !== accountSid) return error(401, 20003, 'Authenticate');
    const rest = m[2];
    if (rest === 'Messages.json' && req.method === 'POST') return createMessage(req);
    const med = /^Messages\/MM[0-9a-f]{32}\/Media\/(ME[0-9a-f]{32})$/.exec(rest);
    if (med && req.method === 'GET') {
      if (!media.has(med[1])) return error(404, 20404, `The requested resource /2010-04-01/Accounts/${accountSid}/${rest} was not found`);
      return { status: 307, headers: { location: `${base}/cdn/${med[1]}?Expires=${Math.floor(Date.now() / 1000) + 300}` }, text: '' };
    }
    const get = /^Messages\/(SM[0-9a-f]{32})\.json$/.exec(rest);
    if (get && req.method === 'GET') {
      const msg = sent.find((s) => s.sid === get[1]);
      return msg ? { status: 200, json: resource(msg) } : error(404, 20404, `The requested resource /2010-04-01/Accounts/${accountSid}/${rest} was not found`);
    }
    if (rest === 'IncomingPhoneNumbers.json' && req.method === 'GET') {
      const want = req.query.get('PhoneNumber');
      const list = numbers.filter((n) => !want || n.phone_number === want).map(numberResource);
      return { status: 200, json: { incoming_phone_numbers: list, page: 0, page_size: 50, first_page_uri: '', next_page_uri: null, previous_page_uri: null, uri: `/2010-04-01/Accounts/${accountSid}/IncomingPhoneNumbers.json` } };
    }
    const upd = /^IncomingPhoneNumbers\/(PN[0-9a-f]{32})\.json$/.exec(rest);
    if (upd && req.method === 'POST') {
      const n = numbers.find((x) => x.sid === upd[1]);
      if (!n) return error(404, 20404, `The requested resource /2010-04-01/Accounts/${accountSid}/${rest} was not found`);
      const f = fields(req.body);
      const set = (key: string, prop: keyof FakeTwilioNumber) => {
        if (typeof f[key] === 'string') n[prop] = f[key] as string;
      };
      set('SmsUrl', 'sms_url');
      set('SmsMethod', 'sms_method');
      set('VoiceUrl', 'voice_url');
      set('VoiceMethod', 'voice_method');
      set('StatusCallback', 'status_callback');
      set('StatusCallbackMethod', 'status_callback_method');
      return { status: 200, json: numberResource(n) };
    }
    return error(404, 20404, `The requested resource /2010-04-01/Accounts/${accountSid}/${rest} was not found`);
  }

  function failure(spec: StatusFailSpec): FakeReply {
    const code = spec.code !== undefined ? Number(spec.code) : spec.status === 401 ? 20003 : spec.status === 429 ? 20429 : spec.status === 404 ? 20404 : spec.status >= 500 ? 20500 : 21211;
    const msg = spec.message ?? ({ 20003: 'Authenticate', 20429: 'Too Many Requests', 20404: 'The requested resource was not found', 20500: 'Internal Server Error' } as Record<number, string>)[code] ?? 'Invalid request';
    const reply = error(spec.status, code, msg);
    return spec.retryAfter !== undefined ? { ...reply, headers: { 'retry-after': String(spec.retryAfter) } } : reply;
  }

  const server = await startFakeServer({ handler, failure, port: opts.port });
  base = server.url;
  return {
    ...server,
    accountSid,
    authToken,
    phoneNumber: numbers[0]?.phone_number ?? '',
    sentMessages: (to) => (to === undefined ? [...sent] : sent.filter((s) => bare(s.to) === bare(to))),
    incomingNumbers: () => numbers.map((n) => ({ ...n })),
    whatsappSenders: () => senders.map((x) => x.number),
    closeWindow: (to) => void closed.add(bare(to)),
    optOut: (to) => void stopped.add(bare(to)),
    inboundSms(input) {
      return {
        MessageSid: 'SM' + hexId(16), SmsSid: '', AccountSid: accountSid, From: input.from, To: input.to ?? numbers[0]?.phone_number ?? '',
        Body: input.body, NumMedia: String(input.media?.length ?? 0), NumSegments: '1', SmsStatus: 'received', ApiVersion: '2010-04-01',
        ...Object.fromEntries((input.media ?? []).flatMap((x, i) => [[`MediaUrl${i}`, x.url], [`MediaContentType${i}`, x.contentType]])),
      };
    },
    addMedia(bytes, contentType) {
      const sid = 'ME' + hexId(16);
      media.set(sid, { bytes, contentType });
      return `${base}/2010-04-01/Accounts/${accountSid}/Messages/MM${hexId(16)}/Media/${sid}`;
    },
    removeMedia(url) {
      media.delete(url.split('/').pop() ?? '');
    },
    async deliverWebhook(url, params) {
      const body = new URLSearchParams(params).toString();
      const signature = await twilioSignature(authToken, url, params);
      return postWebhook(url, { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': signature }, body);
    },
  };
}
