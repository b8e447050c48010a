import type { CallEvent, CallPhase, DeliveryStatus, InboundEvent, MediaKind, MediaRef, MessageEvent, Party } from '../events.js';
import type { AdapterContext, RawRequest } from '../contract.js';
import { PayloadError } from '../contract.js';
import { bodyDigest } from '../shared/compare.js';
import { isObj } from '../shared/guards.js';
import { isoFromDateString } from '../shared/time.js';
import { formParams } from './signature.js';

const MESSAGE_STATUS: Record<string, DeliveryStatus> = {
  accepted: 'queued',
  scheduled: 'queued',
  queued: 'queued',
  sending: 'queued',
  sent: 'sent',
  delivered: 'delivered',
  partially_delivered: 'delivered',
  read: 'read',
  failed: 'failed',
  undelivered: 'failed',
  canceled: 'failed',
};

const CALL_PHASE: Record<string, CallPhase> = {
  queued: 'started',
  initiated: 'started',
  ringing: 'started',
  'in-progress': 'started',
  completed: 'ended',
  busy: 'ended',
  'no-answer': 'ended',
  failed: 'ended',
  canceled: 'ended',
};

/** Twilio's own max media per message; bounds the loop on a hostile NumMedia. */
const MAX_MEDIA = 10;

type Fields = Record<string, string>;

/**
 * Inbound SMS/WhatsApp messages, message status callbacks and voice call webhooks.
 * Numbers are kept without the `whatsapp:` prefix (conversationKey and channelIdentity are plain
 * E.164); the channel's type says whether replies need the prefix back.
 */
export async function parseTwilio(req: RawRequest, ctx: AdapterContext): Promise<InboundEvent[]> {
  const f = fieldsOf(req);
  const now = () => new Date(ctx.now()).toISOString();
  const messageStatus = f.MessageStatus ?? (f.SmsStatus !== 'received' ? f.SmsStatus : undefined);
  if (f.MessageSid && messageStatus && messageStatus !== 'received' && messageStatus !== 'receiving') {
    return [statusEvent(f, f.MessageSid, messageStatus, now())];
  }
  if (f.MessageSid) return [messageEvent(f, f.MessageSid, now())];
  if (f.CallSid && f.SpeechResult !== undefined) return [speechEvent(f, f.CallSid, req.body, now())];
  if (f.CallSid && f.CallStatus) return [callEvent(f, f.CallSid, f.CallStatus, ctx)];
  throw new PayloadError('twilio webhook has neither MessageSid nor CallSid + CallStatus');
}

function fieldsOf(req: RawRequest): Fields {
  const out: Fields = {};
  const type = req.headers['content-type'] ?? '';
  if (type.includes('json')) {
    let v: unknown;
    try {
      v = JSON.parse(req.body.toString('utf8'));
    } catch {
      throw new PayloadError('twilio webhook: body is not valid JSON');
    }
    if (!isObj(v)) throw new PayloadError('twilio webhook: body must be a JSON object');
    for (const [k, val] of Object.entries(v)) if (typeof val === 'string' || typeof val === 'number') out[k] = String(val);
    return out;
  }
  // The first value wins for repeated keys; Twilio never repeats the fields read here.
  for (const [k, vals] of formParams(req.body)) if (vals[0] !== '') out[k] = vals[0];
  return out;
}

/** Twilio addresses: `+1555...`, `whatsapp:+1555...`, `client:alice`, `sip:...`. */
function bare(addr: string): string {
  return addr.startsWith('whatsapp:') ? addr.slice('whatsapp:'.length) : addr;
}

function partyOf(addr: string, name?: string): Party {
  const id = bare(addr);
  const p: Party = { id };
  if (/^\+?\d{3,}$/.test(id)) p.phone = id;
  if (name) p.name = name;
  return p;
}

function need(f: Fields, key: string): string {
  const v = f[key];
  if (!v) throw new PayloadError(`twilio webhook: ${key} is missing`);
  return v;
}

function messageEvent(f: Fields, sid: string, occurredAt: string): MessageEvent {
  const from = need(f, 'From');
  const to = need(f, 'To');
  const ev: MessageEvent = {
    kind: 'message',
    providerEventId: sid,
    providerMessageId: sid,
    occurredAt,
    conversationKey: bare(from),
    channelIdentity: bare(to),
    from: partyOf(from, f.ProfileName),
    to: partyOf(to),
    raw: f,
  };
  if (f.Body !== undefined) ev.text = f.Body;
  const media = mediaOf(f);
  if (media.length) ev.media = media;
  if (f.Latitude && f.Longitude) {
    const latitude = Number(f.Latitude);
    const longitude = Number(f.Longitude);
    if (Number.isFinite(latitude) && Number.isFinite(longitude)) ev.location = { latitude, longitude };
  }
  if (f.OriginalRepliedMessageSid) ev.replyToProviderMessageId = f.OriginalRepliedMessageSid;
  if (f.ButtonPayload || f.ButtonText) ev.interactive = { id: f.ButtonPayload ?? f.ButtonText, ...(f.ButtonText ? { title: f.ButtonText } : {}) };
  return ev;
}

