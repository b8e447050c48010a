import { test } from 'node:test';
import assert from 'node:assert/strict';
import { measure, renderFor, renderTelegramHtml, splitMessage } from '../../src/render/index.js';
import { telegramProblems, visibleText } from './telegram-check.js';

const plain = (text: string, limit: number): string[] => splitMessage(text, { limit, format: 'plain' });

test('short text is one chunk, blank text is none', () => {
  assert.deepEqual(plain('hello', 10), ['hello']);
  assert.deepEqual(plain('  hello \n', 10), ['hello']);
  assert.deepEqual(plain(' \n\n ', 10), []);
});

test('prefers paragraph, then line, sentence, word, then a hard cut', () => {
  assert.deepEqual(plain('First para. Still.\n\nSecond para.', 25), ['First para. Still.', 'Second para.']);
  assert.deepEqual(plain('line one\nline two is longer', 20), ['line one', 'line two is longer']);
  assert.deepEqual(plain('One sentence here. Two sentence here.', 25), ['One sentence here.', 'Two sentence here.']);
  assert.deepEqual(plain('alpha beta gamma delta', 12), ['alpha beta', 'gamma delta']);
  assert.deepEqual(plain('abcdefghij', 4), ['abcd', 'efgh', 'ij']);
});

test('keeps the indentation of the line a chunk starts with', () => {
  assert.deepEqual(plain('- a\n  - nested item', 14), ['- a', '  - nested', 'item']);
});

test('never splits a surrogate pair', () => {
  const chunks = plain('😀😀😀', 3);
  assert.deepEqual(chunks, ['😀', '😀', '😀']);
  assert.deepEqual(plain('a😀b', 2), ['a', '😀', 'b']);
});

test('numbering appends (i/n) inside the limit', () => {
  const text = Array.from({ length: 12 }, (_, i) => `Sentence number ${i}.`).join(' ');
  const chunks = splitMessage(text, { limit: 40, format: 'plain', numbering: true });
  assert.ok(chunks.length > 1);
  chunks.forEach((c, i) => {
    assert.ok(c.length <= 40, c);
    assert.ok(c.endsWith(` (${i + 1}/${chunks.length})`), c);
  });
  assert.deepEqual(splitMessage('short', { limit: 40, format: 'plain', numbering: true }), ['short']);
});

test('numbering grows the marker when the count gains a digit', () => {
  const text = 'word '.repeat(60).trim();
  const chunks = splitMessage(text, { limit: 12, format: 'plain', numbering: true });
  assert.ok(chunks.length >= 10);
  assert.ok(chunks.every((c) => c.length <= 12), JSON.stringify(chunks));
});

test('rejects a limit too small to hold any character', () => {
  assert.throws(() => plain('abc', 1), RangeError);
});

test('telegram: counts visible text, not tags or entities', () => {
  const html = '<b>' + '&amp;'.repeat(10) + '</b>';
  assert.equal(measure('telegram_html', html), 10);
  assert.deepEqual(splitMessage(html, { limit: 10, format: 'telegram_html' }), [html]);
});

test('telegram: re-closes and re-opens tags across chunks', () => {
  const html = renderTelegramHtml('**bold words _and italic_ here**');
  const chunks = splitMessage(html, { limit: 12, format: 'telegram_html' });
  assert.deepEqual(chunks, ['<b>bold words</b>', '<b><i>and italic</i></b>', '<b>here</b>']);
});

test('telegram: never cuts inside an entity', () => {
  const chunks = splitMessage('&lt;&gt;&amp;&lt;&gt;&amp;', { limit: 4, format: 'telegram_html' });
  assert.deepEqual(chunks, ['&lt;&gt;&amp;&lt;', '&gt;&amp;']);
});

test('telegram: a split pre block is closed and re-opened with its language', () => {
  const md = '```py\n' + Array.from({ length: 8 }, (_, i) => `x${i} = ${i} < 9`).join('\n') + '\n```';
  const chunks = splitMessage(renderTelegramHtml(md), { limit: 40, format: 'telegram_html' });
  assert.ok(chunks.length > 1);
  for (const c of chunks) {
    assert.match(c, /^<pre><code class="language-py">[\s\S]*<\/code><\/pre>$/);
    assert.deepEqual(telegramProblems(c), []);
    assert.ok(visibleText(c).length <= 40);
  }
});

test('telegram: link split keeps its href on both sides', () => {
  const chunks = splitMessage('<a href="https://x.dev">one two three</a>', { limit: 8, format: 'telegram_html' });
  assert.deepEqual(chunks, ['<a href="https://x.dev">one two</a>', '<a href="https://x.dev">three</a>']);
});

test('whatsapp: a cut code block is closed and re-opened', () => {
  const text = '```' + 'line of code\n'.repeat(6).trimEnd() + '```';
  const chunks = splitMessage(text, { limit: 40, format: 'whatsapp' });
  assert.ok(chunks.length > 1);
  for (const c of chunks) {
    assert.ok(c.length <= 40);
    assert.ok(c.startsWith('```') && c.endsWith('```'), c);
  }
});

test('markdown: a cut fence is re-opened with its info string', () => {
  const text = 'Intro.\n\n```ts\n' + 'const a = 1;\n'.repeat(6) + '```\n\nOutro.';
  const chunks = splitMessage(text, { limit: 50, format: 'markdown' });
  for (const c of chunks) {
    assert.ok(c.length <= 50, c);
    assert.equal((c.match(/```/g) ?? []).length % 2, 0, c);
  }
  assert.ok(chunks.some((c) => c.startsWith('```ts\n')));
});

test('renderFor: defaults, SMS info and email html', () => {
  assert.deepEqual(renderFor('telegram_html', '**hi**'), { chunks: ['<b>hi</b>'] });
  const sms = renderFor('plain', '“Hi” — see [docs](https://x.dev)…');
  assert.deepEqual(sms.chunks, ['"Hi" - see docs (https://x.dev)...']);
  assert.equal(sms.sms?.[0].encoding, 'GSM-7');
  assert.equal(sms.sms?.[0].segments, 1);
  const email = renderFor('email', 'Hi **there**');
  assert.deepEqual(email.chunks, ['Hi there']);
  assert.match(email.html ?? '', /<strong>there<\/strong>/);
  const long = renderFor('whatsapp', 'word '.repeat(2000), { limit: 4096, numbering: true });
  assert.equal(long.chunks.length, 3);
  assert.ok(long.chunks.every((c) => c.length <= 4096));
  const voice = renderFor('speech', 'Hello **there**. How are you?');
  assert.deepEqual(voice.chunks, ['Hello there.', 'How are you?']);
});
