/**
 * WhatsApp Cloud API (Graph) client. Built per call from the connection's access token.
 *
 * Example:
 *   const wa = metaCloudApi({ accessToken, baseUrl: ctx.apiBaseUrl });
 *   const { messageId } = await wa.sendText({ phoneNumberId: '1234', to: '4915112345678', body: 'hi' });
 */
import { ProviderError, kindForStatus } from '../shared/provider-error.js';
import type { ProviderErrorKind } from '../shared/provider-error.js';
import { asRecord, httpRequest, joinUrl, num, str } from '../shared/http.js';
import type { ApiClientOptions, HttpResponse } from '../shared/http.js';

/**
 * Graph versions live about two years. v21.0 (Oct 2024) reaches its end around the turn of
 * 2026/27, so the default is v24.0 (Oct 2025); override with `baseUrl` to pin another.
 */
export const GRAPH_API_VERSION = 'v24.0';
export const GRAPH_API_BASE_URL = `https://graph.facebook.com/${GRAPH_API_VERSION}`;
const PROVIDER = 'meta_cloud';

export interface MetaCloudApiOptions extends ApiClientOptions {
  /** Base URL including the version segment, e.g. https://graph.facebook.com/v24.0. */
  baseUrl?: string;
  accessToken: string;
}

export interface SendTextParams {
  phoneNumberId: string;
  /** Recipient phone number or wa_id. */
  to: string;
  body: string;
  previewUrl?: boolean;
  /** wamid of the message this answers (shown as a quote). */
  replyTo?: string;
}

export type MediaType = 'image' | 'document' | 'audio' | 'video' | 'sticker';

export interface SendMediaParams {
  phoneNumberId: string;
  to: string;
  type: MediaType;
  /** Public HTTPS URL Meta downloads, or `id`: media uploaded with uploadMedia. */
  link?: string;
  id?: string;
  caption?: string;
  /** Shown for documents. */
  filename?: string;
  replyTo?: string;
}

export interface TemplateComponent {
  type: string;
  sub_type?: string;
  index?: string | number;
  parameters?: Record<string, unknown>[];
}

export interface SendTemplateParams {
  phoneNumberId: string;
  to: string;
  name: string;
  languageCode: string;
  components?: TemplateComponent[];
}

export interface SendResult {
  messageId: string;
  waId?: string;
}

export interface MediaInfo {
  url: string;
  mime_type?: string;
  sha256?: string;
  file_size?: number;
  id: string;
}

export interface MetaCloudApi {
  sendText(params: SendTextParams): Promise<SendResult>;
  sendMedia(params: SendMediaParams): Promise<SendResult>;
  /** `POST /{phone_number_id}/media` (multipart: messaging_product, type, file) -> the media id (kept ~30 days). */
  uploadMedia(phoneNumberId: string, file: { bytes: Buffer; fileName: string; mimeType: string }): Promise<string>;
  /** Templates are the only messages allowed outside the 24-hour window. */
  sendTemplate(params: SendTemplateParams): Promise<SendResult>;
  /** Marks an inbound message read; with `typing` also shows the typing indicator (about 25 s). */
  markRead(params: { phoneNumberId: string; messageId: string; typing?: boolean }): Promise<void>;
  /** Media URL (valid about 5 minutes); download it with downloadMedia, which sends the token. */
  getMediaUrl(mediaId: string): Promise<MediaInfo>;
  downloadMedia(url: string): Promise<Uint8Array>;
  /** The phone numbers of a WhatsApp Business Account (`GET /{waba-id}/phone_numbers`): what the account can prove it holds. */
  listPhoneNumbers(wabaId: string): Promise<{ id: string; display_phone_number?: string }[]>;
}

/** A WhatsApp business-scoped user id: a two-letter country code, a dot, then letters/digits (`US.ENT.…` for a parent BSUID). */
export function isBsuid(v: string): boolean {
  return /^[A-Z]{2}\.(?:ENT\.)?[A-Za-z0-9]{1,128}$/.test(v);
}

