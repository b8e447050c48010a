/**
 * Twilio REST client for sending messages and provisioning phone numbers. Built per call from the
 * account's SID and auth token (HTTP Basic); holds nothing between calls.
 *
 * Example:
 *   const tw = twilioApi({ accountSid, authToken, baseUrl: ctx.apiBaseUrl });
 *   const msg = await tw.sendMessage({ from: '+15005550006', to: '+14155550100', body: 'hi' });
 */
import { ProviderError, kindForStatus, parseRetryAfter } from '../shared/provider-error.js';
import type { ProviderErrorKind } from '../shared/provider-error.js';
import { asRecord, httpRequest, joinUrl, num, str } from '../shared/http.js';
import type { ApiClientOptions, HttpResponse } from '../shared/http.js';

export const TWILIO_API_BASE_URL = 'https://api.twilio.com';
/** Twilio's Messaging v2 API (WhatsApp senders) lives on its own host. */
export const TWILIO_MESSAGING_BASE_URL = 'https://messaging.twilio.com';
const PROVIDER = 'twilio';

export interface TwilioApiOptions extends ApiClientOptions {
  accountSid: string;
  authToken: string;
}

export interface SendMessageParams {
  to: string;
  /** A number of the account (or `whatsapp:+…`); give this or messagingServiceSid. */
  from?: string;
  messagingServiceSid?: string;
  body?: string;
  mediaUrls?: string[];
  statusCallback?: string;
  /** A Content API template (HX…): the only WhatsApp message allowed outside the 24-hour window. */
  contentSid?: string;
  /** JSON object of template variables, e.g. {"1": "Ada"}. */
  contentVariables?: string;
}

/** The fields of Twilio's Message resource Switchboard reads. */
export interface TwilioMessage {
  sid: string;
  status: string;
  to: string;
  from: string | null;
  body: string;
  num_segments: string;
  messaging_service_sid: string | null;
  error_code: number | null;
  error_message: string | null;
}

export interface IncomingNumber {
  sid: string;
  phone_number: string;
  sms_url: string;
  sms_method: string;
  voice_url: string;
  voice_method: string;
  status_callback: string;
}

export interface UpdateIncomingNumberParams {
  /** PN… SID; when absent the number is looked up by `phoneNumber`. */
  phoneNumberSid?: string;
  phoneNumber?: string;
  smsUrl?: string;
  voiceUrl?: string;
  statusCallback?: string;
}

export interface TwilioApi {
  sendMessage(params: SendMessageParams): Promise<TwilioMessage>;
  fetchMessage(sid: string): Promise<TwilioMessage>;
  /** The account's number with this E.164 value, or undefined when the account has none. */
  findIncomingNumber(phoneNumber: string): Promise<IncomingNumber | undefined>;
  /** Points a number's SMS/voice webhooks (POST) at Switchboard. */
  updateIncomingNumber(params: UpdateIncomingNumberParams): Promise<IncomingNumber>;
  /**
   * The account's WhatsApp senders as E.164 numbers (Senders API, GET /v2/Channels/Senders?Channel=whatsapp,
   * every page): what proves a WhatsApp number belongs to the account.
   */
  listWhatsAppSenders(): Promise<string[]>;
}

/**
 * Where the Messaging v2 API is: messaging.twilio.com next to Twilio's own REST host; any other
 * base (the operator's SWITCHBOARD_TWILIO_API_URL, a connection's api_base_url, a local fake)
 * serves every Twilio API itself.
 */
export function twilioMessagingBase(baseUrl: string | undefined): string {
  const b = (baseUrl ?? '').replace(/\/+$/, '');
  return !b || b === TWILIO_API_BASE_URL ? TWILIO_MESSAGING_BASE_URL : b;
}

/** Longest sender list read (Twilio's PageSize maximum is 1000): a bound, not an expected size. */
const MAX_SENDER_PAGES = 20;

