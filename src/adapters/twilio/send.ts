/** Sending through Twilio Messages: SMS/MMS from our number, or WhatsApp with the `whatsapp:` prefix. */
import type { OutboundPart } from '../contract.js';
import { twilioApi } from './api.js';
import { canonicalPhone } from '../shared/identity.js';

const wa = (n: string) => (n.startsWith('whatsapp:') ? n : `whatsapp:${n}`);

export const twilioOutbound: OutboundPart = {
  idempotent: false,
  // A long code sends about 1 message/s; queue beyond a small burst instead of drawing 20429s.
  rateLimits: (ctx) => [{ key: `twilio:from:${ctx.externalIdentifier}`, burst: 5, perSecond: 1 }],
  async send(ctx, chunk) {
    const whatsapp = ctx.channelType === 'whatsapp';
    // Our own number, canonical (E.164), whatever spelling the channel was created with.
    const own = canonicalPhone(ctx.externalIdentifier) ?? ctx.externalIdentifier.trim().replace(/^whatsapp:/, '');
    // A Messaging Service sends from any number of its pool, and on a platform credential shared
    // by tenants that pool may hold another tenant's number (the SID is unique, its pool is not
    // ours to check): there the channel's own, proven number is the sender.
    const service = typeof ctx.config.messaging_service_sid === 'string' && !ctx.shared ? ctx.config.messaging_service_sid : undefined;
    const from = service ? undefined : whatsapp ? wa(own) : own;
    const m = await twilioApi({ accountSid: ctx.secrets.account_sid ?? '', authToken: ctx.secrets.auth_token ?? '', baseUrl: ctx.apiBaseUrl, fetch: ctx.fetch, timeoutMs: ctx.timeoutMs }).sendMessage({
      to: whatsapp ? wa(ctx.conversationKey) : ctx.conversationKey,
      ...(from ? { from } : { messagingServiceSid: service }),
      // Templates: `template.name` is the Content API sid (HX…), components the variables object.
      ...(chunk.template
        ? { contentSid: chunk.template.name, ...(chunk.template.components?.[0] ? { contentVariables: JSON.stringify(chunk.template.components[0]) } : {}) }
        : { body: chunk.text }),
      ...(chunk.attachments?.length ? { mediaUrls: chunk.attachments.map((a) => a.url) } : {}),
      statusCallback: ctx.webhookUrl,
    });
    return { providerMessageId: m.sid };
  },
};
