/**
 * What an agent answers to a `message.received` event, built with `reply.*` and returned from the
 * handler: whole text, a stream of deltas, a handoff to a person, or closing the conversation.
 * Switchboard renders the Markdown for the channel and streams where the channel can show it.
 */

/** Anything a stream of text can come as: strings, bytes, OpenAI chunks, AI SDK stream parts. */
export type StreamPiece = string | Uint8Array | { choices?: { delta?: { content?: string | null } }[] } | { type: string; text?: string; textDelta?: string; delta?: string };
export type StreamSource = AsyncIterable<StreamPiece> | ReadableStream<StreamPiece>;

export interface ReplyOptions {
  attachments?: { url: string; kind?: string; file_name?: string }[];
  /** Our id of the message this answers (defaults to the event's message on most channels). */
  reply_to?: string;
  /** Hand the conversation to a person after this answer. */
  handoff?: { reason?: string; assignee?: string };
  /** Close the conversation after this answer. */
  close?: boolean;
  /** Voice: hang up after saying this. */
  end_call?: boolean;
}

/** What a streamed answer asks besides its text (Switchboard applies it when the stream ends). */
export interface StreamOptions {
  /** Hand the conversation to a person after this answer (stands even if the stream breaks). */
  handoff?: { reason?: string; assignee?: string };
  /** Close the conversation after this answer (only when the stream ends cleanly). */
  close?: boolean;
}

export type Answer =
  | { kind: 'json'; body: { reply: Record<string, unknown> } }
  | { kind: 'stream'; source: StreamSource; options?: StreamOptions }
  | { kind: 'none' };

function json(text: string | undefined, opts: ReplyOptions = {}): Answer {
  const reply: Record<string, unknown> = {};
  if (text !== undefined) reply.text = text;
  for (const [k, v] of Object.entries(opts)) if (v !== undefined) reply[k] = v;
  return { kind: 'json', body: { reply } };
}

export const reply = {
  /** One whole answer (Markdown). */
  text: (text: string, opts?: ReplyOptions): Answer => json(text, opts),
  /** A streamed answer: an AI SDK `textStream`, an OpenAI stream, any async iterable of strings, or a ReadableStream. */
  stream: (source: StreamSource, options?: StreamOptions): Answer => ({ kind: 'stream', source, ...(options ? { options } : {}) }),
  /** Hand the conversation to a person (optionally saying something first). */
  handoff: (opts: { reason?: string; assignee?: string; text?: string } = {}): Answer => {
    const { text, ...handoff } = opts;
    return json(text, { handoff });
  },
  /** Close the conversation (optionally with a last message). */
  close: (opts: { text?: string } = {}): Answer => json(opts.text, { close: true }),
  /** No answer now (the agent may send later through the API). */
  none: (): Answer => ({ kind: 'none' }),
};

/** The text of one stream piece, whatever produced it. */
export function pieceText(p: StreamPiece, decoder: TextDecoder): string {
  if (typeof p === 'string') return p;
  if (p instanceof Uint8Array) return decoder.decode(p, { stream: true });
  if ('choices' in p && Array.isArray(p.choices)) return p.choices[0]?.delta?.content ?? '';
  if ('type' in p) {
    if (p.type === 'text-delta' || p.type === 'text') return p.text ?? p.textDelta ?? p.delta ?? '';
    return ''; // tool calls, reasoning, step markers: not for the person
  }
  return '';
}

async function* iterate<T>(source: AsyncIterable<T> | ReadableStream<T>): AsyncGenerator<T> {
  if (Symbol.asyncIterator in source) {
    yield* source as AsyncIterable<T>;
    return;
  }
  const reader = (source as ReadableStream<T>).getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      yield value;
    }
  } finally {
    reader.releaseLock();
  }
}

/**
 * The answer as Switchboard reads a stream: SSE `data: {"delta": "..."}` blocks, then `[DONE]`.
 * A handoff or close goes first, in a control frame of its own (`data: {"handoff": {...}}`), so a
 * handoff reaches Switchboard even when the source fails midway.
 */
export async function* sseBytes(source: StreamSource, options: StreamOptions = {}): AsyncGenerator<Uint8Array> {
  const enc = new TextEncoder();
  const dec = new TextDecoder();
  const control: Record<string, unknown> = {};
  if (options.handoff) control.handoff = options.handoff;
  if (options.close === true) control.close = true;
  if (Object.keys(control).length) yield enc.encode(`data: ${JSON.stringify(control)}\n\n`);
  for await (const piece of iterate(source)) {
    const t = pieceText(piece, dec);
    if (t) yield enc.encode(`data: ${JSON.stringify({ delta: t })}\n\n`);
  }
  yield enc.encode('data: [DONE]\n\n');
}
