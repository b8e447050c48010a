/** Sending on Telegram: HTML parse mode, replies threaded with reply_parameters, typing actions. */
import { createHash } from 'node:crypto';
import type { ApiContext, OutboundPart, SendContext } from '../contract.js';
import { ProviderError } from '../shared/provider-error.js';
import { telegramApi, type AlbumItem, type UploadMethod } from './api.js';
import type { OutboundAttachment } from '../contract.js';
import { canonicalTelegramUsername } from './identity.js';

function api(ctx: ApiContext & { timeoutMs: number }) {
  return telegramApi({ botToken: ctx.secrets.bot_token ?? '', baseUrl: ctx.apiBaseUrl, fetch: ctx.fetch, timeoutMs: ctx.timeoutMs });
}

/** Which bot a token is (getMe), per token and API base, for a few minutes: a send need not ask each time. */
const BOT_OF_TOKEN_TTL_MS = 5 * 60_000;
const botOfToken = new Map<string, { username: string; at: number }>();

/**
 * The client for a send, once the token is known to be this channel's bot. A token is one bot,
 * so on a platform credential shared by tenants exactly one channel is that bot (identities are
 * unique); any other channel on it (whose provisioning getMe already refused) would otherwise
 * write to chats as that bot — another tenant's. A customer's own connection is its own bot
 * whatever the channel calls it, so it is not asked.
 */
async function ownBot(ctx: SendContext) {
  const client = api(ctx);
  if (!ctx.shared) return client;
  const key = createHash('sha256').update(`${ctx.apiBaseUrl}\n${ctx.secrets.bot_token ?? ''}`).digest('hex');
  let known = botOfToken.get(key);
  if (!known || Date.now() - known.at > BOT_OF_TOKEN_TTL_MS) {
    known = { username: canonicalTelegramUsername((await client.getMe()).username ?? ''), at: Date.now() };
    botOfToken.set(key, known);
  }
  const want = canonicalTelegramUsername(ctx.externalIdentifier);
  if (known.username !== want) {
    throw new ProviderError({ provider: 'telegram', kind: 'permanent', code: 'not_this_bot', message: `The credential's bot token belongs to @${known.username || '?'}, not @${want}: this channel cannot send with it.` });
  }
  return client;
}

/**
 * Runs a send to the conversation's chat; when Telegram answers that the group became a supergroup
 * (nothing was sent, the new id is named), sends once more to the new chat. Replies to a
 * conversation started before the upgrade then still reach the group.
 */
async function toChat<T>(ctx: SendContext, send: (chatId: string) => Promise<T>): Promise<T> {
  try {
    return await send(ctx.conversationKey);
  } catch (err) {
    if (err instanceof ProviderError && err.movedTo && err.movedTo !== ctx.conversationKey) return send(err.movedTo);
    throw err;
  }
}

