/**
 * The few TwiML verbs a voice conversation needs, as strings (no XML library: five verbs).
 *
 * @example twiml(say('Hello', { voice: 'Polly.Joanna' }), hangup()) // '<?xml ...?><Response><Say voice="Polly.Joanna">Hello</Say><Hangup/></Response>'
 */
export interface SayOptions {
  voice?: string;
  language?: string;
}

export function escapeXml(s: string): string {
  return s.replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c] as string);
}

function attrs(a: Record<string, string | undefined>): string {
  return Object.entries(a)
    .filter(([, v]) => v !== undefined && v !== '')
    .map(([k, v]) => ` ${k}="${escapeXml(v as string)}"`)
    .join('');
}

export function say(text: string, o: SayOptions = {}): string {
  return text.trim() ? `<Say${attrs({ voice: o.voice, language: o.language })}>${escapeXml(text)}</Say>` : '';
}

/** Listens for speech; nested verbs (the answer) can be talked over. Posts to `action` even on silence. */
export function gather(action: string, inner: string, o: { language?: string; timeoutSec?: number } = {}): string {
  return `<Gather${attrs({ input: 'speech', action, method: 'POST', speechTimeout: 'auto', actionOnEmptyResult: 'true', language: o.language, timeout: o.timeoutSec ? String(o.timeoutSec) : undefined })}>${inner}</Gather>`;
}

export function redirect(url: string): string {
  return `<Redirect method="POST">${escapeXml(url)}</Redirect>`;
}

export function pause(seconds: number): string {
  return `<Pause length="${Math.max(1, Math.round(seconds))}"/>`;
}

export function hangup(): string {
  return '<Hangup/>';
}

export function twiml(...verbs: string[]): string {
  return `<?xml version="1.0" encoding="UTF-8"?><Response>${verbs.join('')}</Response>`;
}
