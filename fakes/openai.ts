/**
 * A fake of OpenAI's Chat Completions API (`POST /v1/chat/completions`), checking requests as the
 * real API does: `Authorization: Bearer <key>` (401 `invalid_api_key` otherwise), a JSON body with
 * a `model` and a non-empty `messages` array of known roles and content shapes, `tools` as
 * function definitions, `temperature` in [0, 2] (400 `invalid_request_error` naming the `param`).
 * Streamed answers are `chat.completion.chunk` SSE events ending with `data: [DONE]`; tool calls
 * stream as `delta.tool_calls` fragments with `finish_reason: "tool_calls"`, as OpenAI sends them.
 *
 * Scripted per request:
 *   const ai = await startFakeOpenAI();
 *   ai.script = (body) => ({ text: 'Hello!', chunkSize: 3 });   // or { toolCalls: [{ name, arguments }] }
 *
 * Speech to text (`POST /v1/audio/transcriptions`) as OpenAI documents it: the same Bearer check,
 * a multipart/form-data body with a `file` part (a file name whose extension names a supported
 * format: flac, m4a, mp3, mp4, mpeg, mpga, oga, ogg, wav, webm; at most 25 MB) and a `model`
 * field; optional `language` (ISO-639-1), `prompt`, `temperature` and `response_format` (json,
 * text, srt, verbose_json, vtt; verbose_json only for whisper-1). Answers `{text, usage}` for
 * json, the verbose JSON (task, language, duration, text, segments), or plain text:
 *   ai.transcribe = (req) => ({ text: 'hello there' });   // or { status: 500 }
 */
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { hexId } from './fake-server.js';
import { formFields, parseMultipart, type FormPart } from './multipart.js';

export const FAKE_OPENAI_KEY = 'sk-fake-openai-key-for-switchboard-tests';

export interface FakeCompletion {
  /** Text streamed in `chunkSize`-character deltas. */
  text?: string;
  chunkSize?: number;
  chunkDelayMs?: number;
  toolCalls?: { name: string; arguments: Record<string, unknown> }[];
  /** Answer an error instead (OpenAI's error body). */
  status?: number;
  /** Close the connection after this many chunks (a broken stream). */
  breakAfterChunks?: number;
}

export interface ChatRequest {
  headers: IncomingHttpHeaders;
  body: any;
  receivedAt: number;
}

export interface TranscriptionRequest {
  headers: IncomingHttpHeaders;
  /** The text fields (model, language, response_format...). */
  fields: Record<string, string>;
  file: { fileName: string; contentType?: string; bytes: Buffer };
}

export interface FakeTranscription {
  text?: string;
  /** Answer an error instead (OpenAI's error body). */
  status?: number;
}

export interface FakeOpenAI {
  /** Base URL as an OpenAI client takes it: http://127.0.0.1:PORT/v1 */
  baseUrl: string;
  apiKey: string;
  /** Every valid chat completion request, oldest first. */
  requests: ChatRequest[];
  /** Requests refused by the checks (status and error). */
  refused: { status: number; error: unknown }[];
  script: (body: any, n: number) => FakeCompletion | Promise<FakeCompletion>;
  /** Every valid transcription request, oldest first. */
  transcriptions: TranscriptionRequest[];
  transcribe: (req: TranscriptionRequest, n: number) => FakeTranscription | Promise<FakeTranscription>;
  close(): Promise<void>;
}

const ROLES = new Set(['system', 'developer', 'user', 'assistant', 'tool']);

function error(status: number, message: string, param: string | null, code: string | null, type = 'invalid_request_error') {
  return { status, body: { error: { message, type, param, code } } };
}

function checkAuth(headers: IncomingHttpHeaders, apiKey: string): { status: number; body: unknown } | undefined {
  const auth = headers.authorization;
  if (typeof auth !== 'string' || !/^Bearer\s+/i.test(auth)) return error(401, "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).", null, null);
  if (auth.replace(/^Bearer\s+/i, '') !== apiKey) return error(401, 'Incorrect API key provided.', null, 'invalid_api_key');
  return undefined;
}

