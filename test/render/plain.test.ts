import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isGsm7, renderPlain } from '../../src/render/index.js';

test('no markup survives', () => {
  assert.equal(renderPlain('# Title\n\n**bold _it_** ~~x~~ `code` ||s||'), 'Title\n\nbold it x code s');
  assert.equal(renderPlain('```\na < b & c\n```'), 'a < b & c');
});

test('links as "text (url)" or the bare url when text is the url', () => {
  assert.equal(renderPlain('[docs](https://x.dev)'), 'docs (https://x.dev)');
  assert.equal(renderPlain('<https://x.dev>'), 'https://x.dev');
  assert.equal(renderPlain('mail [me](mailto:a@b.c) or a@b.c'), 'mail me (mailto:a@b.c) or a@b.c');
});

test('lists as lines, in GSM-7 so SMS stays cheap', () => {
  const out = renderPlain('- a\n- b\n  1. c\n\n---\n\n| k | v |\n|---|---|\n| x | 1 |');
  assert.equal(out, '- a\n- b\n  1. c\n\n---\n\nk | v\n--+--\nx | 1');
  assert.ok(isGsm7(out));
});
