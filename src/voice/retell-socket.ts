/**
 * One Retell custom-LLM WebSocket (one phone call). Retell sends the live transcript; each
 * `response_required` / `reminder_required` becomes a `message.received` event (stored through
 * the inbox, conversation key = call id, providerEventId `<call_id>:<response_id>`, the Retell
 * frame in `data.raw` — transcript included) sent straight to the agent, whose answer streams
 * back as `response` frames made speakable. A newer response_id supersedes the one in flight:
 * its agent request is aborted and no frame carries the old id again.
 *
 * Protocol (docs.retellai.com, custom LLM WebSocket): we send `config` first (asking for
 * `call_details`), answer `ping_pong`, and frame answers as
 * `{response_type: "response", response_id, content, content_complete, end_call?}`.
 */
import type { WebSocket } from 'ws';
import type { MessageEvent, Party } from '../core/events.js';
import type { InstanceRow } from '../store/repos/instances.js';
import { AgentCallError } from './agent-call.js';
import type { StoredTurn, VoiceChannel, VoiceService } from './service.js';
import { clip } from './service.js';
import { SpeakableStream } from './speakable.js';
import { renderSpeech } from '../render/speech.js';

/** Retell sends call_details right after our config; turns wait for it at most this long. */
const DETAILS_WAIT_MS = 2_000;
const APOLOGY = 'Sorry, I could not get an answer just now. Could you say that again?';

interface TranscriptTurn {
  role: string;
  content: string;
}

interface RetellFrame {
  interaction_type?: string;
  response_id?: number;
  transcript?: TranscriptTurn[];
  timestamp?: number;
  call?: Record<string, unknown>;
}

interface Turn {
  responseId: number;
  abort: AbortController;
}

/** What the caller said since the agent last spoke. */
export function latestUtterance(transcript: TranscriptTurn[] | undefined): string {
  const turns = Array.isArray(transcript) ? transcript : [];
  const out: string[] = [];
  for (let i = turns.length - 1; i >= 0; i--) {
    const t = turns[i];
    if (!t || typeof t !== 'object') continue;
    if (t.role !== 'user') break;
    if (typeof t.content === 'string' && t.content.trim()) out.unshift(t.content.trim());
  }
  return out.join(' ');
}

export class RetellSession {
  private current: Turn | undefined;
  private from: Party | undefined;
  private to: Party | undefined;
  private detailsSeen!: (ok: boolean) => void;
  private readonly details: Promise<boolean>;
  private instance: Promise<InstanceRow | undefined>;
  private closed = false;

  constructor(
    private readonly voice: VoiceService,
    private readonly ch: VoiceChannel,
    private readonly callId: string,
    private readonly ws: WebSocket,
  ) {
    this.details = new Promise<boolean>((resolve) => {
      this.detailsSeen = resolve;
      setTimeout(() => resolve(true), DETAILS_WAIT_MS).unref();
    });
    this.instance = voice.instance(ch);
  }

  start(): void {
    this.ws.on('message', (data, isBinary) => {
      if (isBinary) return;
      let frame: RetellFrame;
      try {
        frame = JSON.parse(String(data)) as RetellFrame;
      } catch {
        return; // not JSON: nothing Retell sends
      }
      if (!frame || typeof frame !== 'object') return;
      this.onFrame(frame);
    });
    this.ws.on('close', () => this.close());
    this.ws.on('error', () => this.close());
    this.send({ response_type: 'config', config: { auto_reconnect: true, call_details: true } });
    const greeting = this.ch.config.greeting;
    if (typeof greeting === 'string' && greeting.trim()) {
      // response_id 0 is Retell's "agent speaks first".
      this.send({ response_type: 'response', response_id: 0, content: renderSpeech(greeting).replace(/\n/g, ' '), content_complete: true });
    }
  }

  /** Ends the session: the answer in flight is abandoned and its agent request aborted. */
  close(): void {
    this.closed = true;
    this.current?.abort.abort();
    this.current = undefined;
    this.detailsSeen(false);
  }

