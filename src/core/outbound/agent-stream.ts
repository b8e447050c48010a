/**
 * Reads an agent's streamed answer: `text/event-stream` (each `data:` a JSON `{"delta": "..."}`
 * or `{"text": "..."}`, or plain text; `[DONE]` or an `event: done` ends it) or chunked
 * `text/plain`. Yields text deltas as they arrive.
 */
export async function* agentDeltas(body: AsyncIterable<Uint8Array>, contentType: string): AsyncGenerator<string> {
  const decoder = new TextDecoder();
  if (!contentType.startsWith('text/event-stream')) {
    for await (const chunk of body) {
      const t = decoder.decode(chunk, { stream: true });
      if (t) yield t;
    }
    const rest = decoder.decode();
    if (rest) yield rest;
    return;
  }
  let buf = '';
  for await (const chunk of body) {
    buf += decoder.decode(chunk, { stream: true }).replace(/\r\n?/g, '\n');
    let end: number;
    while ((end = buf.indexOf('\n\n')) >= 0) {
      const block = buf.slice(0, end);
      buf = buf.slice(end + 2);
      const r = sseDelta(block);
      if (r === 'done') return;
      if (r) yield r;
    }
  }
  const r = sseDelta(buf);
  if (r && r !== 'done') yield r;
}

function sseDelta(block: string): string | 'done' | undefined {
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
  if (event === 'done') return 'done';
  if (data.length === 0) return undefined;
  const text = data.join('\n');
  if (text.trim() === '[DONE]') return 'done';
  try {
    const v = JSON.parse(text) as unknown;
    if (v && typeof v === 'object') {
      const o = v as Record<string, unknown>;
      if (typeof o.delta === 'string') return o.delta;
      if (typeof o.text === 'string') return o.text;
      if (typeof o.content === 'string') return o.content;
      return undefined;
    }
    if (typeof v === 'string') return v;
  } catch {
    // not JSON: the data is the text itself
  }
  return text;
}

/** Where a sentence or paragraph ends in `text` (the last such place), or -1. */
export function lastSentenceEnd(text: string): number {
  let best = -1;
  const re = /([.!?…])(["')\]]*)(\s+)|\n\s*\n/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(text))) best = m.index + m[0].length;
  return best;
}
