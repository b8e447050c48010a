import { createHmac } from 'node:crypto';

/**
 * The token Retell's custom-LLM WebSocket URL must carry for a channel:
 * base64url(HMAC-SHA256(verify secret, "switchboard:retell-llm:" + channel id)). Derived, so it
 * changes when the secret is rotated and reveals nothing about the secret.
 */
export function retellSocketToken(verifySecret: string, channelId: string): string {
  return createHmac('sha256', verifySecret).update(`switchboard:retell-llm:${channelId}`).digest('base64url');
}

/**
 * Retell's custom-LLM WebSocket URL for a channel. Retell appends `/{call_id}` to the URL it is
 * given, so the token travels in the path: configure `wss://.../v1/voice/retell/{channel}/{token}`
 * and Retell opens `.../{token}/{call_id}`. `.../{channel}/{call_id}?token=...` is accepted too.
 */
export function retellSocketUrl(publicUrl: string, channelId: string, token: string): string {
  return `${publicUrl.replace(/^http/, 'ws')}/v1/voice/retell/${channelId}/${token}`;
}
