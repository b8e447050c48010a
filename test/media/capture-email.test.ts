/**
 * Email attachments captured end to end, on every store: a Resend inbound email's attachments
 * (metadata in the webhook, the bytes through the Attachments API's signed download_url) and a
 * Gmail message's attachments (users.messages.attachments.get) reach the agent as ready items
 * whose links serve the exact bytes (SHA-256), still after the provider dropped them.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { startFakeAgent, type Delivery, type FakeAgent } from '../inbound/fake-agent.js';
import { gmailKit, resendKit, send } from '../inbound/helpers.js';
import { storeKinds } from '../helpers/stores.js';
import { until } from '../outbound/helpers.js';
import { fetchBytes, PDF, PNG, sha, startMediaServer, type MediaServer } from './helpers.js';

for (const store of storeKinds()) {
  describe(`email attachments captured (${store})`, () => {
    let s: MediaServer;
    let agent: FakeAgent;
    let instanceId: string;
    let resend: Awaited<ReturnType<typeof resendKit>>;
    let gmail: Awaited<ReturnType<typeof gmailKit>>;

    before(async () => {
      agent = await startFakeAgent();
      s = await startMediaServer(store, 'fs', { env: { SWITCHBOARD_ALLOW_PRIVATE_URLS: 'true', SWITCHBOARD_MEDIA_MAX_BYTES: '100000' }, services: { captureScheduleMs: [50, 50] } });
      const inst = await s.api('POST', '/v1/instances', { name: 'mail media', agent_url: agent.url });
      instanceId = inst.body.id;
      agent.secret = inst.body.signing_secret;
      resend = await resendKit({ s, instanceId });
      gmail = await gmailKit({ s, instanceId });
    });
    after(async () => {
      await s.close();
      await Promise.all([agent.close(), resend.close(), gmail.close()]);
    });

    function firstDelivery(pred: (data: any) => boolean): Promise<Delivery> {
      return until(() => agent.deliveries.find((d) => d.body?.type === 'message.received' && pred(d.body.data)), 'the message.received delivery', 20_000);
    }

    test('Resend: each attachment is fetched through the Attachments API and its signed download_url', async () => {
      const { id, event } = resend.fake.receiveEmail({
        from: 'Ada <ada@example.com>', to: [resend.address], subject: 'receipts', text: 'two files', message_id: '<att1@example.com>',
        attachments: [{ filename: 'scan.png', content_type: 'image/png', bytes: PNG, content_disposition: 'inline', content_id: 'img1' }, { filename: 'invoice.pdf', content_type: 'application/pdf', bytes: PDF }],
      });
      const r = await send(resend.signEvent(event));
      assert.equal(r.status, 200, r.text);
      const d = await firstDelivery((data) => data.raw?.email_id === id);
      const items = d.body.data.attachments;
      assert.deepEqual(items.map((i: any) => [i.status, i.kind, i.mime_type, i.file_name, i.sha256]), [
        ['ready', 'image', 'image/png', 'scan.png', sha(PNG)],
        ['ready', 'document', 'application/pdf', 'invoice.pdf', sha(PDF)],
      ]);
      const lookups = resend.fake.requests.filter((q) => q.path.startsWith(`/emails/receiving/${id}/attachments/`));
      assert.equal(lookups.length, 2);
      assert.ok(lookups.every((q) => q.headers.authorization === `Bearer ${resend.fake.apiKey}`));
      const cdn = resend.fake.requests.filter((q) => q.path.startsWith('/cdn/'));
      assert.equal(cdn.length, 2);
      assert.ok(cdn.every((q) => q.headers.authorization === undefined), 'the API key is not sent to the download link');
      resend.fake.dropAttachments(id);
      assert.equal(sha((await fetchBytes(items[0].url)).body), sha(PNG));
      assert.equal(sha((await fetchBytes(items[1].url)).body), sha(PDF));
    });

    test('Resend: an attachment over the cap is too_large (from its declared size), nothing stored', async () => {
      const { id, event } = resend.fake.receiveEmail({ from: 'ada@example.com', to: [resend.address], subject: 'big', text: 'big one', message_id: '<att2@example.com>', attachments: [{ filename: 'big.bin', content_type: 'application/octet-stream', bytes: randomBytes(100_001) }] });
      assert.equal((await send(resend.signEvent(event))).status, 200);
      const d = await firstDelivery((data) => data.raw?.email_id === id);
      assert.equal(d.body.data.attachments[0].status, 'too_large');
      assert.equal(resend.fake.requests.filter((q) => q.path.startsWith(`/cdn/${id}/`)).length, 0, 'not downloaded at all');
    });

    test('Gmail: each attachment is fetched with messages.attachments.get and served after the message is deleted', async () => {
      const boundary = 'b-' + randomBytes(6).toString('hex');
      const b64 = (b: Buffer) => b.toString('base64').replace(/(.{76})/g, '$1\r\n');
      const rfc2822 = [
        `From: Ada <ada@example.com>`, `To: ${gmail.address}`, 'Subject: files', 'Message-ID: <gatt1@example.com>', 'MIME-Version: 1.0',
        `Content-Type: multipart/mixed; boundary="${boundary}"`, '', `--${boundary}`, 'Content-Type: text/plain; charset=utf-8', '', 'see the files', `--${boundary}`,
        'Content-Type: image/png; name="photo.png"', 'Content-Disposition: attachment; filename="photo.png"', 'Content-Transfer-Encoding: base64', '', b64(PNG), `--${boundary}`,
        'Content-Type: application/pdf; name="doc.pdf"', 'Content-Disposition: attachment; filename="doc.pdf"', 'Content-Transfer-Encoding: base64', '', b64(PDF), `--${boundary}`,
        // An inline image without a file name: Gmail gives its bytes in the part (body.data).
        'Content-Type: image/png', 'Content-ID: <logo@x>', 'Content-Transfer-Encoding: base64', '', b64(PNG), `--${boundary}--`, '',
      ].join('\r\n');
      const { id, historyId } = gmail.fake.addMessage({ rfc2822 });
      const data = Buffer.from(JSON.stringify({ emailAddress: gmail.address, historyId: Number(historyId) })).toString('base64');
      const push = JSON.stringify({ message: { data, messageId: `ps-att-${id}`, publishTime: new Date().toISOString() }, subscription: 'projects/p/subscriptions/s' });
      const r = await send(await gmail.signRaw(Buffer.from(push), 'application/json'));
      assert.equal(r.status, 200, r.text);
      const d = await firstDelivery((data) => data.raw?.message?.id === id);
      assert.equal(d.body.data.text, 'see the files');
      const items = d.body.data.attachments;
      assert.deepEqual(items.map((i: any) => [i.status, i.kind, i.mime_type, i.file_name, i.sha256]), [
        ['ready', 'image', 'image/png', 'photo.png', sha(PNG)],
        ['ready', 'document', 'application/pdf', 'doc.pdf', sha(PDF)],
        ['ready', 'image', 'image/png', 'attachment', sha(PNG)],
      ]);
      const gets = gmail.fake.requests.filter((q) => q.path.startsWith(`/gmail/v1/users/me/messages/${id}/attachments/`));
      assert.equal(gets.length, 2);
      assert.ok(gets.every((q) => String(q.headers.authorization).startsWith('Bearer ya29.')));
      gmail.fake.deleteMessage(id);
      assert.equal(sha((await fetchBytes(items[0].url)).body), sha(PNG));
      assert.equal(sha((await fetchBytes(items[1].url)).body), sha(PDF));
      assert.equal(sha((await fetchBytes(items[2].url)).body), sha(PNG));
    });
  });
}
