import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { renderPlain, renderTelegramHtml, renderWhatsApp, smsSegments, speechChunks, splitMessage, telegramVisibleText } from '../../src/render/index.js';
import { hasLoneSurrogate } from '../../src/render/text-utils.js';
import { decompositionError, telegramProblems, visibleText } from './telegram-check.js';

const RUNS = { numRuns: 200 };

// Markdown-ish input: words with the characters that break naive splitters (entities,
// angle brackets, emoji incl. modifiers, extension-table chars), long unbreakable words,
// and the Markdown constructs the renderers care about.
const word = fc.string({
  unit: fc.constantFrom('a', 'b', 'Z', 'é', '&', '<', '>', '"', '.', '!', '?', '😀', '👍🏽', 'й', '€', '\t'),
  minLength: 1,
  maxLength: 12,
});
const longWord = fc.string({ unit: fc.constantFrom('x', '&', '😀', '<', ';'), minLength: 30, maxLength: 120 });
const syntax = fc.constantFrom(
  ' ', ' ', ' ', '\n', '\n\n', '**', '_', '~~', '`', '```\n', '\n```\n', '```js\n', '# ', '- ', '1. ', '> ',
  '[link](https://x.dev/?a=1&b=2)', '[bad](javascript:alert(1))', '||', '\n| a | b |\n|---|---|\n| 1 | <2> |\n',
  '&amp;', '&lt;', '\n---\n', '  ', '<b>', '</i>',
);
const markdownish = fc
  .array(fc.oneof({ weight: 6, arbitrary: word }, { weight: 1, arbitrary: longWord }, { weight: 4, arbitrary: syntax }), { maxLength: 80 })
  .map((parts) => parts.join(''));

const MARKER = / \((\d+)\/(\d+)\)$/;

function stripMarkers(chunks: string[]): string[] {
  return chunks.map((c, i) => {
    const m = MARKER.exec(c);
    assert.ok(m, `chunk ${i} has no marker: ${JSON.stringify(c)}`);
    assert.equal(Number(m[1]), i + 1);
    assert.equal(Number(m[2]), chunks.length);
    return c.slice(0, m.index);
  });
}

test('plain: chunks fit, are non-empty, keep surrogates whole, and only drop boundary whitespace', () => {
  fc.assert(
    fc.property(markdownish, fc.integer({ min: 2, max: 300 }), fc.boolean(), (md, limit, render) => {
      const text = render ? renderPlain(md) : md;
      const chunks = splitMessage(text, { limit, format: 'plain' });
      for (const c of chunks) {
        assert.ok(c.length <= limit, `${c.length} > ${limit}`);
        assert.match(c, /\S/);
        assert.ok(!hasLoneSurrogate(c), JSON.stringify(c));
      }
      // Precisely: text == g0 + chunk1 + g1 + ... + chunkN + gN with every g whitespace-only.
      assert.equal(decompositionError(text, chunks), null);
    }),
    RUNS,
  );
});

test('plain with numbering: markers are right and the limit includes them', () => {
  fc.assert(
    fc.property(markdownish, fc.integer({ min: 14, max: 200 }), (md, limit) => {
      const chunks = splitMessage(md, { limit, format: 'plain', numbering: true });
      for (const c of chunks) assert.ok(c.length <= limit, `${c.length} > ${limit}: ${JSON.stringify(c)}`);
      const bodies = chunks.length > 1 ? stripMarkers(chunks) : chunks;
      for (const b of bodies) assert.match(b, /\S/);
      assert.equal(decompositionError(md, bodies), null);
    }),
    RUNS,
  );
});

test('telegram_html: every chunk is valid on its own, fits, and the visible text is preserved', () => {
  fc.assert(
    fc.property(markdownish, fc.integer({ min: 2, max: 200 }), fc.boolean(), (md, limit, numbering) => {
      const html = renderTelegramHtml(md);
      assert.deepEqual(telegramProblems(html), [], html);
      // The splitter's own notion of visible text must agree with the independent checker.
      assert.equal(telegramVisibleText(html), visibleText(html));
      const effective = numbering ? Math.max(limit, 14) : limit;
      const chunks = splitMessage(html, { limit: effective, format: 'telegram_html', numbering });
      for (const c of chunks) {
        assert.deepEqual(telegramProblems(c), [], c);
        assert.ok(visibleText(c).length <= effective, `${visibleText(c).length} > ${effective}: ${c}`);
        assert.ok(!hasLoneSurrogate(c), JSON.stringify(c));
      }
      const bodies = numbering && chunks.length > 1 ? stripMarkers(chunks) : chunks;
      for (const b of bodies) assert.match(visibleText(b), /\S/);
      assert.equal(decompositionError(visibleText(html), bodies.map(visibleText)), null);
    }),
    RUNS,
  );
});

test('whatsapp and markdown: chunks fit, are non-empty, and code fences are closed in every chunk but the last', () => {
  fc.assert(
    fc.property(markdownish, fc.integer({ min: 20, max: 300 }), fc.constantFrom('whatsapp' as const, 'markdown' as const), (md, limit, format) => {
      const text = format === 'whatsapp' ? renderWhatsApp(md) : md;
      const chunks = splitMessage(text, { limit, format });
      chunks.forEach((c, i) => {
        assert.ok(c.length <= limit, `${c.length} > ${limit}`);
        assert.match(c, /\S/);
        assert.ok(!hasLoneSurrogate(c), JSON.stringify(c));
        if (i < chunks.length - 1) assert.equal((c.match(/```/g) ?? []).length % 2, 0, c);
      });
    }),
    RUNS,
  );
});

test('speechChunks: non-empty, within maxChars, nothing but whitespace lost', () => {
  fc.assert(
    fc.property(markdownish, fc.integer({ min: 10, max: 120 }), (md, max) => {
      const chunks = speechChunks(md, max);
      for (const c of chunks) {
        assert.ok(c.length > 0 && c.length <= max, JSON.stringify(c));
        assert.ok(!hasLoneSurrogate(c));
      }
      assert.equal(chunks.join(' ').replace(/\s+/g, ''), md.replace(/\s+/g, ''));
    }),
    RUNS,
  );
});

test('smsSegments matches the closed form for single-width text', () => {
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 700 }), fc.boolean(), (n, gsm) => {
      const r = smsSegments((gsm ? 'a' : 'й').repeat(n));
      const [single, multi] = gsm ? [160, 153] : [70, 67];
      assert.equal(r.segments, n <= single ? 1 : Math.ceil(n / multi));
    }),
    RUNS,
  );
});
