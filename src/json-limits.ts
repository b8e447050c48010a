/**
 * How deep a JSON document may nest, for every JSON the server parses (API bodies, webhook
 * bodies, agent answers). V8's JSON.parse copes with deep documents, but code walking the result
 * recursively — the JSON error locator, validators, loggers — would overflow the stack and answer
 * 500; so depth is checked first, by a scan that does not recurse. No provider payload comes near
 * this (Meta's deepest is about 10 levels).
 */
export const MAX_JSON_DEPTH = 64;

/**
 * The character offset of the first bracket nesting deeper than `max`, or -1. Brackets inside
 * strings do not count; the text need not be valid JSON (the parser judges that afterwards).
 */
export function jsonTooDeepAt(text: string, max = MAX_JSON_DEPTH): number {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) {
      if (++depth > max) return i;
    } else if (c === 0x7d || c === 0x5d) depth--;
  }
  return -1;
}
