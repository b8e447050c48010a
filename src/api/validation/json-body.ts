/**
 * Request bodies decoded the way FastAPI decodes them, so clients see the same errors:
 * - no body -> absent (a required body then reports `missing` at ["body"]);
 * - JSON content type (or none) -> parsed; a syntax error -> 422 `json_invalid` at ["body", <char offset>]
 *   with Python's json module wording in ctx.error;
 * - any other content type -> the bytes themselves, which then fail model validation.
 */
import { BadRequest, ValidationFailed } from '../../errors.js';
import { MAX_JSON_DEPTH, jsonTooDeepAt } from '../../json-limits.js';

export type DecodedBody = { kind: 'absent' } | { kind: 'value'; value: unknown };

function isJsonType(contentType: string | undefined): boolean {
  if (!contentType) return true;
  const mime = contentType.split(';')[0].trim().toLowerCase();
  const [main, sub] = mime.split('/');
  return main === 'application' && sub !== undefined && (sub === 'json' || sub.endsWith('+json'));
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

export function decodeJsonBody(raw: Buffer | undefined, contentType: string | undefined): DecodedBody {
  if (!raw || raw.length === 0) return { kind: 'absent' };
  if (!isJsonType(contentType)) return { kind: 'value', value: raw.toString('latin1') === '' ? null : new Uint8Array(raw) };
  let text: string;
  try {
    text = utf8.decode(raw);
  } catch {
    throw new BadRequest('There was an error parsing the body');
  }
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  const deep = jsonTooDeepAt(text);
  if (deep >= 0) {
    // Refused before parsing: nothing downstream (locator, validators) has to walk such a tree.
    const msg = `Nesting deeper than ${MAX_JSON_DEPTH} levels`;
    throw new ValidationFailed([{ type: 'json_invalid', loc: ['body', Array.from(text.slice(0, deep)).length], msg: 'JSON decode error', input: {}, ctx: { error: msg } }]);
  }
  try {
    return { kind: 'value', value: JSON.parse(text) };
  } catch {
    const { pos, msg } = locateJsonError(text);
    throw new ValidationFailed([{ type: 'json_invalid', loc: ['body', pos], msg: 'JSON decode error', input: {}, ctx: { error: msg } }]);
  }
}

/** Where and why Python's json.loads would stop on `s` (only called once JSON.parse has failed). */
export function locateJsonError(s: string): { pos: number; msg: string } {
  const toCodePoints = (i: number) => Array.from(s.slice(0, i)).length;
  try {
    const end = new Scanner(s).document();
    // JSON.parse failed but the scanner accepted: a construct V8 rejects that Python allows
    // (NaN/Infinity literals). Report it at the end rather than inventing a position.
    return { pos: toCodePoints(end), msg: 'Expecting value' };
  } catch (e) {
    if (e instanceof ScanError) return { pos: toCodePoints(e.pos), msg: e.message };
    throw e;
  }
}

class ScanError extends Error {
  constructor(
    message: string,
    readonly pos: number,
  ) {
    super(message);
  }
}

const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][-+]?\d+)?/y;
const WS = /[ \t\n\r]*/y;

class Scanner {
  constructor(private readonly s: string) {}

  document(): number {
    let i = this.ws(0);
    i = this.value(i);
    i = this.ws(i);
    if (i !== this.s.length) throw new ScanError('Extra data', i);
    return i;
  }

  private ws(i: number): number {
    WS.lastIndex = i;
    WS.exec(this.s);
    return WS.lastIndex;
  }

  private value(i: number): number {
    const c = this.s[i];
    if (c === '"') return this.string(i);
    if (c === '{') return this.object(i);
    if (c === '[') return this.array(i);
    for (const lit of ['null', 'true', 'false', 'NaN', 'Infinity', '-Infinity']) if (this.s.startsWith(lit, i)) return i + lit.length;
    NUMBER.lastIndex = i;
    if (NUMBER.exec(this.s)) return NUMBER.lastIndex;
    throw new ScanError('Expecting value', i);
  }

  private string(start: number): number {
    let i = start + 1;
    for (;;) {
      if (i >= this.s.length) throw new ScanError('Unterminated string starting at', start);
      const c = this.s.charCodeAt(i);
      if (c === 0x22) return i + 1;
      if (c < 0x20) throw new ScanError('Invalid control character at', i);
      if (c === 0x5c) {
        const e = this.s[i + 1];
        if (e === undefined) throw new ScanError('Unterminated string starting at', start);
        if (e === 'u') {
          if (!/^[0-9a-fA-F]{4}$/.test(this.s.slice(i + 2, i + 6))) throw new ScanError('Invalid \\uXXXX escape', i + 1);
          i += 6;
          continue;
        }
        if (!'"\\/bfnrt'.includes(e)) throw new ScanError('Invalid \\escape', i);
        i += 2;
        continue;
      }
      i++;
    }
  }

  private object(start: number): number {
    let i = this.ws(start + 1);
    if (this.s[i] === '}') return i + 1;
    for (;;) {
      if (this.s[i] !== '"') throw new ScanError('Expecting property name enclosed in double quotes', i);
      i = this.ws(this.string(i));
      if (this.s[i] !== ':') throw new ScanError("Expecting ':' delimiter", i);
      i = this.ws(i + 1);
      i = this.ws(this.value(i));
      if (this.s[i] === '}') return i + 1;
      if (this.s[i] !== ',') throw new ScanError("Expecting ',' delimiter", i);
      i = this.ws(i + 1);
    }
  }

  private array(start: number): number {
    let i = this.ws(start + 1);
    if (this.s[i] === ']') return i + 1;
    for (;;) {
      i = this.ws(this.value(i));
      if (this.s[i] === ']') return i + 1;
      if (this.s[i] !== ',') throw new ScanError("Expecting ',' delimiter", i);
      i = this.ws(i + 1);
    }
  }
}
