/**
 * Telegram channels register themselves: `getMe` checks the token belongs to the bot named in
 * `external_identifier`, then `setWebhook` points the bot at the channel's URL with its
 * secret_token; `deleteWebhook` on disable/delete.
 */
import { ProvisionRefused, type ProvisionPart } from '../contract.js';
import { canonicalTelegramUsername } from './identity.js';
import { telegramClientFor } from './send.js';

export const telegramProvision: ProvisionPart = {
  async register(ctx) {
    const tg = telegramClientFor(ctx);
    const me = await tg.getMe();
    // The token proves which bot it is: a channel naming another bot must not re-point this one's webhook.
    const want = canonicalTelegramUsername(ctx.externalIdentifier);
    if (canonicalTelegramUsername(me.username ?? '') !== want) {
      throw new ProvisionRefused(`The bot token belongs to @${me.username ?? '?'}, not @${want}: fix external_identifier or the connection's bot_token.`);
    }
    await tg.setWebhook({ url: ctx.webhookUrl, ...(ctx.webhookSecret ? { secret_token: ctx.webhookSecret } : {}), allowed_updates: ['message', 'edited_message', 'callback_query'] });
    return undefined;
  },
  async deregister(ctx) {
    // Only the bot's own channel removes its webhook: another channel naming a different bot on
    // the same token (refused at provisioning) would otherwise cut the real one off.
    const tg = telegramClientFor(ctx);
    const me = await tg.getMe();
    if (canonicalTelegramUsername(me.username ?? '') !== canonicalTelegramUsername(ctx.externalIdentifier)) return;
    await tg.deleteWebhook();
  },
};
