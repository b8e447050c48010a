import { test } from 'node:test';
import assert from 'node:assert/strict';
import { renderWhatsApp } from '../../src/render/index.js';

test('emphasis maps to WhatsApp markers, nested and whitespace-safe', () => {
  assert.equal(renderWhatsApp('**bold** _it_ ~~gone~~'), '*bold* _it_ ~gone~');
  assert.equal(renderWhatsApp('**bold _both_**'), '*bold _both_*');
  // Markers must hug the text for WhatsApp to honour them.
  assert.equal(renderWhatsApp('a** b **c'), 'a** b **c');
  assert.equal(renderWhatsApp('**b** and *i*'), '*b* and _i_');
});

test('inline code and code blocks', () => {
  assert.equal(renderWhatsApp('run `npm test`'), 'run `npm test`');
  assert.equal(renderWhatsApp('```js\nconst a = 1 < 2 && 3;\n```'), '```const a = 1 < 2 && 3;```');
});

test('no HTML escaping: <, > and & are literal on WhatsApp', () => {
  assert.equal(renderWhatsApp('a < b & c > d'), 'a < b & c > d');
  assert.equal(renderWhatsApp('AT&amp;T'), 'AT&T');
});

test('links as "text (url)", or the bare url', () => {
  assert.equal(renderWhatsApp('[docs](https://x.dev)'), 'docs (https://x.dev)');
  assert.equal(renderWhatsApp('see https://x.dev'), 'see https://x.dev');
  assert.equal(renderWhatsApp('![chart](https://x.dev/c.png)'), 'chart (https://x.dev/c.png)');
});

test('headings bold, lists with "- " and "1. "', () => {
  assert.equal(renderWhatsApp('# Title\n\n- a\n- b\n\n1. x\n2. y'), '*Title*\n\n- a\n- b\n\n1. x\n2. y');
  assert.equal(renderWhatsApp('## **Already** bold'), '*Already bold*');
});

test('quotes use "> "', () => {
  assert.equal(renderWhatsApp('> one\n> two'), '> one\n> two');
});
