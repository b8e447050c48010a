import type { AdapterContext, RawRequest } from '../../src/adapters/contract.js';

/** Fixed clock for tests: 2024-05-01T12:00:00Z. */
export const NOW = Date.UTC(2024, 4, 1, 12, 0, 0);

export function ctx(over: Partial<AdapterContext> = {}): AdapterContext {
  return {
    secrets: {},
    settings: {},
    config: {},
    apiBaseUrl: 'http://127.0.0.1:9',
    now: () => NOW,
    // Any call that was not given a local server fails loudly instead of reaching the internet.
    fetch: (async () => {
      throw new Error('unexpected fetch in test');
    }) as typeof fetch,
    ...over,
  };
}

export function req(body: string | Buffer, headers: Record<string, string> = {}, over: Partial<RawRequest> = {}): RawRequest {
  const lower: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) lower[k.toLowerCase()] = v;
  return {
    method: 'POST',
    publicUrl: 'https://gw.example.com/webhooks/x',
    headers: lower,
    body: Buffer.isBuffer(body) ? body : Buffer.from(body),
    ...over,
  };
}

export function json(v: unknown, headers: Record<string, string> = {}, over: Partial<RawRequest> = {}): RawRequest {
  return req(JSON.stringify(v), { 'content-type': 'application/json', ...headers }, over);
}

/** Bodies every JSON adapter must refuse with a PayloadError. */
export const JUNK_BODIES: Buffer[] = [
  Buffer.from('{"update_id": 1, "message": {'),
  Buffer.from([0xff, 0xfe, 0x00, 0x81, 0x92, 0x7b]),
  Buffer.from(''),
  Buffer.from('[]'),
  Buffer.from('null'),
  Buffer.from('"just a string"'),
];
