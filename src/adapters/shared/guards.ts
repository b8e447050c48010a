import { MAX_JSON_DEPTH, jsonTooDeepAt } from '../../json-limits.js';
/**
 * Small narrowing helpers for untrusted webhook bodies: every failure is a PayloadError with a
 * path in its message, so a malformed body is answered 400 and never surfaces as a TypeError.
 */
import { PayloadError } from '../contract.js';

export type Obj = Record<string, unknown>;

export function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Parses a JSON object body; anything else (junk bytes, arrays, truncation) is a PayloadError. */
export function parseJsonObject(body: Buffer, what: string): Obj {
  let v: unknown;
  const text = body.toString('utf8');
  if (jsonTooDeepAt(text) >= 0) throw new PayloadError(`${what}: body nests deeper than ${MAX_JSON_DEPTH} levels`);
  try {
    v = JSON.parse(text);
  } catch {
    throw new PayloadError(`${what}: body is not valid JSON`);
  }
  if (!isObj(v)) throw new PayloadError(`${what}: body must be a JSON object`);
  return v;
}

export function obj(v: unknown, path: string): Obj {
  if (!isObj(v)) throw new PayloadError(`${path} must be an object`);
  return v;
}

export function optObj(v: unknown, path: string): Obj | undefined {
  return v === undefined || v === null ? undefined : obj(v, path);
}

export function arr(v: unknown, path: string): unknown[] {
  if (!Array.isArray(v)) throw new PayloadError(`${path} must be an array`);
  return v;
}

export function optArr(v: unknown, path: string): unknown[] {
  return v === undefined || v === null ? [] : arr(v, path);
}

export function str(v: unknown, path: string): string {
  if (typeof v !== 'string' || v === '') throw new PayloadError(`${path} must be a non-empty string`);
  return v;
}

export function optStr(v: unknown, path: string): string | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw new PayloadError(`${path} must be a string`);
  return v;
}

export function num(v: unknown, path: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new PayloadError(`${path} must be a number`);
  return v;
}

export function optNum(v: unknown, path: string): number | undefined {
  return v === undefined || v === null ? undefined : num(v, path);
}

/** Ids some providers send as numbers (Telegram) and others as strings: always a string out. */
export function id(v: unknown, path: string): string {
  if (typeof v === 'number' && Number.isSafeInteger(v)) return String(v);
  if (typeof v === 'string' && v !== '') return v;
  throw new PayloadError(`${path} must be an integer or a non-empty string`);
}
