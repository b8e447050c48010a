/** Where Twilio reaches a voice channel (PUBLIC_URL-based, like every webhook URL). */
export function twilioVoiceUrl(publicUrl: string, channelId: string): string {
  return `${publicUrl}/v1/voice/twilio/${channelId}`;
}