export function metaCloudApi(opts: MetaCloudApiOptions): MetaCloudApi {
  const base = opts.baseUrl ?? GRAPH_API_BASE_URL;
  const auth = { authorization: `Bearer ${opts.accessToken}` };

  async function request(method: 'GET' | 'POST', path: string, json: unknown, idempotent: boolean): Promise<Record<string, unknown>> {
    const res = await httpRequest({
      provider: PROVIDER, method, url: joinUrl(base, path), headers: auth, json, idempotent,
      fetch: opts.fetch, timeoutMs: opts.timeoutMs,
    });
    if (res.status >= 200 && res.status < 300) return asRecord(res.body);
    throw metaCloudError(res);
  }

  async function send(phoneNumberId: string, message: Record<string, unknown>): Promise<SendResult> {
    // A person known only by their business-scoped user id (BSUID, e.g. "US.13491208655302741918")
    // is addressed with `recipient` instead of `to` (a phone number).
    const { to, ...rest } = message;
    const address = typeof to === 'string' && isBsuid(to) ? { recipient: to } : { to };
    const body = await request('POST', `${encodeURIComponent(phoneNumberId)}/messages`, {
      messaging_product: 'whatsapp',
      recipient_type: 'individual',
      ...address,
      ...rest,
    }, false);
    const first = asRecord(Array.isArray(body.messages) ? body.messages[0] : undefined);
    const contact = asRecord(Array.isArray(body.contacts) ? body.contacts[0] : undefined);
    const messageId = str(first.id);
    if (!messageId) {
      // Accepted but unreadable: the message may be out, so this must not be retried.
      throw new ProviderError({ provider: PROVIDER, kind: 'unknown_outcome', code: 'bad_response', httpStatus: 200, message: 'WhatsApp accepted the send but returned no message id.' });
    }
    return { messageId, waId: str(contact.wa_id) };
  }

  const context = (replyTo?: string) => (replyTo ? { context: { message_id: replyTo } } : {});

  return {
    sendText: (p) =>
      send(p.phoneNumberId, { to: p.to, type: 'text', text: { body: p.body, ...(p.previewUrl !== undefined ? { preview_url: p.previewUrl } : {}) }, ...context(p.replyTo) }),
    sendMedia: (p) => {
      const media: Record<string, unknown> = p.id ? { id: p.id } : { link: p.link };
      if (p.caption !== undefined && p.type !== 'audio' && p.type !== 'sticker') media.caption = p.caption;
      if (p.filename !== undefined && p.type === 'document') media.filename = p.filename;
      return send(p.phoneNumberId, { to: p.to, type: p.type, [p.type]: media, ...context(p.replyTo) });
    },
    async uploadMedia(phoneNumberId, file) {
      const form = new FormData();
      form.append('messaging_product', 'whatsapp');
      form.append('type', file.mimeType);
      form.append('file', new Blob([new Uint8Array(file.bytes)], { type: file.mimeType }), file.fileName);
      // A repeated upload only makes another media id: safe to retry.
      const res = await httpRequest({ provider: PROVIDER, method: 'POST', url: joinUrl(base, `${encodeURIComponent(phoneNumberId)}/media`), headers: auth, formData: form, idempotent: true, fetch: opts.fetch, timeoutMs: opts.timeoutMs });
      if (res.status < 200 || res.status >= 300) throw metaCloudError(res);
      const id = str(asRecord(res.body).id);
      if (!id) throw new ProviderError({ provider: PROVIDER, kind: 'retryable', code: 'bad_response', httpStatus: res.status, message: 'WhatsApp accepted the upload but returned no media id.' });
      return id;
    },
    sendTemplate: (p) =>
      send(p.phoneNumberId, { to: p.to, type: 'template', template: { name: p.name, language: { code: p.languageCode }, ...(p.components ? { components: p.components } : {}) } }),
    async markRead(p) {
      await request('POST', `${encodeURIComponent(p.phoneNumberId)}/messages`, {
        messaging_product: 'whatsapp',
        status: 'read',
        message_id: p.messageId,
        ...(p.typing ? { typing_indicator: { type: 'text' } } : {}),
      }, true);
    },
    async getMediaUrl(mediaId) {
      const body = await request('GET', encodeURIComponent(mediaId), undefined, true);
      const url = str(body.url);
      if (!url) throw new ProviderError({ provider: PROVIDER, kind: 'retryable', code: 'bad_response', httpStatus: 200, message: 'WhatsApp media lookup returned no URL.' });
      return { url, id: str(body.id) ?? mediaId, mime_type: str(body.mime_type), sha256: str(body.sha256), file_size: num(body.file_size) };
    },
    async listPhoneNumbers(wabaId) {
      const out: { id: string; display_phone_number?: string }[] = [];
      let path: string | undefined = `${encodeURIComponent(wabaId)}/phone_numbers?fields=id,display_phone_number&limit=100`;
      // Paged by cursor; a WABA holds at most a few dozen numbers, the bound is only a safety net.
      for (let page = 0; path && page < 20; page++) {
        const body = await request('GET', path, undefined, true);
        for (const n of Array.isArray(body.data) ? body.data : []) {
          const r = asRecord(n);
          const id = str(r.id);
          if (id) out.push({ id, display_phone_number: str(r.display_phone_number) });
        }
        const after = str(asRecord(asRecord(body.paging).cursors).after);
        path = after && str(asRecord(body.paging).next) ? `${encodeURIComponent(wabaId)}/phone_numbers?fields=id,display_phone_number&limit=100&after=${encodeURIComponent(after)}` : undefined;
      }
      return out;
    },
    async downloadMedia(url) {
      const res = await httpRequest({ provider: PROVIDER, method: 'GET', url, headers: auth, binary: true, idempotent: true, fetch: opts.fetch, timeoutMs: opts.timeoutMs });
      if (res.status === 200 && res.bytes) return res.bytes;
      throw metaCloudError(res);
    },
  };
}

