/**
 * Voice-note transcription (optional, per instance): an instance may name an OpenAI-compatible
 * transcription endpoint (`POST {url}/audio/transcriptions`, multipart `file` + `model`,
 * `Authorization: Bearer`). After a voice note or audio file is captured, its bytes go there and
 * the answer's `text` becomes the item's `transcript` (and the message's text when it has none:
 * capture.ts). The API key is write-only: stored encrypted, never returned. A failure leaves the
 * item without a transcript and the event is delivered all the same.
 */
import { isIP } from 'node:net';
import type { Logger } from 'pino';
import type { SecretBox } from '../crypto/secret-box.js';
import { ValidationFailed, valueError, type ValidationIssue } from '../errors.js';
import { checkUrl, isPrivateAddress } from '../net/ssrf.js';
import type { InstancesRepo } from '../store/repos/instances.js';
import type { MediaRow } from '../store/repos/media.js';
import type { AfterCapture } from './capture.js';

/** The public settings (the API key is stored apart, encrypted). */
export interface TranscriptionConfig {
  /** The API base URL (`https://api.openai.com/v1`), or the full `.../audio/transcriptions` URL. */
  url: string;
  model: string;
  /** ISO-639-1 hint for the endpoint (`en`, `de`...). */
  language?: string;
}

/** What a create or PATCH may carry (`null` clears the language). */
export interface TranscriptionInput {
  url?: string;
  model?: string;
  language?: string | null;
  api_key?: string;
}

export const transcriptionKeyAad = (instanceId: string) => `instance:${instanceId}:transcription_api_key`;

/** Transcripts longer than this are cut: the event payload is not the place for a book. */
export const MAX_TRANSCRIPT_CHARS = 20_000;
const TIMEOUT_MS = 60_000;

/** Audio types the OpenAI endpoint recognises, with the file extension it reads the format from. */
const EXTENSIONS: Record<string, string> = {
  'audio/ogg': 'ogg', 'audio/opus': 'ogg', 'audio/mpeg': 'mp3', 'audio/mp3': 'mp3', 'audio/mp4': 'm4a', 'audio/m4a': 'm4a', 'audio/x-m4a': 'm4a',
  'audio/aac': 'm4a', 'audio/wav': 'wav', 'audio/x-wav': 'wav', 'audio/wave': 'wav', 'audio/webm': 'webm', 'audio/flac': 'flac', 'audio/x-flac': 'flac', 'video/mp4': 'mp4', 'video/webm': 'webm',
};

export function parseTranscription(raw: string | null | undefined): TranscriptionConfig | null {
  return raw ? (JSON.parse(raw) as TranscriptionConfig) : null;
}

/** Where the audio is posted: the base URL + `/audio/transcriptions`, unless that is already its path. */
export function transcriptionEndpoint(url: string): string {
  const u = new URL(url);
  if (!/\/audio\/transcriptions\/?$/.test(u.pathname)) u.pathname = `${u.pathname.replace(/\/+$/, '')}/audio/transcriptions`;
  return u.href;
}

/**
 * Refuses, at create and PATCH, a URL delivery would refuse later: private addresses unless
 * allowed, and plain http except to a loopback or private host when private URLs are allowed
 * (the key must not cross the internet in clear text).
 */
export function checkTranscriptionUrl(url: string, allowPrivate: boolean): void {
  const loc = ['body', 'transcription', 'url'];
  const u = new URL(url);
  if (u.protocol !== 'https:') {
    const host = u.hostname.replace(/^\[|\]$/g, '');
    const local = host === 'localhost' || host.endsWith('.localhost') || (isIP(host) !== 0 && isPrivateAddress(host));
    if (!allowPrivate || !local) throw valueError(loc, 'use https:// (plain http is only for a server on a loopback or private address, with SWITCHBOARD_ALLOW_PRIVATE_URLS=true)', url);
  }
  try {
    checkUrl(url, allowPrivate);
  } catch (err) {
    throw valueError(loc, `${(err as Error).message}; set SWITCHBOARD_ALLOW_PRIVATE_URLS=true to reach private networks`, url);
  }
}

/**
 * The settings after a create or PATCH: given members replace stored ones, an absent `api_key`
 * keeps the stored key — but not across a new `url`: the stored key is never sent to a host it
 * was not given for. Complete or 422 (nothing is written).
 */
