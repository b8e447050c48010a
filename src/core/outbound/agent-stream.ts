/**
 * Reads an agent's answer: `text/event-stream` (each `data:` a JSON `{"delta": "..."}`,
 * `{"text"}` or `{"content"}`, or plain text; `[DONE]` or an `event: done` ends it), chunked
 * `text/plain`, or a whole JSON `{"reply": {"text"}}`. Voice adds one thing an agent can say:
 * hang up — `{"reply": {"text", "end_call": true}}`, an SSE `data: {"end_call": true}` block or
 * an `event: end_call` block (chunked text cannot end a call).
 *
 * @example for await (const p of answerParts(res.body, 'text/event-stream')) if ('text' in p) say(p.text);
 */
export type AnswerPart = { text: string } | { endCall: true };

export async function* answerParts(body: AsyncIterable<Uint8Array>, contentType: string): AsyncGenerator<AnswerPart> {
  const type = contentType.toLowerCase();
  const decoder = new TextDecoder();
  if (type.includes('json')) {
    let raw = '';
    for await (const chunk of body) raw += decoder.decode(chunk, { stream: true });
    raw += decoder.decode();
    yield* jsonReply(raw);
    return;
  }
  if (!type.startsWith('text/event-stream')) {
    if (!type.startsWith('text/plain')) {
      for await (const _ of body) void _; // an answer we cannot speak: drained, nothing said
      return;
    }
    for await (const chunk of body) {
      const t = decoder.decode(chunk, { stream: true });
      if (t) yield { text: t };
    }
    const rest = decoder.decode();
    if (rest) yield { text: rest };
    return;
  }
  let buf = '';
  for await (const chunk of body) {
    buf += decoder.decode(chunk, { stream: true }).replace(/\r\n?/g, '\n');
    let end: number;
    while ((end = buf.indexOf('\n\n')) >= 0) {
      const block = buf.slice(0, end);
      buf = buf.slice(end + 2);
      for (const p of sseBlock(block)) {
        if (p === 'done') return;
        yield p;
      }
    }
  }
  for (const p of sseBlock(buf)) {
    if (p === 'done') return;
    yield p;
  }
}

function* jsonReply(raw: string): Generator<AnswerPart> {
  let v: unknown;
  try {
    v = JSON.parse(raw);
  } catch {
    return;
  }
  const r = (v as { reply?: unknown } | null)?.reply;
  if (!r || typeof r !== 'object') return;
  const reply = r as { text?: unknown; end_call?: unknown };
  if (typeof reply.text === 'string' && reply.text) yield { text: reply.text };
  if (reply.end_call === true) yield { endCall: true };
}

function sseBlock(block: string): (AnswerPart | 'done')[] {
  let event = 'message';
  const data: string[] = [];
  for (const line of block.split('\n')) {
    if (line.startsWith(':')) continue;
    const i = line.indexOf(':');
    const field = i < 0 ? line : line.slice(0, i);
    const value = i < 0 ? '' : line.slice(i + 1).replace(/^ /, '');
    if (field === 'event') event = value;
    else if (field === 'data') data.push(value);
  }
  if (event === 'done') return ['done'];
  if (event === 'end_call') return [{ endCall: true }];
  if (data.length === 0) return [];
  const text = data.join('\n');
  if (text.trim() === '[DONE]') return ['done'];
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return [{ text }]; // not JSON: the data is the text itself
  }
  if (typeof v === 'string') return [{ text: v }];
  if (!v || typeof v !== 'object') return [{ text }];
  const o = v as Record<string, unknown>;
  const out: AnswerPart[] = [];
  const t = typeof o.delta === 'string' ? o.delta : typeof o.text === 'string' ? o.text : typeof o.content === 'string' ? o.content : undefined;
  if (t) out.push({ text: t });
  if (o.end_call === true) out.push({ endCall: true });
  return out;
}

/** The text deltas of a streamed answer (`text/event-stream` or chunked text), as they arrive. */
export async function* agentDeltas(body: AsyncIterable<Uint8Array>, contentType: string): AsyncGenerator<string> {
  const type = contentType.toLowerCase().startsWith('text/event-stream') ? contentType : 'text/plain';
  for await (const p of answerParts(body, type)) if ('text' in p) yield p.text;
}

/** Where a sentence or paragraph ends in `text` (the last such place), or -1. */
export function lastSentenceEnd(text: string): number {
  let best = -1;
  const re = /([.!?…])(["')\]]*)(\s+)|\n\s*\n/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(text))) best = m.index + m[0].length;
  return best;
}
