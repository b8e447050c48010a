/**
 * Provisioning from real provider calls: Telegram getMe + setWebhook with the channel's secret on
 * create and enable, deleteWebhook on disable and delete, identity checked; Twilio number URLs;
 * Gmail watch on create, renewed before it lapses (history cursor kept), a refused renewal in error.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startFakeTelegram, type FakeTelegram } from '../../fakes/telegram.js';
import { startFakeTwilio, type FakeTwilio } from '../../fakes/twilio.js';
import { startFakeGmail, type FakeGmail } from '../../fakes/gmail.js';
import { clearGmailTokenCache } from '../../src/adapters/gmail/api.js';
import { startServer, type TestServer } from '../helpers/server.js';
import { storeKinds } from '../helpers/stores.js';

for (const kind of storeKinds()) {
  describe(`provisioning on ${kind}`, () => {
    let s: TestServer;
    let tg: FakeTelegram;
    let tw: FakeTwilio;
    let gm: FakeGmail;
    let instanceId: string;
    let tgConn: string;

    before(async () => {
      tg = await startFakeTelegram();
      tw = await startFakeTwilio();
      gm = await startFakeGmail();
      s = await startServer(kind, { env: { SWITCHBOARD_ALLOW_PRIVATE_URLS: 'true', SWITCHBOARD_TELEGRAM_API_URL: tg.url, SWITCHBOARD_TWILIO_API_URL: tw.url, SWITCHBOARD_GMAIL_WATCH_CHECK_MS: '100' } });
      instanceId = (await s.api('POST', '/v1/instances', { name: 'prov' })).body.id;
      tgConn = (await s.api('POST', `/v1/instances/${instanceId}/connections`, { provider: 'telegram', secrets: { bot_token: tg.token } })).body.id;
    });
    after(async () => {
      await s.close();
      await tg.close();
      await tw.close();
      await gm.close();
    });

    test('a Telegram bot whose token belongs to another bot is refused with a plain error', async () => {
      const r = await s.api('POST', `/v1/instances/${instanceId}/channels`, { channel_type: 'telegram', provider: 'telegram', external_identifier: '@someone_else_bot', connection_id: tgConn });
      assert.equal(r.status, 201);
      assert.equal(r.body.status, 'error');
      assert.equal(r.body.error_message, 'The bot token belongs to @switchboard_test_bot, not @someone_else_bot: fix external_identifier or the connection\'s bot_token.');
      assert.equal(tg.webhook(), undefined, 'no webhook set for a mismatched bot');
      await s.api('DELETE', `/v1/instances/${instanceId}/channels/${r.body.id}`);
    });

    test('create sets the webhook with the secret token; disable deletes it; enable sets it again', async () => {
      const c = await s.api('POST', `/v1/instances/${instanceId}/channels`, { channel_type: 'telegram', provider: 'telegram', external_identifier: 'Switchboard_Test_Bot', connection_id: tgConn, webhook_secret: 'prov_secret-1' });
      assert.equal(c.status, 201);
      assert.equal(c.body.status, 'pending');
      assert.equal(c.body.error_message, null);
      const hook = tg.webhook();
      assert.equal(hook?.url, c.body.webhook_url);
      assert.equal(hook?.secret_token, 'prov_secret-1');
      // The fake now delivers updates to us exactly as Telegram would, and they verify.
      assert.equal(await tg.deliverUpdate({ update_id: 1, message: { message_id: 1, date: 1, chat: { id: 5, type: 'private' }, text: 'hi' } }), 200);

      await s.api('PATCH', `/v1/instances/${instanceId}/channels/${c.body.id}`, { enabled: false });
      assert.equal(tg.webhook(), undefined);
      const on = await s.api('PATCH', `/v1/instances/${instanceId}/channels/${c.body.id}`, { enabled: true });
      assert.equal(on.body.status, 'pending');
      assert.equal(tg.webhook()?.url, c.body.webhook_url);
      await s.api('DELETE', `/v1/instances/${instanceId}/channels/${c.body.id}`);
      assert.equal(tg.webhook(), undefined);
    });

    test('a revoked token at provisioning time puts the channel in error', async () => {
      tg.failNext({ status: 401, match: 'getMe' });
      const c = await s.api('POST', `/v1/instances/${instanceId}/channels`, { channel_type: 'telegram', provider: 'telegram', external_identifier: 'switchboard_test_bot', connection_id: tgConn });
      assert.equal(c.body.status, 'error');
      assert.match(c.body.error_message, /^Telegram refused the credentials \(401\)/);
      // Re-enabling retries provisioning and clears the error.
      await s.api('PATCH', `/v1/instances/${instanceId}/channels/${c.body.id}`, { enabled: false });
      const on = await s.api('PATCH', `/v1/instances/${instanceId}/channels/${c.body.id}`, { enabled: true });
      assert.equal(on.body.status, 'pending');
      assert.equal(on.body.error_message, null);
      await s.api('DELETE', `/v1/instances/${instanceId}/channels/${c.body.id}`);
    });

    test("a Twilio SMS number's webhook URL is pointed at the channel", async () => {
      const conn = await s.api('POST', `/v1/instances/${instanceId}/connections`, { provider: 'twilio', secrets: { account_sid: tw.accountSid, auth_token: tw.authToken } });
      const c = await s.api('POST', `/v1/instances/${instanceId}/channels`, { channel_type: 'sms', provider: 'twilio', external_identifier: tw.phoneNumber, connection_id: conn.body.id });
      assert.equal(c.body.status, 'pending', JSON.stringify(c.body));
      const num = tw.incomingNumbers().find((n) => n.phone_number === tw.phoneNumber);
      assert.equal(num?.sms_url, c.body.webhook_url);
      const missing = await s.api('POST', `/v1/instances/${instanceId}/channels`, { channel_type: 'sms', provider: 'twilio', external_identifier: '+15550009999', connection_id: conn.body.id });
      assert.equal(missing.body.status, 'error');
      assert.match(missing.body.error_message, /not a phone number of this Twilio account/);
    });

    test('Gmail: watch on create; renewed a day before it lapses, keeping the history cursor; a refused renewal is an error', async () => {
      clearGmailTokenCache();
      const conn = await s.api('POST', `/v1/instances/${instanceId}/connections`, {
        provider: 'gmail',
        secrets: { client_id: gm.credentials.clientId, client_secret: gm.credentials.clientSecret, refresh_token: gm.credentials.refreshToken },
        settings: { api_base_url: gm.url, oauth_token_url: gm.tokenUrl },
      });
      assert.equal(conn.status, 201, JSON.stringify(conn.body));
      const topic = 'projects/p/topics/switchboard';
      const c = await s.api('POST', `/v1/instances/${instanceId}/channels`, { channel_type: 'email', provider: 'gmail', external_identifier: gm.emailAddress, connection_id: conn.body.id, config: { pubsub_topic: topic } });
      assert.equal(c.status, 201, JSON.stringify(c.body));
      assert.equal(c.body.status, 'pending', JSON.stringify(c.body));
      const watches = () => gm.requests.filter((r) => r.method === 'POST' && r.path.endsWith('/watch')).length;
      assert.equal(watches(), 1);
      assert.equal(gm.watchState()?.topicName, topic);
      const first = c.body.config as { history_id: string; watch_expiration: string };
      assert.ok(Number(first.watch_expiration) > Date.now() + 6 * 24 * 3600_000);
      const config = async () => (await s.api('GET', `/v1/instances/${instanceId}/channels`)).body.channels.find((x: any) => x.id === c.body.id);
      const provisioner = s.services.provisioner as unknown as { renewDue(now?: number): Promise<number> };

      // Six days on: not due yet. Six and a half: due, renewed; the reading cursor is kept even
      // though the mailbox moved on (replacing it would skip the mail in between).
      assert.equal(await provisioner.renewDue(Date.now() + 5 * 24 * 3600_000), 0);
      assert.equal(watches(), 1);
      gm.addMessage({ rfc2822: `From: a@example.com\r\nTo: ${gm.emailAddress}\r\nSubject: hi\r\n\r\nhello` });
      assert.equal(await provisioner.renewDue(Date.now() + 6.5 * 24 * 3600_000), 1);
      assert.equal(watches(), 2);
      const after = (await config()).config;
      assert.equal(after.history_id, first.history_id, 'history cursor kept');
      assert.equal(after.pubsub_topic, topic);

      // The periodic check (every 100 ms here) renews a watch that is about to lapse by itself.
      const soon = String(Date.now() + 60_000);
      assert.equal((await s.api('PATCH', `/v1/instances/${instanceId}/channels/${c.body.id}`, { config: { ...after, watch_expiration: soon } })).status, 200);
      const end = Date.now() + 5_000;
      while (Date.now() < end && (await config()).config.watch_expiration === soon) await new Promise((r) => setTimeout(r, 50));
      assert.ok(Number((await config()).config.watch_expiration) > Date.now() + 6 * 24 * 3600_000, 'renewed by the periodic check');

      // A revoked grant: the renewal fails and the channel says why.
      gm.revokeRefreshToken(gm.credentials.refreshToken);
      clearGmailTokenCache();
      assert.equal(await provisioner.renewDue(Date.now() + 6.9 * 24 * 3600_000), 0);
      const broken = await config();
      assert.equal(broken.status, 'error');
      assert.match(broken.error_message, /^Gmail refused the credentials/);
      await s.api('DELETE', `/v1/instances/${instanceId}/channels/${c.body.id}`);
    });
  });
}
