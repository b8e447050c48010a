/**
 * A small field/model vocabulary that validates exactly the way FastAPI + Pydantic v2 (lax mode)
 * report errors — same `type`, `loc`, `msg` and `ctx` — and also yields the JSON Schema that the
 * OpenAPI document is generated from, so docs and behaviour cannot drift apart.
 */
import type { ValidationIssue } from '../../errors.js';

export type Loc = (string | number)[];
export const INVALID: unique symbol = Symbol('invalid');
export type Parsed<T> = T | typeof INVALID;

export interface Field<T> {
  readonly schema: Record<string, unknown>;
  parse(value: unknown, loc: Loc, issues: ValidationIssue[]): Parsed<T>;
}

type JsonSchema = Record<string, unknown>;

function issue(issues: ValidationIssue[], type: string, loc: Loc, msg: string, input: unknown, ctx?: Record<string, unknown>): typeof INVALID {
  issues.push(ctx ? { type, loc, msg, input, ctx } : { type, loc, msg, input });
  return INVALID;
}

/** Python's len(): code points, not UTF-16 units. */
function pyLen(s: string): number {
  let n = 0;
  for (const _ of s) n++;
  return n;
}

export function str(opts: { maxLength?: number; minLength?: number; description?: string; title?: string } = {}): Field<string> {
  const schema: JsonSchema = { type: 'string' };
  if (opts.maxLength !== undefined) schema.maxLength = opts.maxLength;
  if (opts.minLength !== undefined) schema.minLength = opts.minLength;
  if (opts.description) schema.description = opts.description;
  if (opts.title) schema.title = opts.title;
  return {
    schema,
    parse(v, loc, issues) {
      if (typeof v !== 'string') return issue(issues, 'string_type', loc, 'Input should be a valid string', v);
      const len = opts.minLength !== undefined || opts.maxLength !== undefined ? pyLen(v) : 0;
      if (opts.minLength !== undefined && len < opts.minLength) {
        const unit = opts.minLength === 1 ? 'character' : 'characters';
        return issue(issues, 'string_too_short', loc, `String should have at least ${opts.minLength} ${unit}`, v, { min_length: opts.minLength });
      }
      if (opts.maxLength !== undefined && len > opts.maxLength) {
        const unit = opts.maxLength === 1 ? 'character' : 'characters';
        return issue(issues, 'string_too_long', loc, `String should have at most ${opts.maxLength} ${unit}`, v, { max_length: opts.maxLength });
      }
      return v;
    },
  };
}

/** Pydantic's wording for a choice: `'a', 'b' or 'c'`. */
function orList(values: readonly string[]): string {
  const q = values.map((v) => `'${v}'`);
  return q.length === 1 ? q[0] : `${q.slice(0, -1).join(', ')} or ${q[q.length - 1]}`;
}

export function literal<const V extends string>(values: readonly V[], opts: { description?: string; title?: string } = {}): Field<V> {
  const expected = orList(values);
  return {
    schema: { type: 'string', enum: [...values], ...(opts.title ? { title: opts.title } : {}), ...(opts.description ? { description: opts.description } : {}) },
    parse(v, loc, issues) {
      if (typeof v === 'string' && (values as readonly string[]).includes(v)) return v as V;
      return issue(issues, 'literal_error', loc, `Input should be ${expected}`, v, { expected });
    },
  };
}

const GROUP_STARTS = [0, 9, 14, 19, 24];
const GROUP_LENGTHS = [8, 4, 4, 4, 12];
const HEX = /^[0-9a-fA-F]$/;

