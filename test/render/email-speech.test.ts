import { test } from 'node:test';
import assert from 'node:assert/strict';
import { renderEmail, renderSpeech, speechChunks, spokenUrl } from '../../src/render/index.js';

test('email: a complete document with escaped content', () => {
  const { html, text } = renderEmail('# Hi <there>\n\nA & B `<x>`\n\n<script>alert(1)</script>');
  assert.match(html, /^<!DOCTYPE html>\n<html>/);
  assert.match(html, /<meta charset="utf-8">/);
  assert.match(html, /<\/body>\n<\/html>\n$/);
  assert.match(html, /<h1[^>]*>Hi &lt;there&gt;<\/h1>/);
  assert.match(html, /A &amp; B <code[^>]*>&lt;x&gt;<\/code>/);
  assert.doesNotMatch(html, /<script/);
  assert.equal(text, 'Hi <there>\n\nA & B <x>\n\n<script>alert(1)</script>');
});

test('email: only http, https and mailto links; attributes escaped', () => {
  const { html } = renderEmail('[a](https://x.dev/?q="1"&r=2) [b](mailto:a@b.c) [c](javascript:alert(1)) [d](ftp://x)');
  assert.match(html, /<a href="https:\/\/x\.dev\/\?q=&quot;1&quot;&amp;r=2" target="_blank" rel="noopener noreferrer">a<\/a>/);
  assert.match(html, /<a href="mailto:a@b\.c"[^>]*>b<\/a>/);
  assert.doesNotMatch(html, /javascript|ftp:/);
  assert.match(html, / c d<\/p>/);
});

test('email: lists, code blocks, tables, no <style> or classes', () => {
  const { html } = renderEmail('1. a\n2. b\n\n```js\nx<1\n```\n\n| h |\n|---|\n| v |');
  assert.match(html, /<ol[^>]*><li>a<\/li><li>b<\/li><\/ol>/);
  assert.match(html, /<pre[^>]*><code>x&lt;1<\/code><\/pre>/);
  assert.match(html, /<th[^>]*>h<\/th>/);
  assert.doesNotMatch(html, /<style|class=/);
});

test('speech: no markup, links read as text, bare urls as domain', () => {
  assert.equal(renderSpeech('**Hello** _there_ ~~x~~'), 'Hello there x');
  assert.equal(renderSpeech('Read [the docs](https://x.dev/a) or https://www.example.com/path?q=1'), 'Read the docs or example.com');
  assert.equal(spokenUrl('https://user@sub.example.org:8080/x'), 'sub.example.org');
});

test('speech: lists become sentences, headings end with a stop', () => {
  assert.equal(renderSpeech('# Plan\n\n- buy milk\n- call Bob!'), 'Plan.\nbuy milk. call Bob!');
});

test('speech: code blocks summarised, emoji removed', () => {
  assert.equal(renderSpeech('Run:\n\n```\nnpm test\n```'), 'Run:\nnpm test.');
  assert.equal(renderSpeech('```\na\nb\nc\n```'), 'There is a code example in the written version.');
  assert.equal(renderSpeech('Great job 🎉👍🏽 see you 👨‍👩‍👧'), 'Great job see you');
  assert.equal(renderSpeech('🎉'), '');
});

test('speechChunks: first sentence alone, then sentences packed up to maxChars', () => {
  const text = 'Hi. This is the second sentence. And a third one! Fourth?';
  assert.deepEqual(speechChunks(text, 40), ['Hi.', 'This is the second sentence.', 'And a third one! Fourth?']);
  const long = 'word '.repeat(30).trim() + '.';
  const chunks = speechChunks(long, 50);
  assert.ok(chunks.every((c) => c.length <= 50 && c.length > 0));
  assert.equal(chunks.join(' '), long);
});
