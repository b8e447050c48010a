/**
 * The built-in echo agent of the offline demo: an instance whose agent_url is `builtin:echo` is
 * answered in-process by this function instead of over HTTP. It streams its answer a token at a
 * time, with small pauses, so the widget's streaming display can be seen working.
 *
 * @example
 *   for await (const token of echoAgent(envelope)) process.stdout.write(token);  // "You said: hi …"
 */
import type { EventEnvelope } from '../core/event-envelope.js';

export const ECHO_AGENT_URL = 'builtin:echo';

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** The text the envelope's message carries (empty for non-message events). */
function textOf(envelope: EventEnvelope): string {
  const d = envelope.data as { text?: unknown; email?: { text?: unknown; subject?: unknown } };
  if (typeof d.text === 'string') return d.text;
  if (d.email && typeof d.email.text === 'string') return d.email.text;
  return '';
}

export async function* echoAgent(envelope: EventEnvelope, opts: { delayMs?: number } = {}): AsyncIterable<string> {
  if (envelope.type !== 'message.received') return;
  const delay = opts.delayMs ?? 60;
  const said = textOf(envelope).trim();
  const answer = said
    ? `You said: “${said.length > 500 ? said.slice(0, 500) + '…' : said}”. I am the built-in echo agent; point this instance's agent_url at your own agent to answer for real.`
    : 'I can only echo text messages.';
  // Words with their following space: joining the tokens gives back exactly `answer`.
  for (const token of answer.match(/\S+\s*/g) ?? [answer]) {
    await sleep(delay);
    yield token;
  }
}

/**
 * The echo agent's answer as a streamed HTTP-like body (UTF-8 text chunks), for handing to the
 * same code path as an agent that answered `text/plain` in chunks:
 *   await replies.acceptAgentStream(envelope, echoAgentBody(envelope), 'text/plain; charset=utf-8');
 */
export async function* echoAgentBody(envelope: EventEnvelope, opts: { delayMs?: number } = {}): AsyncIterable<Uint8Array> {
  const enc = new TextEncoder();
  for await (const token of echoAgent(envelope, opts)) yield enc.encode(token);
}
