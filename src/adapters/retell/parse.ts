import type { CallEvent, CallPhase, InboundEvent, Party } from '../events.js';
import type { AdapterContext, RawRequest } from '../contract.js';
import { obj, optArr, optNum, optObj, optStr, parseJsonObject, str, type Obj } from '../shared/guards.js';
import { isoFromMillis } from '../shared/time.js';

const PHASES: Record<string, CallPhase> = { call_started: 'started', call_ended: 'ended', call_analyzed: 'analyzed' };

/**
 * Retell call webhooks. conversationKey = call_id; channelIdentity = agent_id (a Retell agent is
 * what a channel is bound to); the dialled number is on `to` (and `from` the caller), so routing by
 * number stays possible. Duplicate call_ended deliveries share providerEventId and dedupe.
 */
export async function parseRetell(req: RawRequest, ctx: AdapterContext): Promise<InboundEvent[]> {
  const body = parseJsonObject(req.body, 'retell webhook');
  const event = str(body.event, 'event');
  const call = obj(body.call, 'call');
  const callId = str(call.call_id, 'call.call_id');
  const agentId = optStr(call.agent_id, 'call.agent_id');
  const phase = PHASES[event];
  const stamp = phase === 'started' ? call.start_timestamp : (call.end_timestamp ?? call.start_timestamp);
  const base = {
    providerEventId: `${callId}:${event}`,
    occurredAt: isoFromMillis(stamp, ctx.now),
    conversationKey: callId,
    ...(agentId ? { channelIdentity: agentId } : {}),
    raw: body,
  };
  if (!phase) return [{ kind: 'unsupported', ...base, providerType: event }];

  const ev: CallEvent = { kind: 'call', ...base, callId, phase };
  const from = numberParty(call.from_number, 'call.from_number');
  const to = numberParty(call.to_number, 'call.to_number');
  if (from) ev.from = from;
  if (to) ev.to = to;
  const direction = optStr(call.direction, 'call.direction');
  if (direction === 'inbound' || direction === 'outbound') ev.direction = direction;
  const transcript = transcriptOf(call);
  if (transcript) ev.transcript = transcript;
  const duration = optNum(call.duration_ms, 'call.duration_ms') ?? spanMs(call);
  if (duration !== undefined) ev.durationMs = duration;
  const reason = optStr(call.disconnection_reason, 'call.disconnection_reason');
  if (reason) ev.disconnectionReason = reason;
  const analysis = optObj(call.call_analysis, 'call.call_analysis');
  const summary = optStr(analysis?.call_summary, 'call.call_analysis.call_summary');
  const sentiment = optStr(analysis?.user_sentiment, 'call.call_analysis.user_sentiment');
  if (summary) ev.summary = summary;
  if (sentiment) ev.sentiment = sentiment;
  // The recording is captured once, from call_ended (call_analyzed repeats the same URL).
  const recording = optStr(call.recording_url, 'call.recording_url');
  if (recording && phase === 'ended') ev.media = [{ kind: 'audio', url: recording, fileName: `${callId}${extensionOf(recording)}`, ...(/\.wav(\?|$)/i.test(recording) ? { mimeType: 'audio/wav' } : {}) }];
  return [ev];
}

/** `.wav` from `https://host/x/recording.wav?sig=...`; empty when the path has none. */
function extensionOf(url: string): string {
  try {
    return /\.[a-z0-9]{2,5}$/i.exec(new URL(url).pathname)?.[0]?.toLowerCase() ?? '';
  } catch {
    return '';
  }
}

function numberParty(v: unknown, path: string): Party | undefined {
  const n = optStr(v, path);
  return n ? { id: n, phone: n } : undefined;
}

function spanMs(call: Obj): number | undefined {
  const s = call.start_timestamp;
  const e = call.end_timestamp;
  return typeof s === 'number' && typeof e === 'number' && e >= s ? e - s : undefined;
}

/** transcript_object turns; else the plain transcript's `Role: text` lines. */
function transcriptOf(call: Obj): { role: string; content: string }[] | undefined {
  const turns = optArr(call.transcript_object, 'call.transcript_object');
  if (turns.length) {
    return turns.map((t, i) => {
      const turn = obj(t, `call.transcript_object[${i}]`);
      return { role: str(turn.role, `call.transcript_object[${i}].role`), content: optStr(turn.content, `call.transcript_object[${i}].content`) ?? '' };
    });
  }
  const text = optStr(call.transcript, 'call.transcript');
  if (!text) return undefined;
  return text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((line) => {
      const m = /^(\w+):\s?(.*)$/.exec(line);
      return m ? { role: m[1].toLowerCase(), content: m[2] } : { role: 'unknown', content: line };
    });
}