/** Why a string is not a UUID, in the words of the Rust `uuid` crate that pydantic-core uses. */
function uuidReason(input: string): string {
  let body = input;
  let simple = true;
  if (input.length >= 2 && input.startsWith('{') && input.endsWith('}')) {
    body = input.slice(1, -1);
    simple = false;
  } else if (input.startsWith('urn:uuid:')) {
    body = input.slice(9);
    simple = false;
  }
  let hyphens = 0;
  const bounds = [0, 0, 0, 0];
  let byte = 0;
  for (const ch of body) {
    if (ch.codePointAt(0)! > 0x7f) return `invalid character: found \`${ch}\` at ${byte + 1}`;
    if (ch === '-') {
      if (hyphens < 4) bounds[hyphens] = byte;
      hyphens++;
    } else if (!HEX.test(ch)) {
      return `invalid character: found \`${ch}\` at ${byte + 1}`;
    }
    byte += Buffer.byteLength(ch);
  }
  if (hyphens === 0 && simple) return `invalid length: expected length 32 for simple format, found ${byte}`;
  if (hyphens !== 4) return `invalid group count: expected 5, found ${hyphens + 1}`;
  for (let i = 0; i < 4; i++) {
    if (bounds[i] !== GROUP_STARTS[i + 1] - 1) return `invalid group length in group ${i}: expected ${GROUP_LENGTHS[i]}, found ${bounds[i] - GROUP_STARTS[i]}`;
  }
  return `invalid group length in group 4: expected 12, found ${Buffer.byteLength(input) - GROUP_STARTS[4]}`;
}

const HYPHENATED = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

/** Parses every UUID spelling pydantic accepts; returns the canonical lower-case hyphenated form. */
export function parseUuid(input: string): string | undefined {
  let h: string | undefined;
  if (input.length === 32 && /^[0-9a-fA-F]{32}$/.test(input)) {
    h = `${input.slice(0, 8)}-${input.slice(8, 12)}-${input.slice(12, 16)}-${input.slice(16, 20)}-${input.slice(20)}`;
  } else if (input.length === 36) h = input;
  else if (input.length === 38 && input.startsWith('{') && input.endsWith('}')) h = input.slice(1, 37);
  else if (input.length === 45 && input.startsWith('urn:uuid:')) h = input.slice(9);
  return h && HYPHENATED.test(h) ? h.toLowerCase() : undefined;
}

export function uuid(opts: { description?: string; title?: string } = {}): Field<string> {
  return {
    schema: { type: 'string', format: 'uuid', ...(opts.title ? { title: opts.title } : {}), ...(opts.description ? { description: opts.description } : {}) },
    parse(v, loc, issues) {
      if (typeof v !== 'string') return issue(issues, 'uuid_type', loc, 'UUID input should be a string, bytes or UUID object', v);
      const u = parseUuid(v);
      if (u) return u;
      const reason = uuidReason(v);
      return issue(issues, 'uuid_parsing', loc, `Input should be a valid UUID, ${reason}`, v, { error: reason });
    },
  };
}

const TRUE_WORDS = new Set(['1', 'on', 't', 'true', 'y', 'yes']);
const FALSE_WORDS = new Set(['0', 'off', 'f', 'false', 'n', 'no']);

export function bool(opts: { description?: string; default?: boolean } = {}): Field<boolean> {
  return {
    schema: { type: 'boolean', ...(opts.default !== undefined ? { default: opts.default } : {}), ...(opts.description ? { description: opts.description } : {}) },
    parse(v, loc, issues) {
      if (typeof v === 'boolean') return v;
      if (typeof v === 'string') {
        const w = v.toLowerCase();
        if (TRUE_WORDS.has(w)) return true;
        if (FALSE_WORDS.has(w)) return false;
        return issue(issues, 'bool_parsing', loc, 'Input should be a valid boolean, unable to interpret input', v);
      }
      if (typeof v === 'number') {
        if (v === 1) return true;
        if (v === 0) return false;
        return issue(issues, 'bool_parsing', loc, 'Input should be a valid boolean, unable to interpret input', v);
      }
      return issue(issues, 'bool_type', loc, 'Input should be a valid boolean', v);
    },
  };
}

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function dict(opts: { description?: string; title?: string } = {}): Field<Record<string, unknown>> {
  return {
    schema: { type: 'object', additionalProperties: true, ...(opts.title ? { title: opts.title } : {}), ...(opts.description ? { description: opts.description } : {}) },
    parse(v, loc, issues) {
      if (isPlainObject(v)) return v;
      return issue(issues, 'dict_type', loc, 'Input should be a valid dictionary', v);
    },
  };
}

