/** Sending from a customer's Gmail: a raw RFC 2822 reply posted into the thread. */
import type { OutboundSender } from '../types.js';
import { buildRfc2822, gmailApi, toBase64Url } from './api.js';

export const gmailSender: OutboundSender = {
  provider: 'gmail',
  capabilities: { maxTextLength: Number.POSITIVE_INFINITY, format: 'email', canEdit: false, canDraft: false, canType: false },
  idempotent: false,
  rateLimits: (ctx) => [{ key: `gmail:mailbox:${ctx.externalIdentifier.toLowerCase()}`, burst: 10, perSecond: 5 }],
  async send(ctx, chunk) {
    const e = chunk.email;
    if (!e || e.to.length === 0) throw new Error('an email needs a recipient');
    const raw = buildRfc2822({ from: e.from, to: e.to, cc: e.cc, subject: chunk.subject ?? '', text: chunk.text, html: chunk.html, inReplyTo: e.inReplyTo, references: e.references });
    const api = gmailApi({
      clientId: ctx.secrets.client_id ?? '',
      clientSecret: ctx.secrets.client_secret ?? '',
      refreshToken: ctx.secrets.refresh_token ?? '',
      ...(typeof ctx.settings.oauth_token_url === 'string' ? { tokenUrl: ctx.settings.oauth_token_url } : {}),
      baseUrl: ctx.apiBaseUrl,
      fetch: ctx.fetch,
      timeoutMs: ctx.timeoutMs,
    });
    const r = await api.send({ raw: toBase64Url(raw), ...(e.threadId ? { threadId: e.threadId } : {}) });
    return { providerMessageId: r.id };
  },
};
