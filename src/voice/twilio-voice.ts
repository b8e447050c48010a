/**
 * Twilio Programmable Voice, answered by the agent. The number's voice URL (set by provisioning)
 * is `/v1/voice/twilio/{channel_id}`:
 *
 *   call   -> greeting (config.greeting) inside <Gather input="speech"> posting to `turn`
 *   turn   -> SpeechResult stored as a message.received event and sent to the agent in-process;
 *             its answer spoken with <Say> (config.voice / config.language), chunked at sentence
 *             ends, inside the next <Gather> (so the caller can talk over it); `end_call` hangs up
 *   (slow) -> past config.answer_timeout_ms (default 8 s; Twilio waits at most 15 s) a filler
 *             <Say> + <Redirect> to `poll`, while the agent request keeps running
 *   silence-> config.reprompt, and after config.max_silences (default 2) config.goodbye + <Hangup/>
 *   status -> CallStatus completed/busy/failed...: call.ended event, pending agent requests aborted
 *
 * Every request is verified with X-Twilio-Signature against the URL rebuilt from PUBLIC_URL, like
 * the inbound adapter (fail closed). Pending answers live in the database — the answer is the
 * turn's outbound message, keyed `voice:<event id>` — so a poll landing on another node finds it;
 * an in-memory promise only lets the node running the request answer the poll without polling
 * the store.
 */
import { twilio } from '../adapters/twilio/index.js';
import { trustedFetch } from '../net/ssrf.js';
import { parseTwilio } from '../adapters/twilio/parse.js';
import { formParams } from '../adapters/twilio/signature.js';
import { verifyTwilio } from '../adapters/twilio/verify.js';
import type { AdapterContext, RawRequest, WebhookReply } from '../adapters/contract.js';
import type { MessageEvent } from '../core/events.js';
import type { Inbox } from '../core/inbox.js';
import { renderSpeech, speechChunks } from '../render/speech.js';
import { AgentCallError } from './agent-call.js';
import type { SavedAnswer, StoredTurn, VoiceChannel, VoiceService } from './service.js';
import { gather, hangup, redirect, say, twiml, type SayOptions } from './twiml.js';

export type TwilioVoiceStep = 'call' | 'turn' | 'poll';

export interface TwilioVoiceOptions {
  /** How long a request waits for the agent before answering a filler (channel config answer_timeout_ms wins). */
  answerTimeoutMs: number;
  /** Polls (each up to answerTimeoutMs) before giving up on a turn. */
  maxPolls: number;
}

const ENDED = new Set(['completed', 'busy', 'no-answer', 'failed', 'canceled']);
const DEFAULTS = {
  greeting: 'Hello! How can I help you?',
  reprompt: 'Are you still there?',
  goodbye: 'Goodbye.',
  filler: 'One moment…',
  still: 'Still working on it.',
  apology: 'Sorry, I could not get an answer just now. Could you say that again?',
};
const DB_POLL_MS = 150;

function xml(body: string): WebhookReply {
  return { status: 200, contentType: 'text/xml', body };
}