export const telegramOutbound: OutboundPart = {
  idempotent: false,
  // About 1 message/s per chat (20/min in groups, whose ids are negative) and 30/s per bot.
  rateLimits: (ctx) => [
    { key: `telegram:chat:${ctx.externalIdentifier.toLowerCase()}:${ctx.conversationKey}`, ...(ctx.conversationKey.startsWith('-') ? { burst: 3, perSecond: 20 / 60 } : { burst: 1, perSecond: 1 }) },
    { key: `telegram:bot:${ctx.externalIdentifier.toLowerCase()}`, burst: 30, perSecond: 30 },
  ],
  // Photos and videos share albums; documents and audio files each only with their own kind.
  mediaGroup: { max: 10, key: albumKey },
  async send(ctx, chunk) {
    const replyTo = chunk.replyToProviderMessageId ? Number(chunk.replyToProviderMessageId) : undefined;
    if ((chunk.attachments?.length ?? 0) > 1) {
      const items: AlbumItem[] = await Promise.all(chunk.attachments!.map(async (a, i): Promise<AlbumItem> => {
        const caption = i === 0 && chunk.text ? { caption: chunk.text, parse_mode: 'HTML' as const } : {};
        const type = albumType(a);
        if (!a.load) return { type, url: a.url, ...caption };
        return { type, file: { bytes: await a.load(), fileName: a.fileName ?? 'file', mimeType: a.mimeType ?? 'application/octet-stream' }, ...caption };
      }));
      const tg = await ownBot(ctx);
      const sent = await toChat(ctx, (chat_id) => tg.sendMediaGroup({ chat_id, ...(replyTo && Number.isFinite(replyTo) ? { reply_parameters: { message_id: replyTo, allow_sending_without_reply: true } } : {}) }, items));
      return { providerMessageId: String(sent[0]?.message_id ?? '') };
    }
    const media = chunk.attachments?.[0];
    if (media?.load) {
      // Uploaded media: the bytes go with the request, by kind (voice notes as voice, etc.).
      const file = { bytes: await media.load(), fileName: media.fileName ?? 'file', mimeType: media.mimeType ?? 'application/octet-stream' };
      const method = uploadMethod(media.kind, file.mimeType);
      const tg = await ownBot(ctx);
      const m = await toChat(ctx, (chat_id) =>
        tg.sendUpload(method, {
          chat_id,
          ...(chunk.text ? { caption: chunk.text, parse_mode: 'HTML' as const } : {}),
          ...(replyTo && Number.isFinite(replyTo) ? { reply_parameters: { message_id: replyTo, allow_sending_without_reply: true } } : {}),
        }, file),
      );
      return { providerMessageId: String(m.message_id) };
    }
    if (media) {
      // One attachment per message; images as photos, anything else as a document. Telegram
      // fetches the URL itself.
      const isImage = media.kind === 'image' || media.kind === 'photo' || /\.(jpe?g|png|webp)(\?|$)/i.test(media.url);
      const tg = await ownBot(ctx);
      const m = await toChat(ctx, (chat_id) => {
        const params = { chat_id, url: media.url, ...(chunk.text ? { caption: chunk.text, parse_mode: 'HTML' as const } : {}) };
        return isImage ? tg.sendPhoto(params) : tg.sendDocument(params);
      });
      return { providerMessageId: String(m.message_id) };
    }
    const tg = await ownBot(ctx);
    const m = await toChat(ctx, (chat_id) =>
      tg.sendMessage({
        chat_id,
        text: chunk.text,
        parse_mode: 'HTML',
        ...(replyTo && Number.isFinite(replyTo) ? { reply_parameters: { message_id: replyTo, allow_sending_without_reply: true } } : {}),
      }),
    );
    return { providerMessageId: String(m.message_id) };
  },
  async typing(ctx) {
    const tg = await ownBot(ctx);
    await toChat(ctx, (chat_id) => tg.sendChatAction({ chat_id, action: 'typing' }));
  },
  // sendMessageDraft works in private chats only (group ids are negative).
  draft: {
    available: (conversationKey) => !conversationKey.startsWith('-'),
    async update(ctx, draftId, text) {
      await (await ownBot(ctx)).sendMessageDraft({ chat_id: Number(ctx.conversationKey), draft_id: draftId, text, parse_mode: 'HTML' });
    },
  },
};

export { api as telegramClientFor };

/** The send method of an attachment on its own: uploads by kind and type, URLs as photo or document. */
function methodOf(a: OutboundAttachment): UploadMethod {
  if (a.load) return uploadMethod(a.kind, a.mimeType ?? 'application/octet-stream');
  return a.kind === 'image' || a.kind === 'photo' || /\.(jpe?g|png|webp)(\?|$)/i.test(a.url) ? 'sendPhoto' : 'sendDocument';
}

const ALBUM_TYPE: Partial<Record<UploadMethod, AlbumItem['type']>> = { sendPhoto: 'photo', sendVideo: 'video', sendDocument: 'document', sendAudio: 'audio' };

function albumType(a: OutboundAttachment): AlbumItem['type'] {
  return ALBUM_TYPE[methodOf(a)] ?? 'document';
}

/** Which album an attachment may join; voice notes join none. */
function albumKey(a: OutboundAttachment): string | undefined {
  const t = ALBUM_TYPE[methodOf(a)];
  return t === 'photo' || t === 'video' ? 'visual' : t;
}

/** Photos must be JPEG/PNG/WebP/GIF-like images Telegram can re-encode; voice notes OGG/Opus (else they go as audio). */
export function uploadMethod(kind: string | undefined, mimeType: string): UploadMethod {
  if (kind === 'image' && /^image\/(jpeg|png|webp)$/.test(mimeType)) return 'sendPhoto';
  if (kind === 'voice' && /^audio\/ogg/.test(mimeType)) return 'sendVoice';
  if (kind === 'voice' || kind === 'audio') return 'sendAudio';
  if (kind === 'video' && mimeType === 'video/mp4') return 'sendVideo';
  return 'sendDocument';
}
