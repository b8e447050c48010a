/** Sending through the Vonage Messages API: SMS text, WhatsApp text/media/templates. */
import { createHash } from 'node:crypto';
import type { OutboundPart, SendContext } from '../contract.js';
import { canonicalPhone } from '../shared/identity.js';
import { ProviderError } from '../shared/provider-error.js';
import { vonageApi, type VonageMessage } from './api.js';

/** Vonage writes numbers as E.164 digits without '+' (an alphanumeric SMS sender id stays as it is). */
export const digits = (n: string) => (canonicalPhone(n) ?? n.trim()).replace(/^\+/, '');

/** A bucket key for an API key that does not contain the key. */
const keyId = (k: string) => createHash('sha256').update(k).digest('hex').slice(0, 16);

type MediaType = 'image' | 'audio' | 'video' | 'file';
const MEDIA: Record<string, MediaType> = { image: 'image', photo: 'image', audio: 'audio', voice: 'audio', video: 'video' };
/** The types WhatsApp takes as image/audio/video messages; anything else goes as a file. */
const NATIVE: Record<Exclude<MediaType, 'file'>, RegExp> = { image: /^image\/(jpeg|png)$/, audio: /^audio\/(aac|amr|mpeg|mp4|ogg)$/, video: /^video\/(mp4|3gpp)$/ };

/** The message type of an attachment: by kind, as a file when its known type is not one WhatsApp plays. */
function mediaType(kind: string | undefined, mimeType: string | undefined): MediaType {
  const t = MEDIA[kind ?? ''] ?? 'file';
  if (t === 'file' || !mimeType) return t;
  return NATIVE[t].test(mimeType.split(';')[0]!.trim().toLowerCase()) ? t : 'file';
}

function message(ctx: SendContext, chunk: Parameters<OutboundPart['send']>[1]): VonageMessage {
  const channel = ctx.channelType === 'whatsapp' ? 'whatsapp' : 'sms';
  const base = {
    channel,
    to: digits(ctx.conversationKey),
    from: digits(ctx.externalIdentifier),
    client_ref: ctx.idempotencyKey.slice(0, 100),
    // Status webhooks for this message go to the channel's URL, like its inbound messages.
    webhook_url: ctx.webhookUrl,
    ...(channel === 'whatsapp' && chunk.replyToProviderMessageId ? { context: { message_uuid: chunk.replyToProviderMessageId } } : {}),
  } as const;
  if (chunk.template) {
    if (channel !== 'whatsapp') throw new ProviderError({ provider: 'vonage', kind: 'permanent', code: 'template_unsupported', message: 'Templates are WhatsApp-only.' });
    // WhatsApp's own template object, passed through as a custom message.
    const template = { name: chunk.template.name, language: { code: chunk.template.language, policy: 'deterministic' }, ...(chunk.template.components ? { components: chunk.template.components } : {}) };
    return { ...base, message_type: 'custom', custom: { type: 'template', template } };
  }
  const a = chunk.attachments?.[0];
  if (a) {
    if (channel === 'sms') throw new ProviderError({ provider: 'vonage', kind: 'permanent', code: 'attachments_unsupported', message: 'An SMS cannot carry attachments.' });
    // By URL: an uploaded file's is a signed Switchboard link, which Vonage fetches.
    const type = mediaType(a.kind, a.mimeType);
    const caption = chunk.text || a.caption;
    // Audio takes no caption on WhatsApp.
    const media = { url: a.url, ...(caption && type !== 'audio' ? { caption } : {}), ...(type === 'file' && a.fileName ? { name: a.fileName } : {}) };
    return { ...base, message_type: type, [type]: media };
  }
  return { ...base, message_type: 'text', text: chunk.text };
}

export const vonageOutbound: OutboundPart = {
  idempotent: false,
  // 30 requests/s per API key by default; an SMS long code sends about 1/s, a WhatsApp number ~80/s.
  rateLimits: (ctx) => [
    { key: `vonage:key:${keyId(ctx.secrets.api_key ?? '')}`, burst: 30, perSecond: 30 },
    ctx.channelType === 'whatsapp'
      ? { key: `vonage:wa:${digits(ctx.externalIdentifier)}`, burst: 80, perSecond: 80 }
      : { key: `vonage:sms:${digits(ctx.externalIdentifier)}`, burst: 5, perSecond: 1 },
  ],
  async send(ctx, chunk) {
    const api = vonageApi({ apiKey: ctx.secrets.api_key ?? '', apiSecret: ctx.secrets.api_secret ?? '', baseUrl: ctx.apiBaseUrl, fetch: ctx.fetch, timeoutMs: ctx.timeoutMs });
    const r = await api.send(message(ctx, chunk));
    return { providerMessageId: r.messageUuid };
  },
};