function json(status: number, detail: string): WebhookReply {
  return { status, contentType: 'application/json', body: JSON.stringify({ detail }) };
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export class TwilioVoice {
  /** Agent requests running on this node, by turn event id. */
  private readonly pending = new Map<string, Promise<void>>();
  /** Their abort handles, by CallSid (a hang-up cancels them). */
  private readonly calls = new Map<string, Set<AbortController>>();

  constructor(
    private readonly voice: VoiceService,
    private readonly inbox: Inbox,
    private readonly publicUrl: () => string,
    private readonly opts: TwilioVoiceOptions,
  ) {}

  /** The URL to give Twilio as the number's voice URL (and status callback). */
  voiceUrl(channelId: string): string {
    return `${this.publicUrl()}/v1/voice/twilio/${channelId}`;
  }

  async handle(step: TwilioVoiceStep, channelId: string, raw: RawRequest): Promise<WebhookReply> {
    const ch = await this.voice.channel(channelId, twilio);
    if (!ch) return json(404, 'Unknown voice endpoint');
    const ctx: AdapterContext = { verifySecret: ch.verifySecret, secrets: {}, settings: {}, config: ch.config, apiBaseUrl: '', now: Date.now, fetch: trustedFetch };
    const v = await verifyTwilio(raw, ctx);
    if (!v.ok) return json(v.status, v.reason);
    if (ch.row.enabled !== 1) return xml(twiml(hangup()));

    const f: Record<string, string> = {};
    for (const [k, vals] of formParams(raw.body)) if (vals[0] !== '') f[k] = vals[0];
    const query = new URL(raw.publicUrl).searchParams;
    const sid = f.CallSid;
    if (!sid) return json(400, 'CallSid is missing');

    if (f.CallStatus && ENDED.has(f.CallStatus)) {
      for (const a of this.calls.get(sid) ?? []) a.abort();
      this.calls.delete(sid);
      await this.inbox.ingest(ch.row, await parseTwilio(raw, ctx));
      return xml(twiml());
    }
    if (step === 'call') {
      if (f.CallStatus) await this.inbox.ingest(ch.row, await parseTwilio(raw, ctx));
      return xml(twiml(gather(this.turnUrl(ch, 0), this.say(ch, str(ch.config.greeting) ?? DEFAULTS.greeting), { language: str(ch.config.language) }), redirect(this.turnUrl(ch, 0))));
    }
    if (step === 'poll') {
      const turn = query.get('turn') ?? '';
      const n = Number(query.get('n') ?? '1') || 1;
      return xml(await this.answerOrWait(ch, turn, n));
    }
    if (f.SpeechResult?.trim()) return xml(await this.turn(ch, raw, ctx, sid));
    return xml(this.silence(ch, Number(query.get('silence') ?? '0') || 0));
  }

  private async turn(ch: VoiceChannel, raw: RawRequest, ctx: AdapterContext, sid: string): Promise<string> {
    const [ev] = await parseTwilio(raw, ctx);
    const stored = ev?.kind === 'message' ? await this.voice.storeTurn(ch, ev as MessageEvent) : undefined;
    if (!stored) return twiml(gather(this.turnUrl(ch, 0), this.say(ch, DEFAULTS.apology), { language: str(ch.config.language) }));
    // Twilio retried the POST: the first request's agent call is already running (or done).
    if (!stored.duplicate) this.start(ch, stored, sid);
    return this.answerOrWait(ch, stored.eventId, 0);
  }

  private start(ch: VoiceChannel, stored: StoredTurn, sid: string): void {
    const abort = new AbortController();
    const set = this.calls.get(sid) ?? new Set<AbortController>();
    set.add(abort);
    this.calls.set(sid, set);
    const run = async () => {
      const instance = await this.voice.instance(ch);
      let text = '';
      let endCall = false;
      let error: string | undefined;
      try {
        if (!instance) throw new AgentCallError('the instance is gone');
        for await (const part of this.voice.agent.answer(instance, stored.payload, stored.eventId, abort.signal)) {
          if ('endCall' in part) endCall = true;
          else text += part.text;
        }
      } catch (err) {
        if (!(err instanceof AgentCallError)) throw err;
        error = err.message;
        this.voice.log.warn({ call: sid, err: err.message }, 'the agent did not answer the voice turn');
      } finally {
        set.delete(abort);
        if (set.size === 0 && this.calls.get(sid) === set) this.calls.delete(sid);
      }
      if (abort.signal.aborted) return; // the caller hung up: nobody to answer
      await this.voice.saveAnswer(ch, stored, text, { endCall, ...(error ? { error } : {}) });
    };
    const p = run()
      .catch((err: Error) => this.voice.log.error({ err: err.message, call: sid }, 'voice turn failed'))
      .finally(() => this.pending.delete(stored.eventId));
    this.pending.set(stored.eventId, p);
  }

  /** The answer when it comes within the timeout; else a filler and a redirect to poll again. */
  private async answerOrWait(ch: VoiceChannel, eventId: string, n: number): Promise<string> {
    const timeoutMs = num(ch.config.answer_timeout_ms) ?? this.opts.answerTimeoutMs;
    const answer = await this.waitAnswer(ch, eventId, timeoutMs);
    if (answer) return this.speak(ch, answer);
    if (n >= this.opts.maxPolls) return this.speak(ch, { text: null, endCall: false, failed: true });
    const filler = n === 0 ? (str(ch.config.filler) ?? DEFAULTS.filler) : (str(ch.config.still_working) ?? DEFAULTS.still);
    return twiml(this.say(ch, filler), redirect(`${this.base(ch)}/poll?turn=${encodeURIComponent(eventId)}&n=${n + 1}`));
  }

  private async waitAnswer(ch: VoiceChannel, eventId: string, timeoutMs: number): Promise<SavedAnswer | undefined> {
    const deadline = Date.now() + timeoutMs;
    const local = this.pending.get(eventId);
    if (local) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([local, new Promise<void>((r) => (timer = setTimeout(r, timeoutMs)))]);
      clearTimeout(timer);
      return this.voice.findAnswer(ch.row.instance_id, eventId);
    }
    // Another node (or an earlier request) runs the agent call: the store tells when it is done.
    for (;;) {
      const a = await this.voice.findAnswer(ch.row.instance_id, eventId);
      if (a || Date.now() >= deadline) return a;
      await sleep(Math.min(DB_POLL_MS, Math.max(0, deadline - Date.now())));
    }
  }

  private speak(ch: VoiceChannel, a: SavedAnswer): string {
    const lang = { language: str(ch.config.language) };
    if (a.failed) return twiml(gather(this.turnUrl(ch, 0), this.say(ch, str(ch.config.apology) ?? DEFAULTS.apology), lang), redirect(this.turnUrl(ch, 0)));
    // One <Say> per chunk, the first a single sentence: synthesis of it starts before the rest.
    const says = speechChunks(renderSpeech(a.text ?? '')).map((c) => say(c, this.sayOpts(ch))).join('');
    if (a.endCall) return twiml(says, hangup());
    return twiml(gather(this.turnUrl(ch, 0), says, lang), redirect(this.turnUrl(ch, 0)));
  }

  private silence(ch: VoiceChannel, before: number): string {
    const n = before + 1;
    const max = num(ch.config.max_silences) ?? 2;
    if (n >= max) return twiml(this.say(ch, str(ch.config.goodbye) ?? DEFAULTS.goodbye), hangup());
    return twiml(gather(this.turnUrl(ch, n), this.say(ch, str(ch.config.reprompt) ?? DEFAULTS.reprompt), { language: str(ch.config.language) }), redirect(this.turnUrl(ch, n)));
  }

  private say(ch: VoiceChannel, markdown: string): string {
    return say(renderSpeech(markdown).replace(/\n/g, ' '), this.sayOpts(ch));
  }

  private sayOpts(ch: VoiceChannel): SayOptions {
    return { voice: str(ch.config.voice), language: str(ch.config.language) };
  }

  private base(ch: VoiceChannel): string {
    return this.voiceUrl(ch.row.id);
  }

  private turnUrl(ch: VoiceChannel, silence: number): string {
    return `${this.base(ch)}/turn?silence=${silence}`;
  }
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v.trim() ? v : undefined;
}

function num(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : undefined;
}