const AUDIO_FORMATS = ['flac', 'm4a', 'mp3', 'mp4', 'mpeg', 'mpga', 'oga', 'ogg', 'wav', 'webm'];
const RESPONSE_FORMATS = ['json', 'text', 'srt', 'verbose_json', 'vtt'];
const MAX_AUDIO_BYTES = 25 * 1024 * 1024;

/** The checks of the transcription endpoint; the request when it is acceptable. */
function checkTranscription(headers: IncomingHttpHeaders, raw: Buffer, apiKey: string): { bad: { status: number; body: unknown } } | { req: TranscriptionRequest } {
  const auth = checkAuth(headers, apiKey);
  if (auth) return { bad: auth };
  if (!String(headers['content-type'] ?? '').toLowerCase().startsWith('multipart/form-data')) return { bad: error(400, 'Invalid Content-Type header, expected multipart/form-data.', null, null) };
  const parts = parseMultipart(headers['content-type'], raw);
  if (!parts) return { bad: error(400, 'Could not parse multipart form', null, null) };
  const files = parts.filter((p: FormPart) => p.name === 'file');
  if (files.length !== 1 || files[0]!.fileName === undefined) return { bad: error(400, "you must provide a 'file' (one file part)", 'file', null) };
  const file = files[0]!;
  const ext = /\.([a-z0-9]+)$/i.exec(file.fileName ?? '')?.[1]?.toLowerCase();
  if (!ext || !AUDIO_FORMATS.includes(ext)) return { bad: error(400, `Invalid file format. Supported formats: ${JSON.stringify(AUDIO_FORMATS)}`, 'file', 'invalid_value') };
  if (file.bytes.length === 0) return { bad: error(400, 'Audio file is empty.', 'file', null) };
  if (file.bytes.length > MAX_AUDIO_BYTES) return { bad: error(413, `Maximum content size limit (${MAX_AUDIO_BYTES}) exceeded (${file.bytes.length} bytes read)`, 'file', null) };
  const fields = formFields(parts);
  if (!fields.model) return { bad: error(400, 'you must provide a model parameter', 'model', null) };
  const format = fields.response_format ?? 'json';
  if (!RESPONSE_FORMATS.includes(format)) return { bad: error(400, `Invalid value: '${format}'. Supported values are: ${RESPONSE_FORMATS.map((f) => `'${f}'`).join(', ')}.`, 'response_format', 'invalid_value') };
  if (format === 'verbose_json' && fields.model !== 'whisper-1') return { bad: error(400, `response_format 'verbose_json' is not compatible with model '${fields.model}'. Use 'json' or 'text' instead.`, 'response_format', 'unsupported_value') };
  if (fields.language !== undefined && !/^[a-z]{2,3}$/.test(fields.language)) return { bad: error(400, `Invalid language '${fields.language}'. Language parameter must be specified in ISO-639-1 format.`, 'language', 'invalid_language_format') };
  if (fields.temperature !== undefined && !(Number(fields.temperature) >= 0 && Number(fields.temperature) <= 1)) return { bad: error(400, 'temperature must be between 0 and 1', 'temperature', 'invalid_value') };
  return { req: { headers, fields, file: { fileName: file.fileName!, ...(file.contentType ? { contentType: file.contentType } : {}), bytes: file.bytes } } };
}

