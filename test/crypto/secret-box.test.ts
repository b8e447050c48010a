import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { SecretBox } from '../../src/crypto/secret-box.js';

test('a remembered decryption never makes a wrong AAD, another key or a tampered ciphertext pass', () => {
  const box = SecretBox.fromKey(randomBytes(32));
  const sealed = box.encrypt('s3cret', 'channel:a:webhook_secret');
  assert.equal(box.decrypt(sealed, 'channel:a:webhook_secret'), 's3cret');
  assert.equal(box.decrypt(sealed, 'channel:a:webhook_secret'), 's3cret'); // from the memo
  // The same ciphertext moved to another row still fails, even though it was just decrypted.
  assert.throws(() => box.decrypt(sealed, 'channel:b:webhook_secret'));
  const parts = sealed.split(':');
  parts[3] = Buffer.from('t4mper').toString('base64');
  assert.throws(() => box.decrypt(parts.join(':'), 'channel:a:webhook_secret'));
  assert.throws(() => SecretBox.fromKey(randomBytes(32)).decrypt(sealed, 'channel:a:webhook_secret'));
});

test('the memo is bounded and keeps answering correctly past its size', () => {
  const box = SecretBox.fromKey(randomBytes(32));
  const sealed = Array.from({ length: 10_050 }, (_, i) => box.encrypt(`v${i}`, `k${i}`));
  sealed.forEach((s, i) => assert.equal(box.decrypt(s, `k${i}`), `v${i}`));
  assert.equal(box.decrypt(sealed[0], 'k0'), 'v0'); // evicted, decrypted again
  assert.ok((box as unknown as { memo: Map<string, string> }).memo.size <= 10_000);
});
