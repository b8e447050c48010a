import { cutText } from './cut.js';

/**
 * Telegram HTML splitting. Chunks are measured on the *visible* text (tags removed, entities
 * decoded) in UTF-16 code units, because that is what Telegram's 4096 limit applies to.
 */

type Piece =
  | { kind: 'open'; name: string; raw: string }
  | { kind: 'close'; name: string; raw: string }
  | { kind: 'char'; raw: string; visible: string };

const TOKEN = /<(\/?)([a-zA-Z][a-zA-Z0-9-]*)((?:\s+[a-zA-Z-]+(?:="[^"]*")?)*)\s*>|&(#[0-9]{1,7}|#x[0-9a-fA-F]{1,6}|[a-zA-Z]+);|[\s\S]/gu;
const NAMED: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"' };

function decodeEntity(body: string): string | null {
  if (body.startsWith('#')) {
    const cp = body[1] === 'x' ? parseInt(body.slice(2), 16) : parseInt(body.slice(1), 10);
    return cp > 0 && cp <= 0x10ffff && !(cp >= 0xd800 && cp <= 0xdfff) ? String.fromCodePoint(cp) : null;
  }
  return NAMED[body] ?? null;
}

/** Tags, entities and single code points, in order; anything unrecognised is a literal char. */
function tokenize(html: string): Piece[] {
  const pieces: Piece[] = [];
  for (const m of html.matchAll(TOKEN)) {
    const raw = m[0];
    if (m[2] !== undefined) {
      const name = m[2].toLowerCase();
      pieces.push(m[1] ? { kind: 'close', name, raw } : { kind: 'open', name, raw });
    } else if (m[4] !== undefined) {
      pieces.push({ kind: 'char', raw, visible: decodeEntity(m[4]) ?? raw });
    } else {
      pieces.push({ kind: 'char', raw, visible: raw });
    }
  }
  return pieces;
}

/** The text a Telegram user sees for a piece of our HTML (tags dropped, entities decoded). */
export function telegramVisibleText(html: string): string {
  return tokenize(html)
    .map((p) => (p.kind === 'char' ? p.visible : ''))
    .join('');
}

/**
 * Splits Telegram HTML so that each chunk is valid on its own: tags still open at a cut are
 * closed at the end of the chunk and re-opened (with their attributes, e.g. a pre's
 * language class or a link's href) at the start of the next. Cuts only fall between visible
 * characters, so never inside a tag or an entity.
 */
export function splitTelegramHtml(html: string, budget: number): string[] {
  const pieces = tokenize(html);
  let visible = '';
  // pieceAt[k] = index of the piece that produces visible code unit k.
  const pieceAt: number[] = [];
  pieces.forEach((p, i) => {
    if (p.kind !== 'char') return;
    visible += p.visible;
    for (let k = 0; k < p.visible.length; k++) pieceAt.push(i);
  });

  const stack: Array<{ name: string; raw: string }> = [];
  const apply = (p: Piece): void => {
    if (p.kind === 'open') stack.push({ name: p.name, raw: p.raw });
    else if (p.kind === 'close') {
      const idx = stack.map((t) => t.name).lastIndexOf(p.name);
      if (idx >= 0) stack.splice(idx, 1);
    }
  };

  const chunks: string[] = [];
  let cursor = 0;
  for (const cut of cutText(visible, budget)) {
    // Tags between chunks only change what is open; they are re-emitted from the stack.
    for (; cursor < pieceAt[cut.start]; cursor++) apply(pieces[cursor]);
    let out = stack.map((t) => t.raw).join('');
    // Stop right after the last visible character so no empty <b></b> pair is left behind.
    for (const end = pieceAt[cut.end - 1] + 1; cursor < end; cursor++) {
      out += pieces[cursor].raw;
      apply(pieces[cursor]);
    }
    for (let i = stack.length - 1; i >= 0; i--) out += `</${stack[i].name}>`;
    chunks.push(out);
  }
  return chunks;
}