/** The checks OpenAI applies before it streams anything; undefined when the body is acceptable. */
function check(headers: IncomingHttpHeaders, raw: string, apiKey: string): { status: number; body: unknown } | undefined {
  const auth = checkAuth(headers, apiKey);
  if (auth) return auth;
  if (!String(headers['content-type'] ?? '').includes('application/json')) return error(400, 'Invalid Content-Type header, expected application/json.', null, null);
  let body: any;
  try {
    body = JSON.parse(raw);
  } catch {
    return error(400, 'We could not parse the JSON body of your request.', null, null);
  }
  if (typeof body?.model !== 'string' || !body.model) return error(400, 'you must provide a model parameter', 'model', null);
  if (!Array.isArray(body.messages) || body.messages.length === 0) return error(400, "[] is too short - 'messages'", 'messages', 'empty_array');
  for (const [i, m] of body.messages.entries()) {
    if (!ROLES.has(m?.role)) return error(400, `Invalid value: '${m?.role}'. Supported values are: 'system', 'assistant', 'user', 'tool', and 'developer'.`, `messages[${i}].role`, 'invalid_value');
    const c = m.content;
    const okContent = typeof c === 'string' || (m.role === 'assistant' && (c === null || c === undefined) && Array.isArray(m.tool_calls)) || (Array.isArray(c) && c.every((p: any) => (p?.type === 'text' && typeof p.text === 'string') || (p?.type === 'image_url' && typeof p.image_url?.url === 'string' && m.role === 'user')));
    if (!okContent) return error(400, `Invalid content for messages[${i}]`, `messages[${i}].content`, 'invalid_type');
    if (m.name !== undefined && (typeof m.name !== 'string' || !/^[a-zA-Z0-9_-]{1,64}$/.test(m.name))) return error(400, `Invalid 'messages[${i}].name': string does not match pattern.`, `messages[${i}].name`, 'invalid_value');
  }
  if (body.temperature !== undefined && (typeof body.temperature !== 'number' || body.temperature < 0 || body.temperature > 2)) return error(400, 'temperature must be between 0 and 2', 'temperature', 'invalid_value');
  if (body.stream !== undefined && typeof body.stream !== 'boolean') return error(400, 'stream must be a boolean', 'stream', 'invalid_type');
  if (body.tools !== undefined) {
    if (!Array.isArray(body.tools)) return error(400, 'tools must be an array', 'tools', 'invalid_type');
    for (const [i, t] of body.tools.entries()) {
      if (t?.type !== 'function' || typeof t.function?.name !== 'string' || !/^[a-zA-Z0-9_-]{1,64}$/.test(t.function.name)) return error(400, `Invalid tools[${i}]`, `tools[${i}]`, 'invalid_value');
      if (t.function.parameters !== undefined && t.function.parameters?.type !== 'object') return error(400, `Invalid schema for function '${t.function.name}'`, `tools[${i}].function.parameters`, 'invalid_function_parameters');
    }
  }
  return undefined;
}