/** A dictionary whose values are all validated by `value` (e.g. secrets: string -> string). */
export function record<T>(value: Field<T>, opts: { description?: string } = {}): Field<Record<string, T>> {
  return {
    schema: { type: 'object', additionalProperties: value.schema, ...(opts.description ? { description: opts.description } : {}) },
    parse(v, loc, issues) {
      if (!isPlainObject(v)) return issue(issues, 'dict_type', loc, 'Input should be a valid dictionary', v);
      const out: Record<string, T> = {};
      let bad = false;
      for (const [k, x] of Object.entries(v)) {
        const r = value.parse(x, [...loc, k], issues);
        if (r === INVALID) bad = true;
        else out[k] = r;
      }
      return bad ? INVALID : out;
    },
  };
}

export function list<T>(item: Field<T>, opts: { description?: string } = {}): Field<T[]> {
  return {
    schema: { type: 'array', items: item.schema, ...(opts.description ? { description: opts.description } : {}) },
    parse(v, loc, issues) {
      if (!Array.isArray(v)) return issue(issues, 'list_type', loc, 'Input should be a valid list', v);
      const out: T[] = [];
      let bad = false;
      v.forEach((x, i) => {
        const r = item.parse(x, [...loc, i], issues);
        if (r === INVALID) bad = true;
        else out.push(r);
      });
      return bad ? INVALID : out;
    },
  };
}

/** `Optional[...]`: null is a value of its own (clears a field on PATCH). */
export function nullable<T>(f: Field<T>): Field<T | null> {
  return {
    schema: { anyOf: [f.schema, { type: 'null' }] },
    parse(v, loc, issues) {
      return v === null ? null : f.parse(v, loc, issues);
    },
  };
}

/** An http(s) URL, as pydantic's HttpUrl reports the common failures. */
export function httpUrl(opts: { description?: string; maxLength?: number } = {}): Field<string> {
  const max = opts.maxLength ?? 2083;
  return {
    schema: { type: 'string', format: 'uri', minLength: 1, maxLength: max, ...(opts.description ? { description: opts.description } : {}) },
    parse(v, loc, issues) {
      if (typeof v !== 'string') return issue(issues, 'url_type', loc, 'URL input should be a string or URL', v);
      if (v.length > max) return issue(issues, 'url_too_long', loc, `URL should have at most ${max} characters`, v, { max_length: max });
      let u: URL;
      try {
        u = new URL(v);
      } catch {
        const reason = v === '' ? 'input is empty' : 'relative URL without a base';
        return issue(issues, 'url_parsing', loc, `Input should be a valid URL, ${reason}`, v, { error: reason });
      }
      if (u.protocol !== 'http:' && u.protocol !== 'https:') {
        return issue(issues, 'url_scheme', loc, "URL scheme should be 'http' or 'https'", v, { expected_schemes: "'http' or 'https'" });
      }
      return v;
    },
  };
}

export interface Prop<T> {
  field: Field<T>;
  required?: boolean;
  /** Value when absent (a function so mutable defaults are fresh). */
  default?: () => T;
}

export type Shape = Record<string, Prop<unknown>>;
export type Infer<S extends Shape> = {
  [K in keyof S]: S[K] extends Prop<infer T> ? (S[K]['required'] extends true ? T : S[K] extends { default: () => T } ? T : T | undefined) : never;
};

export interface Model<S extends Shape> extends Field<Infer<S>> {
  readonly shape: S;
}

/**
 * An object of named fields. Unknown keys are ignored (as FastAPI does), every field is checked
 * so all errors are reported at once, absent optional fields stay absent (PATCH semantics).
 */