// Codes Meta uses for throughput and pair limits; none come with Retry-After, hence the defaults.
const RATE_LIMIT_MS: Record<number, number> = { 4: 60_000, 80007: 60_000, 130429: 1_000, 131048: 60_000, 131056: 6_000 };
const PERMANENT: Record<number, true> = { 100: true, 131008: true, 131009: true, 131021: true, 131026: true, 131047: true, 131051: true, 132000: true, 132001: true, 133010: true };

/** Maps a Graph `{error:{message,type,code,error_subcode,fbtrace_id}}` answer to a ProviderError. */
export function metaCloudError(res: HttpResponse): ProviderError {
  const e = asRecord(asRecord(res.body).error);
  const code = num(e.code);
  const detail = str(asRecord(e.error_data).details);
  let kind: ProviderErrorKind = kindForStatus(res.status);
  let retryAfterMs: number | undefined;
  if (code === 190 || code === 10 || (code !== undefined && code >= 200 && code <= 299)) kind = 'auth';
  else if (code !== undefined && code in RATE_LIMIT_MS) {
    kind = 'rate_limited';
    retryAfterMs = RATE_LIMIT_MS[code];
  }
  // 100/33: "object with ID does not exist" (wrong phone_number_id or media id).
  else if (code === 100 && num(e.error_subcode) === 33) kind = 'not_found';
  else if (code !== undefined && code in PERMANENT) kind = 'permanent';
  if (kind === 'rate_limited' && retryAfterMs === undefined) retryAfterMs = 60_000;
  const message = str(e.message) ?? `HTTP ${res.status}`;
  return new ProviderError({
    provider: PROVIDER,
    kind,
    code: code !== undefined ? String(code) : String(res.status),
    httpStatus: res.status,
    retryAfterMs,
    windowClosed: code === 131047,
    message: `WhatsApp API error: ${message}${detail ? ` (${detail})` : ''}`,
  });
}
