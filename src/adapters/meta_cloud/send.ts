/** Sending on WhatsApp Cloud: text (with quoted replies), media by link, templates, typing. */
import type { OutboundPart, SendContext } from '../contract.js';
import { metaCloudApi, type MediaType, type TemplateComponent } from './api.js';
import { metaPhoneNumberId } from './identity.js';

function api(ctx: SendContext) {
  return metaCloudApi({ accessToken: ctx.secrets.access_token ?? '', baseUrl: ctx.apiBaseUrl, fetch: ctx.fetch, timeoutMs: ctx.timeoutMs });
}

/** The number's Graph id: config.phone_number_id, else the external identifier itself. */
export function phoneNumberIdOf(ctx: Pick<SendContext, 'config' | 'externalIdentifier'>): string {
  return metaPhoneNumberId(ctx.config, ctx.externalIdentifier);
}

const MEDIA: Record<string, MediaType> = { image: 'image', photo: 'image', audio: 'audio', video: 'video', document: 'document', file: 'document', sticker: 'sticker' };

export const metaCloudOutbound: OutboundPart = {
  idempotent: false,
  // About 80 messages/s per business number, and a pair limit towards one user (131056).
  rateLimits: (ctx) => [
    { key: `meta_cloud:number:${phoneNumberIdOf(ctx)}`, burst: 80, perSecond: 80 },
    { key: `meta_cloud:pair:${phoneNumberIdOf(ctx)}:${ctx.conversationKey}`, burst: 10, perSecond: 1 / 6 },
  ],
  async send(ctx, chunk) {
    const phoneNumberId = phoneNumberIdOf(ctx);
    const client = api(ctx);
    if (chunk.template) {
      const r = await client.sendTemplate({ phoneNumberId, to: ctx.conversationKey, name: chunk.template.name, languageCode: chunk.template.language, components: chunk.template.components as TemplateComponent[] | undefined });
      return { providerMessageId: r.messageId };
    }
    if (chunk.attachments?.length) {
      const a = chunk.attachments[0];
      const type = a.load ? whatsappType(a.kind, a.mimeType ?? '') : (MEDIA[a.kind ?? 'document'] ?? 'document');
      // Uploaded media goes to Graph first (POST /{phone_number_id}/media), then is sent by id.
      const source = a.load ? { id: await client.uploadMedia(phoneNumberId, { bytes: await a.load(), fileName: a.fileName ?? 'file', mimeType: a.mimeType ?? 'application/octet-stream' }) } : { link: a.url };
      const r = await client.sendMedia({ phoneNumberId, to: ctx.conversationKey, type, ...source, caption: chunk.text || a.caption, filename: a.fileName, replyTo: chunk.replyToProviderMessageId });
      return { providerMessageId: r.messageId };
    }
    const r = await client.sendText({ phoneNumberId, to: ctx.conversationKey, body: chunk.text, replyTo: chunk.replyToProviderMessageId });
    return { providerMessageId: r.messageId };
  },
  async typing(ctx, lastInbound) {
    if (lastInbound) await api(ctx).markRead({ phoneNumberId: phoneNumberIdOf(ctx), messageId: lastInbound, typing: true });
  },
};

/** WhatsApp's media types by what the file is: images it shows inline are JPEG/PNG, the rest goes as a document. */
export function whatsappType(kind: string | undefined, mimeType: string): MediaType {
  if (kind === 'image' && /^image\/(jpeg|png)$/.test(mimeType)) return 'image';
  if (kind === 'sticker' && mimeType === 'image/webp') return 'sticker';
  if ((kind === 'voice' || kind === 'audio') && /^audio\/(aac|amr|mpeg|mp4|ogg)/.test(mimeType)) return 'audio';
  if (kind === 'video' && /^video\/(mp4|3gpp)$/.test(mimeType)) return 'video';
  return 'document';
}
