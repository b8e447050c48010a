import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import twilio from 'twilio';
import { Webhook } from 'svix';
import Retell from 'retell-sdk';
import { startAllFakes } from '../../fakes/index.js';
import type { AllFakes } from '../../fakes/index.js';

interface Received {
  path: string;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

describe('fakes deliver signed webhooks the SDKs accept', () => {
  let fakes: AllFakes;
  let receiver: Server;
  let hookUrl: string;
  const got: Received[] = [];

  before(async () => {
    receiver = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        got.push({ path: req.url ?? '', headers: req.headers, body });
        res.end('ok');
      });
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
    hookUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
    fakes = await startAllFakes();
  });
  after(async () => {
    await fakes.close();
    receiver.closeAllConnections();
    await new Promise<void>((r) => receiver.close(() => r()));
  });

  it('Meta: X-Hub-Signature-256 over the raw body', async () => {
    const { payload, wamid } = fakes.graph.inboundText({ from: '+49 151 1234', text: 'hi' });
    assert.equal(await fakes.graph.deliverWebhook(`${hookUrl}/meta`, payload, 'app-secret'), 200);
    const r = got.at(-1)!;
    assert.equal(r.headers['x-hub-signature-256'], 'sha256=' + createHmac('sha256', 'app-secret').update(r.body).digest('hex'));
    assert.match(r.body, new RegExp(wamid.replace('.', '\\.')));
  });

  it('Twilio: X-Twilio-Signature validates with the SDK', async () => {
    const params = fakes.twilio.inboundSms({ from: '+14155550100', body: 'hello' });
    const url = `${hookUrl}/twilio?x=1`;
    assert.equal(await fakes.twilio.deliverWebhook(url, params), 200);
    const r = got.at(-1)!;
    const fields = Object.fromEntries(new URLSearchParams(r.body));
    assert.equal(twilio.validateRequest(fakes.twilio.authToken, String(r.headers['x-twilio-signature']), url, fields), true);
  });

  it('Resend: svix headers verify with the SDK; the event points at a fetchable email', async () => {
    const secret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
    const { id, event } = fakes.resend.receiveEmail({ from: 'ann@x.test', to: ['bot@sb.test'], subject: 'Hi', text: 'Hello' });
    assert.equal(await fakes.resend.deliverWebhook(`${hookUrl}/resend`, secret, event), 200);
    const r = got.at(-1)!;
    const verified = new Webhook(secret).verify(r.body, {
      'svix-id': String(r.headers['svix-id']), 'svix-timestamp': String(r.headers['svix-timestamp']), 'svix-signature': String(r.headers['svix-signature']),
    }) as { data: { email_id: string } };
    assert.equal(verified.data.email_id, id);
  });

  it('Retell: x-retell-signature verifies with the SDK', async () => {
    assert.equal(await fakes.retell.deliverWebhook(`${hookUrl}/retell`, 'call_ended', { call_id: 'call_9' }), 200);
    const r = got.at(-1)!;
    assert.equal(await Retell.verify(r.body, fakes.retell.apiKey, String(r.headers['x-retell-signature'])), true);
  });
});
