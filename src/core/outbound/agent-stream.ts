/**
 * Reads an agent's answer: `text/event-stream` (each `data:` a JSON `{"delta": "..."}`,
 * `{"text"}` or `{"content"}`, or plain text; `[DONE]` or an `event: done` ends it), chunked
 * `text/plain`, or a whole JSON `{"reply": {"text"}}`. Voice adds one thing an agent can say:
 * hang up — `{"reply": {"text", "end_call": true}}`, an SSE `data: {"end_call": true}` block or
 * an `event: end_call` block (chunked text cannot end a call).
 *
 * Text channels' streams (`{controls: true}`) may end the conversation's turn the way a JSON reply
 * can: `"close": true` and `"handoff": {"reason"}` (or `true`) in any `data:` object — a frame of
 * their own or beside a delta, the `event: done` frame included — or `event: close` /
 * `event: handoff` blocks whose optional data is `{"reason": "..."}`. The AI SDK's custom data part
 * `{"type": "data-switchboard", "data": {"close": true}}` reads the same. Without the option these
 * frames are skipped (voice readers only know text and end_call).
 *
 * @example for await (const p of answerParts(res.body, 'text/event-stream')) if ('text' in p) say(p.text);
 */
export type AnswerPart = { text: string } | { endCall: true };
/** What a text stream asks besides its text (applied when it ends, like a JSON reply's). */
export type ControlPart = { close: true } | { handoff: { reason?: string; assignee?: string } };

export function answerParts(body: AsyncIterable<Uint8Array>, contentType: string): AsyncGenerator<AnswerPart>;
export function answerParts(body: AsyncIterable<Uint8Array>, contentType: string, opts: { controls: true }): AsyncGenerator<AnswerPart | ControlPart>;
export async function* answerParts(body: AsyncIterable<Uint8Array>, contentType: string, opts: { controls?: boolean } = {}): AsyncGenerator<AnswerPart | ControlPart> {
  for await (const p of allParts(body, contentType)) if (opts.controls || !('close' in p || 'handoff' in p)) yield p;
}

async function* allParts(body: AsyncIterable<Uint8Array>, contentType: string): AsyncGenerator<AnswerPart | ControlPart> {
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

/** close / handoff asked in a parsed frame (top level, or an AI SDK `data-switchboard` part's data). */
function controlsOf(o: Record<string, unknown>): ControlPart[] {
  const src = o.type === 'data-switchboard' && o.data && typeof o.data === 'object' && !Array.isArray(o.data) ? (o.data as Record<string, unknown>) : o;
  const out: ControlPart[] = [];
  const h = src.handoff;
  if (h === true) out.push({ handoff: {} });
  else if (h && typeof h === 'object' && !Array.isArray(h)) {
    const { reason, assignee } = h as { reason?: unknown; assignee?: unknown };
    out.push({ handoff: { ...(typeof reason === 'string' ? { reason } : {}), ...(typeof assignee === 'string' ? { assignee } : {}) } });
  }
  if (src.close === true) out.push({ close: true });
  return out;
}

/** The optional `{"reason"}` of an `event: handoff` block. */
function reasonOf(data: string): { reason?: string; assignee?: string } {
  try {
    const v = JSON.parse(data) as { reason?: unknown; assignee?: unknown } | null;
    return { ...(typeof v?.reason === 'string' ? { reason: v.reason } : {}), ...(typeof v?.assignee === 'string' ? { assignee: v.assignee } : {}) };
  } catch {
    return data.trim() ? { reason: data.trim() } : {};
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

function sseBlock(block: string): (AnswerPart | ControlPart | 'done')[] {
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
  if (event === 'end_call') return [{ endCall: true }];
  if (event === 'close') return [{ close: true }];
  if (event === 'handoff') return [{ handoff: reasonOf(data.join('\n')) }];
  if (event === 'done') {
    // The final frame may carry what the answer asks: `event: done` + `data: {"close": true}`.
    try {
      const v = JSON.parse(data.join('\n')) as unknown;
      return [...(v && typeof v === 'object' && !Array.isArray(v) ? controlsOf(v as Record<string, unknown>) : []), 'done'];
    } catch {
      return ['done'];
    }
  }
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
  const out: (AnswerPart | ControlPart)[] = [];
  // Typed frames that are not the answer's text — the AI SDK's `reasoning-delta`, OpenAI's
  // `response.reasoning_summary_text.delta` — carry a `delta` too: the model's thinking is not
  // for the person.
  const thinking = typeof o.type === 'string' && /reason|thinking/i.test(o.type);
  const t = thinking ? undefined : typeof o.delta === 'string' ? o.delta : typeof o.text === 'string' ? o.text : typeof o.content === 'string' ? o.content : undefined;
  if (t) out.push({ text: t });
  if (o.end_call === true) out.push({ endCall: true });
  out.push(...controlsOf(o));
  return out;
}

/** The text deltas of a streamed answer (`text/event-stream` or chunked text), as they arrive. */
export async function* agentDeltas(body: AsyncIterable<Uint8Array>, contentType: string): AsyncGenerator<string> {
  for await (const p of streamParts(body, contentType)) if ('text' in p) yield p.text;
}

/** A streamed answer's text deltas and the close / handoff it asks for, as they arrive. */
export async function* streamParts(body: AsyncIterable<Uint8Array>, contentType: string): AsyncGenerator<{ text: string } | ControlPart> {
  const type = contentType.toLowerCase().startsWith('text/event-stream') ? contentType : 'text/plain';
  for await (const p of answerParts(body, type, { controls: true })) if (!('endCall' in p)) yield p;
}

/** Where a sentence or paragraph ends in `text` (the last such place), or -1. */
export function lastSentenceEnd(text: string): number {
  let best = -1;
  const re = /([.!?…])(["')\]]*)(\s+)|\n\s*\n/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(text))) best = m.index + m[0].length;
  return best;
}
