/** Where providers reach a voice channel (PUBLIC_URL-based, like every webhook URL). */
export function twilioVoiceUrl(publicUrl: string, channelId: string): string {
  return `${publicUrl}/v1/voice/twilio/${channelId}`;
}

/**
 * Retell's custom-LLM WebSocket URL for a channel. Retell appends `/{call_id}` to the URL it is
 * given, so the token travels in the path: configure `wss://.../v1/voice/retell/{channel}/{token}`
 * and Retell opens `.../{token}/{call_id}`. `.../{channel}/{call_id}?token=...` is accepted too.
 */
export function retellSocketUrl(publicUrl: string, channelId: string, token: string): string {
  return `${publicUrl.replace(/^http/, 'ws')}/v1/voice/retell/${channelId}/${token}`;
}