  private onFrame(f: RetellFrame): void {
    switch (f.interaction_type) {
      case 'ping_pong':
        this.send({ response_type: 'ping_pong', timestamp: typeof f.timestamp === 'number' ? f.timestamp : Date.now() });
        return;
      case 'call_details':
        this.onDetails(f.call ?? {});
        return;
      case 'response_required':
      case 'reminder_required':
        if (typeof f.response_id !== 'number') return;
        void this.respond(f.response_id, f).catch((err: Error) => this.voice.log.error({ err: err.message, call: this.callId }, 'voice turn failed'));
        return;
      default:
        return; // update_only: the transcript arrives again with the next response_required
    }
  }

  private onDetails(call: Record<string, unknown>): void {
    const agentId = typeof call.agent_id === 'string' ? call.agent_id : undefined;
    const toNumber = typeof call.to_number === 'string' ? call.to_number : undefined;
    const fromNumber = typeof call.from_number === 'string' ? call.from_number : undefined;
    const want = typeof this.ch.config.agent_id === 'string' ? this.ch.config.agent_id : undefined;
    const ident = this.ch.row.external_identifier.toLowerCase();
    const ours = want ? agentId === want : [agentId, toNumber].some((v) => v !== undefined && v.toLowerCase() === ident);
    if (!ours || (typeof call.call_id === 'string' && call.call_id !== this.callId)) {
      this.voice.log.warn({ channel: this.ch.row.id, call: this.callId, agent_id: agentId }, 'retell call_details do not match the channel: socket closed');
      this.detailsSeen(false);
      this.ws.close(1008, 'call does not belong to this channel');
      return;
    }
    if (fromNumber) this.from = { id: fromNumber, phone: fromNumber };
    if (toNumber) this.to = { id: toNumber, phone: toNumber };
    this.detailsSeen(true);
  }

  private async respond(responseId: number, frame: RetellFrame): Promise<void> {
    this.current?.abort.abort();
    const turn: Turn = { responseId, abort: new AbortController() };
    this.current = turn;
    const live = () => this.current === turn && !this.closed;

    if (!(await this.details) || !live()) return;
    const ev: MessageEvent = {
      kind: 'message',
      providerEventId: `${this.callId}:${responseId}`,
      providerMessageId: `${this.callId}:${responseId}`,
      occurredAt: new Date().toISOString(),
      conversationKey: this.callId,
      from: this.from ?? { id: this.callId },
      ...(this.to ? { to: this.to } : {}),
      text: latestUtterance(frame.transcript),
      raw: frame,
    };
    const stored = await this.voice.storeTurn(this.ch, ev);
    const instance = await this.instance;
    if (!stored || !instance || !live()) return;

    const speech = new SpeakableStream();
    let said = '';
    let spoken = false;
    let endCall = false;
    let error: string | undefined;
    try {
      for await (const part of this.voice.agent.answer(instance, stored.payload, stored.eventId, turn.abort.signal)) {
        if (!live()) break;
        if ('endCall' in part) {
          endCall = true;
          continue;
        }
        said += part.text;
        const content = speech.push(part.text);
        if (content) {
          spoken = true;
          this.send({ response_type: 'response', response_id: responseId, content, content_complete: false });
        }
      }
    } catch (err) {
      if (!(err instanceof AgentCallError)) throw err;
      error = err.message;
      this.voice.log.warn({ call: this.callId, err: err.message }, 'the agent did not answer the voice turn');
    }
    if (!live()) {
      if (spoken) await this.voice.saveAnswer(this.ch, stored, said, { interrupted: true });
      return;
    }
    const rest = error ? (spoken ? '' : APOLOGY) : speech.end();
    this.send({ response_type: 'response', response_id: responseId, content: rest, content_complete: true, ...(endCall ? { end_call: true } : {}) });
    this.current = undefined;
    this.voice.log.debug({ call: this.callId, response_id: responseId, said: clip(said) }, 'voice turn answered');
    await this.voice.saveAnswer(this.ch, stored, said, { endCall, ...(error ? { error } : {}) });
  }

  private send(frame: Record<string, unknown>): void {
    if (this.ws.readyState === this.ws.OPEN) this.ws.send(JSON.stringify(frame));
  }
}