export function mergeTranscription(current: TranscriptionConfig | null, hasKey: boolean, input: TranscriptionInput, allowPrivate: boolean): { config: TranscriptionConfig; apiKey?: string } {
  const next: Record<string, unknown> = { ...(current ?? {}) };
  for (const k of ['url', 'model', 'language'] as const) {
    if (input[k] === null) delete next[k];
    else if (input[k] !== undefined) next[k] = input[k];
  }
  const issues: ValidationIssue[] = [];
  for (const k of ['url', 'model'] as const) {
    if (typeof next[k] !== 'string') issues.push({ type: 'missing', loc: ['body', 'transcription', k], msg: 'Field required', input });
  }
  const urlChanged = input.url !== undefined && input.url !== current?.url;
  if (input.api_key === undefined && (!hasKey || urlChanged)) {
    issues.push({ type: 'missing', loc: ['body', 'transcription', 'api_key'], msg: urlChanged && hasKey ? 'Field required: a new url needs its api_key (the stored key is not sent to another host)' : 'Field required', input });
  }
  if (issues.length) throw new ValidationFailed(issues);
  checkTranscriptionUrl(next.url as string, allowPrivate);
  return { config: next as unknown as TranscriptionConfig, ...(input.api_key !== undefined ? { apiKey: input.api_key } : {}) };
}

/** Sends captured voice notes and audio to the instance's transcription endpoint. */
export class Transcriber {
  constructor(
    private readonly instances: InstancesRepo,
    private readonly box: SecretBox,
    /** The SSRF-guarded client: the URL is tenant input. */
    private readonly guardedFetch: typeof fetch,
    private readonly log: Logger,
    private readonly timeoutMs = TIMEOUT_MS,
  ) {}

  /** The capture hook: undefined when the instance has no transcription (or the audio is not a kind it takes). */
  readonly afterCapture: AfterCapture = async (row, bytes) => {
    // Messages only: a call's recording comes with the provider's own transcript.
    if (!row.message_id) return undefined;
    const inst = await this.instances.get(row.instance_id);
    const config = parseTranscription(inst?.transcription);
    if (!inst || !config || !inst.transcription_api_key_enc) return undefined;
    const apiKey = this.box.decrypt(inst.transcription_api_key_enc, transcriptionKeyAad(inst.id));
    return this.transcribe(config, apiKey, row, bytes);
  };

  async transcribe(config: TranscriptionConfig, apiKey: string, row: Pick<MediaRow, 'id' | 'mime_type' | 'file_name'>, bytes: Buffer): Promise<string | undefined> {
    const mime = (row.mime_type ?? '').split(';')[0]!.trim().toLowerCase();
    const ext = EXTENSIONS[mime];
    if (!ext) {
      this.log.info({ media: row.id, mime }, 'audio type the transcription endpoint does not take; not transcribed');
      return undefined;
    }
    const form = new FormData();
    // The endpoint reads the format from the file name's extension.
    form.append('file', new Blob([new Uint8Array(bytes)], { type: mime }), `${row.id}.${ext}`);
    form.append('model', config.model);
    form.append('response_format', 'json');
    if (config.language) form.append('language', config.language);
    const signal = AbortSignal.timeout(this.timeoutMs);
    let res: Response;
    try {
      res = await this.guardedFetch(transcriptionEndpoint(config.url), { method: 'POST', headers: { authorization: `Bearer ${apiKey}`, accept: 'application/json' }, body: form, signal });
    } catch (err) {
      throw new Error(`transcription endpoint: ${signal.aborted ? `no answer within ${this.timeoutMs} ms` : (err as Error).message}`);
    }
    const text = await res.text();
    if (res.status !== 200) throw new Error(`transcription endpoint: HTTP ${res.status} ${errorMessage(text)}`.trim());
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      throw new Error('transcription endpoint: the answer is not JSON');
    }
    const t = (body as { text?: unknown } | null)?.text;
    if (typeof t !== 'string') throw new Error('transcription endpoint: the answer has no text');
    const out = t.trim().slice(0, MAX_TRANSCRIPT_CHARS);
    return out || undefined;
  }
}

/** OpenAI's `{error: {message}}`, shortened; never the request (it carries the key). */
function errorMessage(text: string): string {
  try {
    const m = (JSON.parse(text) as { error?: { message?: unknown } }).error?.message;
    return typeof m === 'string' ? `(${m.slice(0, 300)})` : '';
  } catch {
    return '';
  }
}