function mediaOf(f: Fields): MediaRef[] {
  if (f.NumMedia === undefined) return [];
  if (!/^\d{1,3}$/.test(f.NumMedia)) throw new PayloadError('twilio webhook: NumMedia must be a small integer');
  const n = Math.min(Number(f.NumMedia), MAX_MEDIA);
  const out: MediaRef[] = [];
  for (let i = 0; i < n; i++) {
    const url = need(f, `MediaUrl${i}`);
    const mimeType = f[`MediaContentType${i}`];
    out.push({ kind: mediaKind(mimeType), url, ...(mimeType ? { mimeType } : {}) });
  }
  return out;
}

function mediaKind(mime: string | undefined): MediaKind {
  const top = (mime ?? '').split('/')[0];
  if (top === 'image' || top === 'audio' || top === 'video') return top;
  return mime ? 'document' : 'file';
}

function statusEvent(f: Fields, sid: string, providerStatus: string, occurredAt: string): InboundEvent {
  // Status callbacks are about our outbound message: From is our number, To is the person.
  const base = {
    providerEventId: `${sid}:${providerStatus}`,
    occurredAt,
    ...(f.To ? { conversationKey: bare(f.To) } : {}),
    ...(f.From ? { channelIdentity: bare(f.From) } : {}),
    raw: f,
  };
  const status = MESSAGE_STATUS[providerStatus];
  if (!status) return { kind: 'unsupported', ...base, providerType: `message_status.${providerStatus}` };
  const ev: InboundEvent = { kind: 'status', ...base, providerMessageId: sid, status, providerStatus };
  if (f.ErrorCode) ev.error = { code: f.ErrorCode, ...(f.ErrorMessage ? { message: f.ErrorMessage } : {}) };
  return ev;
}

function callEvent(f: Fields, sid: string, callStatus: string, ctx: AdapterContext): InboundEvent {
  const outbound = (f.Direction ?? '').startsWith('outbound');
  // Voice status callbacks carry an RFC 2822 Timestamp; the incoming-call webhook does not.
  const occurredAt = isoFromDateString(f.Timestamp, ctx.now);
  const ours = outbound ? f.From : f.To;
  const base = { providerEventId: `${sid}:${callStatus}`, occurredAt, conversationKey: sid, ...(ours ? { channelIdentity: bare(ours) } : {}), raw: f };
  const phase = CALL_PHASE[callStatus];
  if (!phase) return { kind: 'unsupported', ...base, providerType: `call_status.${callStatus}` };
  const ev: CallEvent = { kind: 'call', ...base, callId: sid, phase };
  if (f.From) ev.from = partyOf(f.From);
  if (f.To) ev.to = partyOf(f.To);
  if (f.Direction) ev.direction = outbound ? 'outbound' : 'inbound';
  if (f.CallDuration && /^\d+$/.test(f.CallDuration)) ev.durationMs = Number(f.CallDuration) * 1000;
  return ev;
}

/**
 * A <Gather input="speech"> action POST: what the caller said, as a message in the call's
 * conversation. It carries CallStatus=in-progress too, so treating it as a call event would
 * collide with the call's own in-progress event; Twilio gives no per-turn id, so the body digest
 * (stable across Twilio's retries of the same POST) makes the event id.
 */
function speechEvent(f: Fields, sid: string, body: Buffer, occurredAt: string): MessageEvent {
  const outbound = (f.Direction ?? '').startsWith('outbound');
  const caller = outbound ? f.To : f.From;
  const ours = outbound ? f.From : f.To;
  const ev: MessageEvent = {
    kind: 'message',
    providerEventId: `${sid}:speech:${bodyDigest(body)}`,
    providerMessageId: `${sid}:speech:${bodyDigest(body)}`,
    occurredAt,
    conversationKey: sid,
    from: partyOf(caller ?? sid),
    text: f.SpeechResult,
    raw: f,
  };
  if (ours) {
    ev.channelIdentity = bare(ours);
    ev.to = partyOf(ours);
  }
  return ev;
}