export function model<S extends Shape>(shape: S, opts: { title?: string } = {}): Model<S> {
  const properties: JsonSchema = {};
  const required: string[] = [];
  for (const [k, p] of Object.entries(shape)) {
    const s = { ...p.field.schema };
    if (p.default) s.default = p.default();
    properties[k] = s;
    if (p.required) required.push(k);
  }
  return {
    shape,
    schema: { type: 'object', properties, ...(required.length ? { required } : {}), ...(opts.title ? { title: opts.title } : {}) },
    parse(v, loc, issues) {
      if (!isPlainObject(v)) {
        return issue(issues, 'model_attributes_type', loc, 'Input should be a valid dictionary or object to extract fields from', v);
      }
      const out: Record<string, unknown> = {};
      let bad = false;
      for (const [k, p] of Object.entries(shape)) {
        if (!Object.prototype.hasOwnProperty.call(v, k)) {
          if (p.required) {
            issue(issues, 'missing', [...loc, k], 'Field required', v);
            bad = true;
          } else if (p.default) out[k] = p.default();
          continue;
        }
        const r = p.field.parse(v[k], [...loc, k], issues);
        if (r === INVALID) bad = true;
        else out[k] = r;
      }
      return bad ? INVALID : (out as Infer<S>);
    },
  };
}

/** An integer (query/path strings are parsed as Pydantic's lax mode does) within bounds. */
export function int(opts: { ge?: number; le?: number; description?: string } = {}): Field<number> {
  return {
    schema: { type: 'integer', ...(opts.ge !== undefined ? { minimum: opts.ge } : {}), ...(opts.le !== undefined ? { maximum: opts.le } : {}), ...(opts.description ? { description: opts.description } : {}) },
    parse(v, loc, issues) {
      let n: number;
      if (typeof v === 'number') {
        if (!Number.isInteger(v)) return issue(issues, 'int_from_float', loc, 'Input should be a valid integer, got a number with a fractional part', v);
        n = v;
      } else if (typeof v === 'string' && /^\s*[-+]?\d+\s*$/.test(v)) {
        n = Number(v.trim());
      } else if (typeof v === 'string') {
        return issue(issues, 'int_parsing', loc, 'Input should be a valid integer, unable to parse string as an integer', v);
      } else {
        return issue(issues, 'int_type', loc, 'Input should be a valid integer', v);
      }
      // Beyond 2^53 a JS number is no longer exact (and PostgreSQL's bigint ends at 2^63): out of range, 422.
      const ge = opts.ge ?? -Number.MAX_SAFE_INTEGER;
      const le = opts.le ?? Number.MAX_SAFE_INTEGER;
      if (n < ge) return issue(issues, 'greater_than_equal', loc, `Input should be greater than or equal to ${ge}`, v, { ge });
      if (n > le) return issue(issues, 'less_than_equal', loc, `Input should be less than or equal to ${le}`, v, { le });
      if (opts.ge !== undefined && n < opts.ge) return issue(issues, 'greater_than_equal', loc, `Input should be greater than or equal to ${opts.ge}`, v, { ge: opts.ge });
      if (opts.le !== undefined && n > opts.le) return issue(issues, 'less_than_equal', loc, `Input should be less than or equal to ${opts.le}`, v, { le: opts.le });
      return n;
    },
  };
}

/**
 * An ISO-8601 time (`2026-01-31T12:00:00Z`, an offset, or a bare date = midnight UTC; without an
 * offset it is UTC), returned as the canonical `toISOString()` form the store writes, so it can
 * be compared with stored times as text.
 */
export function isoTime(opts: { description?: string } = {}): Field<string> {
  const shape = /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:?\d{2})?)?$/i;
  return {
    schema: { type: 'string', format: 'date-time', ...(opts.description ? { description: opts.description } : {}) },
    parse(v, loc, issues) {
      if (typeof v !== 'string') return issue(issues, 'datetime_type', loc, 'Input should be a valid datetime', v);
      const s = v.trim();
      const ms = shape.test(s) ? Date.parse(/[T ]\d{2}:\d{2}/.test(s) && !/(?:Z|[+-]\d{2}:?\d{2})$/i.test(s) ? `${s.replace(' ', 'T')}Z` : s.replace(' ', 'T')) : NaN;
      if (!Number.isFinite(ms)) return issue(issues, 'datetime_parsing', loc, 'Input should be a valid datetime, expected an ISO-8601 time such as 2026-01-31T12:00:00Z', v, { error: 'expected an ISO-8601 time' });
      return new Date(ms).toISOString();
    },
  };
}
