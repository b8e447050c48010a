/**
 * Telegram's HTML parse mode as the fake enforces it: the documented tag set, the four named
 * entities plus numeric ones, proper nesting. Returns the visible text (what the 4096 limit counts)
 * or an error worded like Telegram's "can't parse entities". Stricter than Telegram about a bare
 * `<` (always an error); lenient about a bare `&` or `>` (kept as text), which Telegram accepts.
 */

export type HtmlParseResult = { ok: true; text: string } | { ok: false; error: string };

const TAGS = new Set([
  'b', 'strong', 'i', 'em', 'u', 'ins', 's', 'strike', 'del',
  'tg-spoiler', 'span', 'a', 'code', 'pre', 'blockquote', 'tg-emoji',
]);
const NAMED: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"' };

export function parseTelegramHtml(input: string): HtmlParseResult {
  const stack: string[] = [];
  let out = '';
  let i = 0;
  const offset = (at: number): number => Buffer.byteLength(input.slice(0, at));
  const fail = (detail: string): HtmlParseResult => ({ ok: false, error: `Bad Request: can't parse entities: ${detail}` });

  while (i < input.length) {
    const ch = input[i];
    if (ch === '&') {
      const m = /^&(#[0-9]{1,7}|#x[0-9a-fA-F]{1,6}|[a-zA-Z]+);/.exec(input.slice(i, i + 12));
      if (m) {
        const name = m[1];
        let decoded: string | undefined;
        if (name.startsWith('#x') || name.startsWith('#X')) decoded = safeCodePoint(parseInt(name.slice(2), 16));
        else if (name.startsWith('#')) decoded = safeCodePoint(parseInt(name.slice(1), 10));
        else decoded = NAMED[name.toLowerCase()];
        if (decoded !== undefined) {
          out += decoded;
          i += m[0].length;
          continue;
        }
      }
      out += ch;
      i++;
      continue;
    }
    if (ch !== '<') {
      out += ch;
      i++;
      continue;
    }
    const start = i;
    const close = input.indexOf('>', i);
    if (close < 0) return fail(`Unclosed start tag at byte offset ${offset(start)}`);
    const inner = input.slice(i + 1, close);
    i = close + 1;
    if (inner.startsWith('/')) {
      const name = inner.slice(1).trim().toLowerCase();
      const open = stack.pop();
      if (open === undefined) return fail(`Unexpected end tag at byte offset ${offset(start)}`);
      if (open !== name) return fail(`Unmatched end tag at byte offset ${offset(start)}, expected "</${open}>", found "</${name}>"`);
      continue;
    }
    const m = /^([a-zA-Z][a-zA-Z0-9-]*)((?:\s+[a-zA-Z-]+(?:\s*=\s*(?:"[^"]*"|'[^']*'|[^\s"'>]+))?)*)\s*$/.exec(inner);
    if (!m) return fail(`Unsupported start tag "${inner.split(/\s/)[0] ?? ''}" at byte offset ${offset(start)}`);
    const name = m[1].toLowerCase();
    if (!TAGS.has(name)) return fail(`Unsupported start tag "${name}" at byte offset ${offset(start)}`);
    const attrs = parseAttrs(m[2]);
    if (name === 'span' && attrs.class !== 'tg-spoiler') return fail(`Tag "span" must have class "tg-spoiler" at byte offset ${offset(start)}`);
    if (name === 'tg-emoji' && !attrs['emoji-id']) return fail(`Custom emoji entity must have emoji-id attribute at byte offset ${offset(start)}`);
    stack.push(name);
  }
  if (stack.length > 0) return fail(`Can't find end tag corresponding to start tag "${stack[stack.length - 1]}"`);
  return { ok: true, text: out };
}

function safeCodePoint(cp: number): string | undefined {
  return Number.isInteger(cp) && cp >= 0 && cp <= 0x10ffff ? String.fromCodePoint(cp) : undefined;
}

function parseAttrs(src: string): Record<string, string> {
  const attrs: Record<string, string> = {};
  const re = /([a-zA-Z-]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+)))?/g;
  for (const m of src.matchAll(re)) attrs[m[1].toLowerCase()] = m[2] ?? m[3] ?? m[4] ?? '';
  return attrs;
}
