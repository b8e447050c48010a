/**
 * An independent checker for Telegram HTML, written from the Bot API rules rather than from
 * the renderer's code, so the tests do not just agree with themselves.
 */
const ALLOWED = new Set(['b', 'i', 'u', 's', 'code', 'pre', 'a', 'blockquote', 'tg-spoiler']);
const ENTITY = /^&(?:lt|gt|amp|quot|#[0-9]+|#x[0-9a-fA-F]+);/;
const TAG = /^<(\/?)([a-z-]+)((?: [a-z]+="[^"<>]*")*)>/;

/** Returns a list of problems; empty when `html` is acceptable Telegram HTML on its own. */
export function telegramProblems(html: string): string[] {
  const problems: string[] = [];
  const stack: string[] = [];
  let i = 0;
  while (i < html.length) {
    const rest = html.slice(i);
    const ch = html[i];
    if (ch === '<') {
      const m = TAG.exec(rest);
      if (!m) {
        problems.push(`raw < at ${i}`);
        i++;
        continue;
      }
      const [whole, slash, name, attrs] = m;
      if (!ALLOWED.has(name)) problems.push(`tag <${name}> not allowed`);
      if (slash) {
        const top = stack.pop();
        if (top !== name) problems.push(`</${name}> closes <${top ?? 'nothing'}>`);
      } else {
        if (name === 'a' && !/^ href="[^"]+"$/.test(attrs)) problems.push(`bad <a> attrs ${attrs}`);
        if (name === 'code' && attrs && !/^ class="language-[^"]+"$/.test(attrs)) problems.push(`bad <code> attrs ${attrs}`);
        if (name === 'code' && attrs && stack[stack.length - 1] !== 'pre') problems.push('language class outside pre');
        if (name !== 'a' && name !== 'code' && attrs) problems.push(`unexpected attrs on ${name}`);
        stack.push(name);
      }
      i += whole.length;
    } else if (ch === '&') {
      const m = ENTITY.exec(rest);
      if (!m) problems.push(`raw & at ${i}`);
      i += m ? m[0].length : 1;
    } else {
      if (ch === '>') problems.push(`raw > at ${i}`);
      i++;
    }
  }
  if (stack.length) problems.push(`unclosed ${stack.join(',')}`);
  return problems;
}

/** Visible text as Telegram shows it: tags removed, the four named and numeric entities decoded. */
export function visibleText(html: string): string {
  return html
    .replace(/<[^>]*>/g, '')
    .replace(/&(lt|gt|amp|quot|#[0-9]+|#x[0-9a-fA-F]+);/g, (_, e: string) => {
      if (e === 'lt') return '<';
      if (e === 'gt') return '>';
      if (e === 'amp') return '&';
      if (e === 'quot') return '"';
      return String.fromCodePoint(e[1] === 'x' ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10));
    });
}

/**
 * Asserts that `chunks` are `whole` cut at increasing offsets with only whitespace dropped
 * between them: whole = g0 + c1 + g1 + c2 + ... + gn where every g is whitespace (maybe empty).
 * Returns a description of the first mismatch, or null.
 */
export function decompositionError(whole: string, chunks: string[]): string | null {
  let pos = 0;
  for (const [n, c] of chunks.entries()) {
    const idx = whole.indexOf(c, pos);
    if (idx < 0) return `chunk ${n} ${JSON.stringify(c.slice(0, 40))} not found after ${pos}`;
    if (/\S/.test(whole.slice(pos, idx))) return `non-whitespace dropped before chunk ${n}: ${JSON.stringify(whole.slice(pos, idx).slice(0, 40))}`;
    pos = idx + c.length;
  }
  if (/\S/.test(whole.slice(pos))) return `non-whitespace dropped at the end: ${JSON.stringify(whole.slice(pos).slice(0, 40))}`;
  return null;
}
