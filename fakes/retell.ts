/**
 * A minimal fake Retell API on loopback: Bearer API key check (-> 401) and
 * GET /v2/get-call/{call_id} for calls tests add. Call recordings sit on a storage path
 * (`/storage/{token}/recording.wav`) served as Retell's recording_url is: public to whoever has
 * the URL, with no API key — a request that sends an Authorization header there is refused (400).
 *
 * Example:
 *   const rt = await startFakeRetell();
 *   rt.addCall({ call_id: 'call_1', call_status: 'ended', transcript: 'Agent: Hi' });
 *   await retellApi({ apiKey: rt.apiKey, baseUrl: rt.url }).getCall('call_1');
 */
import { randomBytes } from 'node:crypto';
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
  /** Stores a call recording; returns its recording_url. */
  addRecording(bytes: Uint8Array, contentType?: string): string;
  /** Deletes a recording (its URL answers 404). */
  removeRecording(url: string): void;
}

export async function startFakeRetell(opts: FakeRetellOptions = {}): Promise<FakeRetell> {
  const apiKey = opts.apiKey ?? FAKE_RETELL_API_KEY;
  const calls = new Map<string, FakeRetellCall>();
  const error = (status: number, message: string): FakeReply => ({ status, json: { status: 'error', message } });

  const recordings = new Map<string, { bytes: Uint8Array; contentType: string }>();

  function handler(req: RecordedRequest): FakeReply {
    const rec = /^\/storage\/([^/]+)\/recording\.wav$/.exec(req.path);
    if (rec && req.method === 'GET') {
      if (req.headers.authorization) return { status: 400, text: 'Only one auth mechanism allowed' };
      const r = recordings.get(rec[1]);
      return r ? { status: 200, bytes: r.bytes, headers: { 'content-type': r.contentType } } : { status: 404, text: 'Not Found' };
    }
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
    addRecording(bytes, contentType = 'audio/wav') {
      const token = randomBytes(16).toString('hex');
      recordings.set(token, { bytes, contentType });
      return `${server.url}/storage/${token}/recording.wav`;
    },
    removeRecording(url) {
      recordings.delete(/\/storage\/([^/]+)\//.exec(url)?.[1] ?? '');
    },
    addCall(call) {
      calls.set(call.call_id, { call_type: 'phone_call', agent_id: 'agent_fake', call_status: 'ended', direction: 'inbound', ...call });
    },
  };
}
