/** `npm run demo` completes a round trip on five channels against the local fakes. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';

test('the offline demo answers on Telegram, WhatsApp, SMS (Twilio and Vonage) and email', () => {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/demo.ts'], { encoding: 'utf8', timeout: 120_000 });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /webhook set on the fake: true/);
  assert.match(r.stdout, /parse_mode=HTML:\n\s+Hi! You wrote <i>"hello from Telegram"<\/i> on <b>telegram<\/b>\./);
  assert.match(r.stdout, /Hi! You wrote _"hello from WhatsApp"_ on \*whatsapp\*\./);
  assert.match(r.stdout, /Hi! You wrote "hello from SMS" on sms\./);
  assert.match(r.stdout, /Hi! You wrote "hello from Vonage" on sms\./);
  assert.match(r.stdout, /subject="Re: Question" In-Reply-To=<q1@example.com>/);
  assert.match(r.stdout, /Every answer went out once\./);
});
