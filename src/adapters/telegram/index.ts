import { telegramIdentity } from './identity.js';
import { telegramMedia } from './media.js';
import { MB, type ProviderAdapter } from '../contract.js';
import { parseTelegram } from './parse.js';
import { telegramProvision } from './provision.js';
import { telegramOutbound } from './send.js';
import { verifyTelegram } from './verify.js';

/** Telegram's setWebhook secret_token alphabet. */
const SECRET_TOKEN = /^[A-Za-z0-9_-]{1,256}$/;

/** The inbound part on its own (adapter unit tests call it directly). */
export const telegramAdapter = { verify: verifyTelegram, parse: parseTelegram };

/**
 * Telegram Bot API. The channel's webhook secret is the `secret_token` given to setWebhook
 * (chosen by Switchboard unless given); conversationKey = chat id, providerEventId = update_id.
 */
export const telegram: ProviderAdapter = {
  name: 'telegram',
  displayName: 'Telegram',
  channelTypes: ['telegram'],
  secrets: { required: ['bot_token'], optional: [] },
  api: { defaultBaseUrl: 'https://api.telegram.org', env: 'SWITCHBOARD_TELEGRAM_API_URL' },
  // One attachment per message (sendPhoto/sendDocument); drafts via sendMessageDraft.
  capabilities: { format: 'telegram_html', maxTextLength: 4096, maxAttachments: 1, drafts: true, typing: true, edit: true, customerCareWindowHours: null },
  // Bot API uploads: photos 10 MB, other files 50 MB; an album holds up to 10.
  attachmentLimits: { maxCount: 10, perFile: (kind, mime) => (kind === 'image' && /^image\/(jpeg|png|webp)$/.test(mime) ? 10 * MB : 50 * MB) },
  identity: telegramIdentity,
  generatesWebhookSecret: true,
  validateChannel({ webhookSecret }) {
    return typeof webhookSecret === 'string' && !SECRET_TOKEN.test(webhookSecret)
      ? [{ field: 'webhook_secret', message: 'a Telegram secret_token is 1-256 characters of A-Z, a-z, 0-9, _ and -' }]
      : [];
  },
  inbound: telegramAdapter,
  outbound: telegramOutbound,
  media: telegramMedia,
  provision: telegramProvision,
};
