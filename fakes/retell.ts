/**
 * A minimal fake Retell API on loopback: Bearer API key check (-> 401) and
 * GET /v2/get-call/{call_id} for calls tests add.
 *
 * Example:
 *   const rt = await startFakeRetell();
 *   rt.addCall({ call_id: 'call_1', call_status: 'ended', transcript: 'Agent: Hi' });
 *   await retellApi({ apiKey: rt.apiKey, baseUrl: rt.url }).getCall('call_1');
 */
import { bearer, startFakeServer } from './fake-server.js';
import type { FakeReply, FakeServer, RecordedRequest, StatusFailSpec } from './fake-server.js';
import { postWebhook, retellSignature } from './webhook-delivery.js';

export const FAKE_RETELL_API_KEY = 'key_FakeRetellApiKeyForSwitchboard';

export interface FakeRetellOptions {
  apiKey?: string;
  port?: number;
}

export interface FakeRetellCall {
  call_id: string;
  [field: string]: unknown;
}

export interface FakeRetell extends FakeServer {
  apiKey: string;
  /** Stores a call served by get-call (defaults filled in for the usual fields). */
  addCall(call: FakeRetellCall): void;
  /** POSTs `{event, call}` signed with x-retell-signature (the API key); returns the status. */
  deliverWebhook(url: string, event: string, call: FakeRetellCall): Promise<number>;
}

export async function startFakeRetell(opts: FakeRetellOptions = {}): Promise<FakeRetell> {
  const apiKey = opts.apiKey ?? FAKE_RETELL_API_KEY;
  const calls = new Map<string, FakeRetellCall>();
  const error = (status: number, message: string): FakeReply => ({ status, json: { status: 'error', message } });

  function handler(req: RecordedRequest): FakeReply {
    if (bearer(req) !== apiKey) return error(401, 'Unauthorized: invalid API key');
    const m = /^\/v2\/get-call\/([^/]+)$/.exec(req.path);
    if (!m || req.method !== 'GET') return error(404, 'Not Found');
    const call = calls.get(m[1]);
    return call ? { status: 200, json: call } : error(404, 'Call not found');
  }

  function failure(spec: StatusFailSpec): FakeReply {
    const reply = error(spec.status, spec.message ?? 'Injected failure');
    return spec.retryAfter !== undefined ? { ...reply, headers: { 'retry-after': String(spec.retryAfter) } } : reply;
  }

  const server = await startFakeServer({ handler, failure, port: opts.port });
  return {
    ...server,
    apiKey,
    async deliverWebhook(url, event, call) {
      const body = JSON.stringify({ event, call });
      return postWebhook(url, { 'content-type': 'application/json', 'x-retell-signature': await retellSignature(apiKey, body) }, body);
    },
    addCall(call) {
      calls.set(call.call_id, { call_type: 'phone_call', agent_id: 'agent_fake', call_status: 'ended', direction: 'inbound', ...call });
    },
  };
}