export async function startFakeOpenAI(opts: { apiKey?: string } = {}): Promise<FakeOpenAI> {
  const apiKey = opts.apiKey ?? FAKE_OPENAI_KEY;
  const requests: ChatRequest[] = [];
  const refused: { status: number; error: unknown }[] = [];
  const transcriptions: TranscriptionRequest[] = [];
  const fake: FakeOpenAI = {
    baseUrl: '', apiKey, requests, refused, transcriptions,
    script: () => ({ text: 'Hello from the fake model.' }),
    transcribe: () => ({ text: 'This is a fake transcript.' }),
    close: async () => undefined,
  };

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      void (async () => {
        const json = (status: number, body: unknown) => {
          res.writeHead(status, { 'content-type': 'application/json' });
          res.end(JSON.stringify(body));
        };
        if (req.method === 'POST' && req.url?.split('?')[0] === '/v1/audio/transcriptions') {
          const checked = checkTranscription(req.headers, Buffer.concat(chunks), apiKey);
          if ('bad' in checked) {
            refused.push({ status: checked.bad.status, error: checked.bad.body });
            return json(checked.bad.status, checked.bad.body);
          }
          transcriptions.push(checked.req);
          const plan = await fake.transcribe(checked.req, transcriptions.length);
          if (plan.status) return json(plan.status, { error: { message: 'The server had an error while processing your request.', type: 'server_error', param: null, code: null } });
          const text = plan.text ?? '';
          const format = checked.req.fields.response_format ?? 'json';
          if (format === 'verbose_json') {
            const duration = Math.max(1, Math.round(checked.req.file.bytes.length / 4000));
            return json(200, { task: 'transcribe', language: checked.req.fields.language ?? 'english', duration, text, segments: [{ id: 0, seek: 0, start: 0, end: duration, text, tokens: [1], temperature: 0, avg_logprob: -0.2, compression_ratio: 1, no_speech_prob: 0.01 }] });
          }
          if (format !== 'json') {
            res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' });
            return res.end(text);
          }
          return json(200, { text, usage: { type: 'duration', seconds: Math.max(1, Math.round(checked.req.file.bytes.length / 4000)) } });
        }
        if (req.method !== 'POST' || req.url?.split('?')[0] !== '/v1/chat/completions') return json(404, { error: { message: `Invalid URL (${req.method} ${req.url})`, type: 'invalid_request_error', param: null, code: null } });
        const raw = Buffer.concat(chunks).toString('utf8');
        const bad = check(req.headers, raw, apiKey);
        if (bad) {
          refused.push({ status: bad.status, error: bad.body });
          return json(bad.status, bad.body);
        }
        const body = JSON.parse(raw);
        requests.push({ headers: req.headers, body, receivedAt: Date.now() });
        const plan = await fake.script(body, requests.length);
        if (plan.status) return json(plan.status, { error: { message: 'The server had an error while processing your request.', type: 'server_error', param: null, code: null } });
        const id = `chatcmpl-${hexId(12)}`;
        const created = Math.floor(Date.now() / 1000);
        const chunk = (delta: object, finish: string | null) => ({ id, object: 'chat.completion.chunk', created, model: body.model, system_fingerprint: 'fp_fake', choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }] });
        const text = plan.text ?? '';
        const finish = plan.toolCalls?.length ? 'tool_calls' : 'stop';
        if (!body.stream) {
          const message: Record<string, unknown> = { role: 'assistant', content: text || null, refusal: null };
          if (plan.toolCalls?.length) message.tool_calls = plan.toolCalls.map((t, i) => ({ id: `call_${i}`, type: 'function', function: { name: t.name, arguments: JSON.stringify(t.arguments) } }));
          return json(200, { id, object: 'chat.completion', created, model: body.model, choices: [{ index: 0, message, logprobs: null, finish_reason: finish }], usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 } });
        }
        res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache' });
        const events: object[] = [chunk({ role: 'assistant', content: '', refusal: null }, null)];
        const size = plan.chunkSize ?? 4;
        for (let i = 0; i < text.length; i += size) events.push(chunk({ content: text.slice(i, i + size) }, null));
        for (const [i, t] of (plan.toolCalls ?? []).entries()) {
          const args = JSON.stringify(t.arguments);
          events.push(chunk({ tool_calls: [{ index: i, id: `call_${hexId(8)}`, type: 'function', function: { name: t.name, arguments: '' } }] }, null));
          // Arguments arrive in fragments, as OpenAI streams them.
          for (let j = 0; j < args.length; j += 7) events.push(chunk({ tool_calls: [{ index: i, function: { arguments: args.slice(j, j + 7) } }] }, null));
        }
        events.push(chunk({}, finish));
        for (const [n, e] of events.entries()) {
          if (plan.breakAfterChunks !== undefined && n >= plan.breakAfterChunks) {
            res.destroy();
            return;
          }
          res.write(`data: ${JSON.stringify(e)}\n\n`);
          if (plan.chunkDelayMs) await new Promise((r) => setTimeout(r, plan.chunkDelayMs));
        }
        res.end('data: [DONE]\n\n');
      })();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  fake.baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
  fake.close = () => {
    server.closeAllConnections();
    return new Promise((r) => server.close(() => r()));
  };
  return fake;
}
