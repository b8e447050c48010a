import type { RawRequest, VerifyResult } from '../contract.js';

/** A header by (case-insensitive) name; empty values count as missing. */
export function header(req: RawRequest, name: string): string | undefined {
  const v = req.headers[name.toLowerCase()];
  return v === undefined || v === '' ? undefined : v;
}

export const ok: VerifyResult = { ok: true };

export function deny(status: 401 | 403, reason: string): VerifyResult {
  return { ok: false, status, reason };
}

/** The first non-empty string among channel config / connection settings values. */
export function stringSetting(...values: unknown[]): string | undefined {
  for (const v of values) if (typeof v === 'string' && v !== '') return v;
  return undefined;
}
