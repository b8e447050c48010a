/**
 * Registering channels with their providers, where the provider allows it:
 * - Telegram: `getMe` checks the token belongs to the bot named in `external_identifier`, then
 *   `setWebhook` with the channel's URL and secret_token; `deleteWebhook` on disable/delete.
 * - Twilio: the number's SMS webhook URL is pointed at the channel; a voice channel's number gets
 *   the voice route (`/v1/voice/twilio/{channel}`) as voice URL and status callback.
 * - Gmail: `users.watch` on `config.pubsub_topic`; its historyId is where reading starts. A watch
 *   lapses after 7 days: renewGmailWatches (run periodically by services) renews it a day ahead.
 * A failure never fails the API call: the channel goes to `status: "error"` with a plain
 * `error_message`, which the next successful provisioning or send clears.
 */
import type { Logger } from 'pino';
import { ProviderError } from '../adapters/shared/provider-error.js';
import { telegramClientFor } from '../adapters/telegram/send.js';
import { twilioApi } from '../adapters/twilio/api.js';
import { gmailApi } from '../adapters/gmail/api.js';
import { metaCloudApi } from '../adapters/meta_cloud/api.js';
import { metaPhoneNumberId } from '../adapters/meta_cloud/identity.js';
import { canonicalPhone } from '../adapters/shared/identity.js';
import { canonicalIdentity } from './channel-identity.js';
import type { SendContext } from '../adapters/types.js';
import type { ChannelRow } from '../store/repos/channels.js';
import type { Repos } from '../store/repos/index.js';
import type { ChannelsService } from './channels.js';
import type { SendContextFactory } from './outbound/context.js';
import { twilioVoiceUrl } from '../voice/urls.js';

/** Gmail watches are renewed when less than this is left (they last 7 days). */
const GMAIL_RENEW_AHEAD_MS = 24 * 3600 * 1000;

const PROVISIONED = new Set(['telegram', 'twilio', 'gmail', 'meta_cloud']);
const REQUIRED: Record<string, string[]> = { telegram: ['bot_token'], twilio: ['account_sid', 'auth_token'], gmail: ['client_id', 'client_secret', 'refresh_token'], meta_cloud: ['access_token'] };

export class Provisioner {
  constructor(
    private readonly repos: Repos,
    private readonly channels: ChannelsService,
    private readonly contexts: SendContextFactory,
    private readonly log: Logger,
  ) {}

  private async context(channel: ChannelRow): Promise<SendContext | undefined> {
    if (!PROVISIONED.has(channel.provider) || !(channel.connection_id ?? channel.credential_id)) return undefined;
    const ctx = await this.contexts.build(channel, '', `provision:${channel.id}`);
    return REQUIRED[channel.provider].every((k) => ctx.secrets[k]) ? ctx : undefined;
  }

  /** After create or enable. Returns the channel as it now is. */
  async provision(channel: ChannelRow): Promise<ChannelRow> {
    const ctx = await this.context(channel);
    if (!ctx) return channel;
    try {
      return await this.succeeded(channel, await this.register(channel, ctx));
    } catch (err) {
      return this.markError(channel, describe(channel.provider, err));
    }
  }

  /**
   * Renews the Gmail watch of every enabled channel whose watch ends within a day. The reading
   * cursor (`history_id`) is kept: replacing it with the watch's current historyId would skip
   * mail that arrived since the last push. A refused renewal puts the
   * channel in error, where the person running it sees it. Several nodes may run this; a renewal
   * twice over is harmless. Returns how many watches were renewed.
   */
  async renewGmailWatches(now = Date.now()): Promise<number> {
    let renewed = 0;
    for (const channel of await this.repos.channels.listEnabledByProvider('gmail')) {
      const config = JSON.parse(channel.config) as Record<string, unknown>;
      if (typeof config.pubsub_topic !== 'string') continue;
      // No expiration yet: the channel is being provisioned (or its provisioning failed, and
      // enabling it again retries): the first watch is provisioning's, not ours.
      const ends = Number(config.watch_expiration);
      if (!config.watch_expiration || !Number.isFinite(ends) || ends - now > GMAIL_RENEW_AHEAD_MS) continue;
      const ctx = await this.context(channel);
      if (!ctx) continue;
      try {
        const r = await this.gmail(ctx).watch({ topicName: config.pubsub_topic, labelIds: ['INBOX'] });
        // Re-read: a webhook may have moved history_id while the call was out.
        const fresh = await this.repos.channels.get(channel.id);
        if (!fresh) continue;
        const historyId = (JSON.parse(fresh.config) as Record<string, unknown>).history_id;
        await this.succeeded(fresh, { watch_expiration: r.expiration, history_id: historyId ?? r.historyId });
        renewed++;
      } catch (err) {
        await this.markError(channel, describe('gmail', err));
      }
    }
    return renewed;
  }

  /** Before delete or after disable: best effort, never blocks the operation. */
  async deprovision(channel: ChannelRow): Promise<void> {
    const ctx = await this.context(channel);
    if (!ctx) return;
    try {
      if (channel.provider === 'telegram') await telegramClientFor(ctx).deleteWebhook();
      if (channel.provider === 'gmail') await this.gmail(ctx).stop();
      // Twilio numbers keep their URLs: pointing them elsewhere is the customer's decision.
    } catch (err) {
      this.log.warn({ channel: channel.id, err: describe(channel.provider, err) }, 'provider clean-up failed');
    }
  }

