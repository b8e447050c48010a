import { test } from 'node:test';
import assert from 'node:assert/strict';
import { renderTelegramHtml } from '../../src/render/index.js';
import { telegramProblems } from './telegram-check.js';

const tg = (md: string): string => {
  const html = renderTelegramHtml(md);
  assert.deepEqual(telegramProblems(html), [], html);
  return html;
};

test('escapes <, > and & in text, inline code and code blocks', () => {
  assert.equal(tg('a < b && c > d'), 'a &lt; b &amp;&amp; c &gt; d');
  assert.equal(tg('use `<div>&nbsp;`'), 'use <code>&lt;div&gt;&amp;nbsp;</code>');
  assert.equal(tg('```\nif (a<b && c>d) {}\n```'), '<pre>if (a&lt;b &amp;&amp; c&gt;d) {}</pre>');
});

test('raw HTML written by the agent stays literal text', () => {
  assert.equal(tg('<b>x</b> <script>alert(1)</script>'), '&lt;b&gt;x&lt;/b&gt; &lt;script&gt;alert(1)&lt;/script&gt;');
  assert.equal(tg('<div>\nblock\n</div>'), '&lt;div&gt;\nblock\n&lt;/div&gt;');
});

test('entities typed in Markdown are decoded once and escaped once', () => {
  assert.equal(tg('AT&amp;T &lt;3'), 'AT&amp;T &lt;3');
});

test('emphasis, nesting, strike, spoiler', () => {
  assert.equal(tg('**bold** _it_ ~~gone~~'), '<b>bold</b> <i>it</i> <s>gone</s>');
  assert.equal(tg('**bold _both_ bold**'), '<b>bold <i>both</i> bold</b>');
  assert.equal(tg('***all***'), '<i><b>all</b></i>');
  assert.equal(tg('a ||secret|| b'), 'a <tg-spoiler>secret</tg-spoiler> b');
});

test('links: safe schemes kept with escaped href, unsafe ones dropped to text', () => {
  assert.equal(tg('[docs](https://x.dev/?a=1&b="2")'), '<a href="https://x.dev/?a=1&amp;b=&quot;2&quot;">docs</a>');
  assert.equal(tg('[click](javascript:alert(1))'), 'click');
  assert.equal(tg('[x](JaVaScRiPt:alert(1))'), 'x');
  assert.equal(tg('[x](data:text/html,hi)'), 'x');
  assert.equal(tg('[rel](/relative/path)'), 'rel');
  assert.equal(tg('see https://example.com'), 'see <a href="https://example.com">https://example.com</a>');
  assert.equal(tg('[**bold link**](https://x.dev)'), '<a href="https://x.dev"><b>bold link</b></a>');
});

test('images become links', () => {
  assert.equal(tg('![chart](https://x.dev/c.png)'), '<a href="https://x.dev/c.png">chart</a>');
  assert.equal(tg('![](https://x.dev/c.png)'), '<a href="https://x.dev/c.png">image</a>');
});

test('headings become bold lines', () => {
  assert.equal(tg('# Title\n\ntext'), '<b>Title</b>\n\ntext');
  assert.equal(tg('### A & B'), '<b>A &amp; B</b>');
});

test('lists become bullet and numbered lines, nested ones indented', () => {
  assert.equal(tg('- one\n- two'), '• one\n• two');
  assert.equal(tg('3. c\n4. d'), '3. c\n4. d');
  assert.equal(tg('- a\n  - b\n    1. c'), '• a\n  • b\n    1. c');
  assert.equal(tg('- [x] done\n- [ ] todo'), '☑ done\n☐ todo');
});

test('code blocks keep the language class', () => {
  assert.equal(tg('```ts\nconst a = 1;\n```'), '<pre><code class="language-ts">const a = 1;</code></pre>');
  assert.equal(tg('```"><script>\nx\n```'), '<pre><code class="language-script">x</code></pre>');
});

test('tables become a pre block with aligned columns', () => {
  assert.equal(tg('| name | n |\n|---|---|\n| **a<b** | 10 |'), '<pre>name | n\n-----+---\na&lt;b  | 10</pre>');
});

test('blockquote and horizontal rule', () => {
  assert.equal(tg('> wise\n\n---\n\nend'), '<blockquote>wise</blockquote>\n\n──────────\n\nend');
});

test('empty input renders as empty string', () => {
  assert.equal(tg(''), '');
  assert.equal(tg('   \n\n'), '');
});

test('code inside a list item is not re-indented; bold headings do not nest <b>', () => {
  assert.equal(tg('- step:\n\n  ```\n  a\n    b\n  ```'), '• step:\n  <pre>a\n  b</pre>');
  assert.equal(tg('# **Big** news'), '<b>Big news</b>');
});
