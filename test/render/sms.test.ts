import { test } from 'node:test';
import assert from 'node:assert/strict';
import { smsSegments, toGsm7Friendly } from '../../src/render/index.js';

const seg = (s: string): [string, number, number] => {
  const r = smsSegments(s);
  return [r.encoding, r.segments, r.perSegment];
};

test('GSM-7 boundaries: 160 / 161 / 306 / 307', () => {
  assert.deepEqual(seg('a'.repeat(160)), ['GSM-7', 1, 160]);
  assert.deepEqual(seg('a'.repeat(161)), ['GSM-7', 2, 153]);
  assert.deepEqual(seg('a'.repeat(306)), ['GSM-7', 2, 153]);
  assert.deepEqual(seg('a'.repeat(307)), ['GSM-7', 3, 153]);
  assert.deepEqual(seg(''), ['GSM-7', 0, 160]);
});

test('GSM-7 basic-set accents and Greek stay GSM-7', () => {
  assert.equal(smsSegments('Ça coûte 5€? Δ ß ñ é @ £').encoding, 'UCS-2'); // û is not GSM
  assert.equal(smsSegments('Ça coute 5€? Δ ß ñ é @ £ ¿¡').encoding, 'GSM-7');
});

test('extension characters cost two septets', () => {
  const r = smsSegments('€'.repeat(80));
  assert.equal(r.units, 160);
  assert.equal(r.characters, 80);
  assert.equal(r.segments, 1);
  assert.equal(smsSegments('€'.repeat(81)).segments, 2);
  assert.equal(smsSegments('a'.repeat(159) + '{').segments, 2);
});

test('an escape pair is never split across parts', () => {
  // 152 basic + one extension char: the pair would straddle septets 153/154, so it moves.
  const r = smsSegments('a'.repeat(152) + '^' + 'a'.repeat(10));
  assert.equal(r.units, 164);
  assert.equal(r.segments, 2);
  // 306 septets fill two parts of 153 exactly, unless a pair straddles the boundary.
  assert.equal(smsSegments('a'.repeat(151) + '^' + 'a'.repeat(152)).segments, 2);
  assert.equal(smsSegments('a'.repeat(152) + '^' + 'a'.repeat(152)).segments, 3);
});

test('UCS-2 boundaries: 70 / 71 / 134 / 135', () => {
  assert.deepEqual(seg('й'.repeat(70)), ['UCS-2', 1, 70]);
  assert.deepEqual(seg('й'.repeat(71)), ['UCS-2', 2, 67]);
  assert.deepEqual(seg('й'.repeat(134)), ['UCS-2', 2, 67]);
  assert.deepEqual(seg('й'.repeat(135)), ['UCS-2', 3, 67]);
});

test('emoji count as two UTF-16 units and a surrogate pair is never split', () => {
  const r = smsSegments('😀'.repeat(35));
  assert.deepEqual([r.encoding, r.units, r.characters, r.segments], ['UCS-2', 70, 35, 1]);
  assert.equal(smsSegments('😀'.repeat(36)).segments, 2);
  // 66 units + an emoji: the pair cannot use the 67th unit, so it opens part two.
  assert.equal(smsSegments('a'.repeat(66) + '😀' + 'b'.repeat(67)).segments, 3);
  assert.equal(smsSegments('a'.repeat(65) + '😀' + 'b'.repeat(67)).segments, 2);
});

test('toGsm7Friendly replaces typographic punctuation', () => {
  const agent = '“Great” — it’s ready… ‘ok’ – 50\u00a0km • done';
  const fixed = toGsm7Friendly(agent);
  assert.equal(fixed, '"Great" - it\'s ready... \'ok\' - 50 km - done');
  assert.equal(smsSegments(agent).encoding, 'UCS-2');
  assert.equal(smsSegments(fixed).encoding, 'GSM-7');
  assert.equal(toGsm7Friendly('Привет 😀'), 'Привет 😀');
});