  private async register(channel: ChannelRow, ctx: SendContext): Promise<Record<string, unknown> | undefined> {
    const url = this.channels.webhookUrl(channel.id);
    if (channel.provider === 'telegram') {
      const tg = telegramClientFor(ctx);
      const me = await tg.getMe();
      // The token proves which bot it is: a channel naming another bot must not re-point this one's webhook.
      const want = canonicalIdentity('telegram', channel.external_identifier);
      if (canonicalIdentity('telegram', me.username ?? '') !== want) {
        throw new IdentityMismatch(`The bot token belongs to @${me.username ?? '?'}, not @${want}: fix external_identifier or the connection's bot_token.`);
      }
      const secret = this.channels.webhookSecret(channel);
      await tg.setWebhook({ url, ...(secret ? { secret_token: secret } : {}), allowed_updates: ['message', 'edited_message', 'callback_query'] });
      return undefined;
    }
    if (channel.provider === 'twilio') {
      const api = twilioApi({ accountSid: ctx.secrets.account_sid, authToken: ctx.secrets.auth_token, baseUrl: ctx.apiBaseUrl, fetch: ctx.fetch, timeoutMs: ctx.timeoutMs });
      const number = canonicalPhone(channel.external_identifier) ?? channel.external_identifier.trim().replace(/^whatsapp:/, '');
      if (channel.channel_type === 'whatsapp') return undefined; // WhatsApp senders are configured in Twilio's console
      // The account's own numbers prove which it holds: a channel naming another's is left in error.
      const found = await api.findIncomingNumber(number);
      if (!found) throw new IdentityMismatch(`${number} is not a phone number of this Twilio account.`);
      if (channel.channel_type === 'voice') {
        // Calls go to the voice routes (TwiML), hang-ups too (status callback).
        const voiceUrl = twilioVoiceUrl(url.slice(0, url.lastIndexOf('/v1/webhooks/')), channel.id);
        await api.updateIncomingNumber({ phoneNumberSid: found.sid, voiceUrl, statusCallback: voiceUrl });
      } else {
        await api.updateIncomingNumber({ phoneNumberSid: found.sid, smsUrl: url });
      }
      return undefined;
    }
    if (channel.provider === 'meta_cloud') {
      // With the account's WhatsApp Business Account id (settings.waba_id), its numbers prove
      // which phone_number_id the token may send from; without one there is nothing to check.
      const waba = typeof ctx.settings.waba_id === 'string' ? ctx.settings.waba_id : undefined;
      if (!waba) return undefined;
      const numberId = metaPhoneNumberId(ctx.config, channel.external_identifier);
      const held = await metaCloudApi({ accessToken: ctx.secrets.access_token, baseUrl: ctx.apiBaseUrl, fetch: ctx.fetch, timeoutMs: ctx.timeoutMs }).listPhoneNumbers(waba);
      if (!held.some((n) => n.id === numberId)) throw new IdentityMismatch(`Phone number id ${numberId} is not a number of WhatsApp Business Account ${waba}: fix config.phone_number_id or the account's waba_id.`);
      return undefined;
    }
    if (channel.provider === 'gmail') {
      const topic = (JSON.parse(channel.config) as Record<string, unknown>).pubsub_topic;
      if (typeof topic !== 'string') return undefined;
      const r = await this.gmail(ctx).watch({ topicName: topic, labelIds: ['INBOX'] });
      return { history_id: r.historyId, watch_expiration: r.expiration };
    }
    return undefined;
  }

  private gmail(ctx: SendContext) {
    return gmailApi({
      clientId: ctx.secrets.client_id,
      clientSecret: ctx.secrets.client_secret,
      refreshToken: ctx.secrets.refresh_token,
      ...(typeof ctx.settings.oauth_token_url === 'string' ? { tokenUrl: ctx.settings.oauth_token_url } : {}),
      baseUrl: ctx.apiBaseUrl,
      fetch: ctx.fetch,
      timeoutMs: ctx.timeoutMs,
    });
  }

  /** Records a successful provider call: clears what an earlier failure left, merges `configPatch`. */
  private async succeeded(channel: ChannelRow, configPatch: Record<string, unknown> | undefined): Promise<ChannelRow> {
    const patch: Partial<ChannelRow> = { updated_at: new Date().toISOString() };
    if (channel.status === 'error') patch.status = 'pending';
    if (channel.error_message) patch.error_message = null;
    if (configPatch) patch.config = JSON.stringify({ ...(JSON.parse(channel.config) as object), ...configPatch });
    await this.repos.channels.update(channel.id, patch);
    return { ...channel, ...patch };
  }

  private async markError(channel: ChannelRow, message: string): Promise<ChannelRow> {
    const patch = { status: 'error', error_message: message, updated_at: new Date().toISOString() };
    await this.repos.channels.update(channel.id, patch);
    return { ...channel, ...patch };
  }
}

class IdentityMismatch extends Error {}

const NAMES: Record<string, string> = { telegram: 'Telegram', twilio: 'Twilio', gmail: 'Gmail', meta_cloud: 'WhatsApp' };

function describe(provider: string, err: unknown): string {
  if (err instanceof IdentityMismatch) return err.message;
  if (err instanceof ProviderError) {
    if (err.kind === 'auth') return `${NAMES[provider]} refused the credentials (${err.code}): ${err.message}`;
    return `${NAMES[provider]} setup failed (${err.code}): ${err.message}`;
  }
  return `${NAMES[provider] ?? provider} setup failed: ${(err as Error).message}`;
}
