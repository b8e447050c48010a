/**
 * The Retell kit for the provider contract suite (test/contract/): a voice agent's channel whose
 * call webhooks carry x-retell-signature (signed with the official retell-sdk). Retell has no
 * outbound part: answers go over its custom-LLM WebSocket (src/voice).
 */
import { randomBytes } from 'node:crypto';
import Retell from 'retell-sdk';
import { symmetric as retellSymmetric } from 'retell-sdk/lib/webhook_auth';
import { createChannel, createConnection, noop, type Kit, type KitContext } from '../../contract/kit.js';

export function retellBody(agentId: string, n: number, conv = 1): string {
  // Events of one call share its conversation; n picks the event (call_started, call_ended, ...).
  const kinds = ['call_started', 'call_ended', 'call_analyzed'];
  const event = kinds[(n - 1) % kinds.length];
  const callId = `call_${conv}_${Math.ceil(n / kinds.length)}`;
  return JSON.stringify({ event, call: { call_type: 'phone_call', call_id: callId, agent_id: agentId, call_status: event === 'call_started' ? 'ongoing' : 'ended', from_number: '+12137771234', to_number: '+12137771235', direction: 'inbound', start_timestamp: 1714608475945 } });
}

export async function retellKit({ s, instanceId, tag = '' }: KitContext, opts: { viaAccount?: boolean } = {}): Promise<Kit & { agentId: string; connectionId: string }> {
  const apiKey = 'key_' + randomBytes(12).toString('hex');
  const agentId = `agent_${tag}${randomBytes(6).toString('hex')}`;
  const conn = await createConnection(s, instanceId, { provider: 'retell', secrets: { api_key: apiKey } });
  const ch = await createChannel(s, instanceId, { channel_type: 'voice', provider: 'retell', external_identifier: `+1213${randomBytes(3).toString('hex')}`, connection_id: conn.id, config: { agent_id: agentId } });
  const url = opts.viaAccount ? conn.webhook_url : ch.webhook_url;
  const h = (sig?: string, ct = 'application/json') => ({ 'content-type': ct, ...(sig ? { 'x-retell-signature': sig } : {}) });
  return {
    provider: 'retell', channelId: ch.id, url, format: 'json', agentId, connectionId: conn.id,
    valid: async (n, conv) => {
      const body = retellBody(agentId, n, conv);
      return { url, headers: h(Retell.sign(body, apiKey)), body };
    },
    badSignature: async (n) => ({ url, headers: h(Retell.sign(retellBody(agentId, n), apiKey + 'x')), body: retellBody(agentId, n) }),
    missingSignature: async (n) => ({ url, headers: h(), body: retellBody(agentId, n) }),
    staleSignature: async (n) => ({ url, headers: h(retellSymmetric.sign(retellBody(agentId, n), apiKey, Date.now() - 10 * 60_000)), body: retellBody(agentId, n) }),
    signRaw: async (body, ct) => ({ url, headers: h(Retell.sign(body.toString('utf8'), apiKey), ct), body }),
    close: noop,
  };
}
