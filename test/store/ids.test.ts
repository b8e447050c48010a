import assert from 'node:assert/strict';
import { test } from 'node:test';
import { newId } from '../../src/store/ids.js';

test('newId: RFC 9562 version-7 UUIDs, unique, ordered by their millisecond', () => {
  const t = Date.UTC(2026, 10, 27, 1, 2, 3, 456);
  const id = newId(t);
  assert.match(id, /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  assert.equal(parseInt(id.slice(0, 8) + id.slice(9, 13), 16), t, 'the first 48 bits are the Unix time in ms');
  const ids = Array.from({ length: 5000 }, (_, i) => newId(t + Math.floor(i / 100)));
  assert.equal(new Set(ids).size, ids.length);
  for (let i = 100; i < ids.length; i += 100) assert.ok(ids[i - 1] < ids[i], 'a later millisecond sorts after');
});
