/** Small string helpers shared by the renderers; kept dependency-free so every dialect agrees. */

const HTML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' };

/** Escapes text for an HTML text node (quotes are left alone: they are harmless there). */
export function escapeHtmlText(s: string): string {
  return s.replace(/[&<>]/g, (c) => HTML_ESCAPES[c] ?? c);
}

/** Escapes text for a double-quoted HTML attribute value. */
export function escapeHtmlAttr(s: string): string {
  return s.replace(/[&<>"]/g, (c) => HTML_ESCAPES[c] ?? c);
}

const NAMED_ENTITIES: Record<string, string> = {
  amp: '&',
  lt: '<',
  gt: '>',
  quot: '"',
  apos: "'",
  nbsp: '\u00a0',
  copy: '\u00a9',
  reg: '\u00ae',
  hellip: '\u2026',
  mdash: '\u2014',
  ndash: '\u2013',
};

/**
 * Decodes the entities an agent is likely to type in Markdown (marked leaves them raw).
 * Unknown names stay literal so "&foo;" survives as written.
 */
export function decodeEntities(s: string): string {
  return s.replace(/&(#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[a-zA-Z][a-zA-Z0-9]{1,31});/g, (whole, body: string) => {
    if (body.startsWith('#')) {
      const cp = body[1] === 'x' || body[1] === 'X' ? parseInt(body.slice(2), 16) : parseInt(body.slice(1), 10);
      // Lone surrogates and out-of-range values would produce invalid UTF-16; keep them literal.
      if (cp === 0 || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return whole;
      return String.fromCodePoint(cp);
    }
    return NAMED_ENTITIES[body] ?? whole;
  });
}

export function isHighSurrogate(code: number): boolean {
  return code >= 0xd800 && code <= 0xdbff;
}

export function isLowSurrogate(code: number): boolean {
  return code >= 0xdc00 && code <= 0xdfff;
}

/** True when the string contains a surrogate that is not part of a valid pair. */
export function hasLoneSurrogate(s: string): boolean {
  return /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/.test(s);
}

/** Scheme check shared by every renderer that emits a clickable link. */
export function urlScheme(href: string): string | null {
  const m = /^\s*([a-zA-Z][a-zA-Z0-9+.-]*):/.exec(href);
  return m ? m[1].toLowerCase() : null;
}

/** Accepts only absolute URLs with one of the given schemes; relative and javascript: links fail. */
export function isSafeUrl(href: string, schemes: readonly string[]): boolean {
  // Control characters and whitespace inside a URL are a classic way to smuggle "java\tscript:".
  if (/[\u0000-\u001f\u007f\s]/.test(href.trim())) return false;
  const scheme = urlScheme(href);
  return scheme !== null && schemes.includes(scheme);
}

/** Width in code points, used to pad table columns (close enough for monospace display). */
export function displayWidth(s: string): number {
  let n = 0;
  for (const _ of s) n++;
  return n;
}