export function twilioApi(opts: TwilioApiOptions): TwilioApi {
  const base = joinUrl(opts.baseUrl ?? TWILIO_API_BASE_URL, `2010-04-01/Accounts/${encodeURIComponent(opts.accountSid)}`);
  const auth = { authorization: 'Basic ' + Buffer.from(`${opts.accountSid}:${opts.authToken}`).toString('base64') };

  async function request(method: 'GET' | 'POST', path: string, form: URLSearchParams | undefined, idempotent: boolean): Promise<Record<string, unknown>> {
    const res = await httpRequest({ provider: PROVIDER, method, url: joinUrl(base, path), headers: auth, form, idempotent, fetch: opts.fetch, timeoutMs: opts.timeoutMs });
    if (res.status >= 200 && res.status < 300) return asRecord(res.body);
    throw twilioError(res);
  }

  async function findIncomingNumber(phoneNumber: string): Promise<IncomingNumber | undefined> {
    const body = await request('GET', `IncomingPhoneNumbers.json?PhoneNumber=${encodeURIComponent(phoneNumber)}`, undefined, true);
    const list = Array.isArray(body.incoming_phone_numbers) ? body.incoming_phone_numbers : [];
    return list.length > 0 ? (list[0] as IncomingNumber) : undefined;
  }

  async function listWhatsAppSenders(): Promise<string[]> {
    const base = twilioMessagingBase(opts.baseUrl);
    const origin = new URL(base).origin;
    const numbers: string[] = [];
    let url: string | undefined = joinUrl(base, 'v2/Channels/Senders?Channel=whatsapp&PageSize=1000');
    for (let page = 0; url && page < MAX_SENDER_PAGES; page++) {
      const res = await httpRequest({ provider: PROVIDER, method: 'GET', url, headers: auth, idempotent: true, fetch: opts.fetch, timeoutMs: opts.timeoutMs });
      if (res.status < 200 || res.status >= 300) throw twilioError(res);
      const body = asRecord(res.body);
      for (const sender of Array.isArray(body.senders) ? body.senders : []) {
        const id = str(asRecord(sender).sender_id);
        if (id) numbers.push(id.replace(/^whatsapp:/i, ''));
      }
      // Only a next page on the same host: the answer must not send our credentials elsewhere.
      const next = str(asRecord(body.meta).next_page_url);
      url = next && URL.canParse(next) && new URL(next).origin === origin ? next : undefined;
    }
    return numbers;
  }

  return {
    listWhatsAppSenders,
    async sendMessage(p) {
      const form = new URLSearchParams();
      form.set('To', p.to);
      if (p.from) form.set('From', p.from);
      if (p.messagingServiceSid) form.set('MessagingServiceSid', p.messagingServiceSid);
      if (p.body !== undefined) form.set('Body', p.body);
      for (const url of p.mediaUrls ?? []) form.append('MediaUrl', url);
      if (p.contentSid) form.set('ContentSid', p.contentSid);
      if (p.contentVariables) form.set('ContentVariables', p.contentVariables);
      if (p.statusCallback) form.set('StatusCallback', p.statusCallback);
      return (await request('POST', 'Messages.json', form, false)) as unknown as TwilioMessage;
    },
    async fetchMessage(sid) {
      return (await request('GET', `Messages/${encodeURIComponent(sid)}.json`, undefined, true)) as unknown as TwilioMessage;
    },
    findIncomingNumber,
    async updateIncomingNumber(p) {
      let sid = p.phoneNumberSid;
      if (!sid) {
        if (!p.phoneNumber) throw new ProviderError({ provider: PROVIDER, kind: 'permanent', code: 'missing_number', message: 'updateIncomingNumber needs phoneNumberSid or phoneNumber.' });
        const found = await findIncomingNumber(p.phoneNumber);
        if (!found) throw new ProviderError({ provider: PROVIDER, kind: 'not_found', code: '20404', httpStatus: 404, message: `The Twilio account has no phone number ${p.phoneNumber}.` });
        sid = found.sid;
      }
      const form = new URLSearchParams();
      if (p.smsUrl !== undefined) {
        form.set('SmsUrl', p.smsUrl);
        form.set('SmsMethod', 'POST');
      }
      if (p.voiceUrl !== undefined) {
        form.set('VoiceUrl', p.voiceUrl);
        form.set('VoiceMethod', 'POST');
      }
      if (p.statusCallback !== undefined) {
        form.set('StatusCallback', p.statusCallback);
        form.set('StatusCallbackMethod', 'POST');
      }
      // Setting webhook URLs to given values is idempotent.
      return (await request('POST', `IncomingPhoneNumbers/${encodeURIComponent(sid)}.json`, form, true)) as unknown as IncomingNumber;
    },
  };
}

// Twilio error codes that say something the HTTP status does not.
const CODE_KIND: Record<number, ProviderErrorKind> = {
  20003: 'auth',
  20404: 'not_found',
  // "Too many requests" is refused before queueing, so waiting and sending again is safe; as a
  // rate limit it waits the Retry-After without using up the message's attempts.
  20429: 'rate_limited',
  21211: 'permanent',
  21408: 'permanent',
  21610: 'permanent',
  21614: 'permanent',
  21617: 'permanent',
  63016: 'permanent',
};

/** Maps a Twilio `{code, message, more_info, status}` answer to a ProviderError. */
export function twilioError(res: HttpResponse): ProviderError {
  const body = asRecord(res.body);
  const code = num(body.code);
  let kind = (code !== undefined ? CODE_KIND[code] : undefined) ?? kindForStatus(res.status);
  // A 403 from Twilio is mostly a permission/geo restriction on the request, not bad credentials.
  if (res.status === 403 && code !== 20003) kind = 'permanent';
  const retryAfterMs = parseRetryAfter(res.headers.get('retry-after')) ?? (kind === 'rate_limited' || code === 20429 ? 1000 : undefined);
  return new ProviderError({
    provider: PROVIDER,
    kind,
    code: code !== undefined ? String(code) : String(res.status),
    httpStatus: res.status,
    retryAfterMs,
    windowClosed: code === 63016,
    message: `Twilio API error: ${str(body.message) ?? `HTTP ${res.status}`}`,
  });
}
