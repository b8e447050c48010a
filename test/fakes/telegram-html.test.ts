import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseTelegramHtml } from '../../fakes/telegram-html.js';

describe('fake Telegram HTML parse mode', () => {
  it('accepts the documented tags and returns the visible text', () => {
    const r = parseTelegramHtml('<b>bold</b> <i>it</i> <a href="https://x.test/?a=1&amp;b=2">link</a> <pre><code class="language-ts">x &lt; 1</code></pre> <span class="tg-spoiler">s</span> <tg-spoiler>t</tg-spoiler> <blockquote expandable>q</blockquote>');
    assert.deepEqual(r, { ok: true, text: 'bold it link x < 1 s t q' });
  });

  it('decodes the four named entities and numeric ones', () => {
    assert.deepEqual(parseTelegramHtml('&lt;&gt;&amp;&quot;&#65;&#x1F600;'), { ok: true, text: '<>&"A😀' });
    assert.deepEqual(parseTelegramHtml('AT&T & co'), { ok: true, text: 'AT&T & co' });
  });

  it('rejects malformed or unsupported markup with a can\'t parse entities error', () => {
    for (const bad of ['<b>open', '<b><i>x</b></i>', '</b>', '<div>x</div>', '1 < 2', '<span>x</span>', '<tg-emoji>x</tg-emoji>', '<b']) {
      const r = parseTelegramHtml(bad);
      assert.equal(r.ok, false, bad);
      if (!r.ok) assert.match(r.error, /^Bad Request: can't parse entities: /);
    }
  });
});
