import { telegramIdentity } from './identity.js';
import type { InboundAdapter } from '../types.js';
import { parseTelegram } from './parse.js';
import { verifyTelegram } from './verify.js';

/**
 * Telegram Bot API webhooks. The channel's webhook secret is the `secret_token` given to
 * setWebhook; conversationKey = chat id, providerEventId = update_id.
 */
export const telegramAdapter: InboundAdapter = {
  provider: 'telegram',
  identity: telegramIdentity,
  channelTypes: ['telegram'],
  secretNames: ['bot_token'],
  verify: verifyTelegram,
  parse: parseTelegram,
};
