/**
 * The Telegram kit for the provider contract suite (test/contract/): a bot channel whose updates
 * carry the channel's secret_token header, and (outbound) a bot on the fake Bot API.
 */
import { randomBytes } from 'node:crypto';
import { startFakeTelegram, type FakeTelegram } from '../../../fakes/telegram.js';
import { createChannel, createConnection, noop, type Kit, type KitContext, type OutboundKit } from '../../contract/kit.js';

/** The fake Bot API's one bot (getMe answers this username, so provisioning accepts it). */
const FAKE_BOT = 'switchboard_test_bot';

export async function telegramKit({ s, instanceId, tag = '' }: KitContext, opts: { fake?: FakeTelegram } = {}): Promise<Kit> {
  const secret = 'tg-secret_' + randomBytes(8).toString('hex');
  // With a fake, the channel has an account on it: provisioning (getMe, setWebhook) and sends go there.
  const conn = opts.fake ? await createConnection(s, instanceId, { provider: 'telegram', secrets: { bot_token: opts.fake.token }, settings: { api_base_url: opts.fake.url } }) : undefined;
  const ch = await createChannel(s, instanceId, {
    channel_type: 'telegram', provider: 'telegram', webhook_secret: secret,
    external_identifier: conn ? FAKE_BOT : `bot${tag}_${randomBytes(3).toString('hex')}`,
    ...(conn ? { connection_id: conn.id } : {}),
  });
  const update = (n: number, conv = 1) => JSON.stringify({ update_id: 100000 + n, message: { message_id: n, from: { id: 7000 + conv, is_bot: false, first_name: 'Ada' }, chat: { id: 7000 + conv, type: 'private' }, date: 1714560000 + n, text: `hello ${n}` } });
  const h = (sec?: string) => ({ 'content-type': 'application/json', ...(sec !== undefined ? { 'x-telegram-bot-api-secret-token': sec } : {}) });
  return {
    provider: 'telegram', channelId: ch.id, url: ch.webhook_url, format: 'json',
    valid: async (n, conv) => ({ url: ch.webhook_url, headers: h(secret), body: update(n, conv) }),
    badSignature: async (n) => ({ url: ch.webhook_url, headers: h(secret + 'x'), body: update(n) }),
    missingSignature: async (n) => ({ url: ch.webhook_url, headers: h(), body: update(n) }),
    staleSignature: async () => undefined, // Telegram's secret token carries no timestamp
    signRaw: async (body, ct) => ({ url: ch.webhook_url, headers: { 'content-type': ct, 'x-telegram-bot-api-secret-token': secret }, body }),
    close: noop,
  };
}

export async function telegramOutboundKit(c: KitContext): Promise<OutboundKit> {
  const fake = await startFakeTelegram();
  const kit = await telegramKit(c, { fake });
  return {
    ...kit,
    fake,
    sendPath: '/sendMessage',
    secretValues: [fake.token],
    delivered: (text) => fake.sentMessages().filter((m) => m.text.includes(text)).length,
    direct: {
      channelType: 'telegram', externalIdentifier: FAKE_BOT, secrets: { bot_token: fake.token }, settings: {}, config: {}, apiBaseUrl: fake.url,
      conversationKey: '7001', otherConversationKey: '7002',
      chunk: (text) => ({ text }),
      other: { secrets: { bot_token: '999:other-token' }, settings: {}, config: {}, externalIdentifier: 'another_bot' },
    },
    close: () => fake.close(),
  };
}
