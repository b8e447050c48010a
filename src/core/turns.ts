/**
 * Turn control per channel (`config.turns`, docs/delivery.md): how a person's quick messages
 * reach the agent.
 * - `queue` (default): one event per message, each delivered after the previous one's answer.
 * - `burst`: messages arriving within `debounce_ms` of each other (at most `max_wait_ms` after the
 *   first) reach the agent as one event whose `data.messages[]` holds each of them.
 * - `supersede`: a new message aborts the agent request (or stream) still answering the previous
 *   one; the agent sees the connection close and a `message.status` failed
 *   (`agent_superseded`), and the next event carries the messages it missed in `data.messages[]`.
 *
 * All state lives in the jobs table (a conversation's deliveries share one job group): a burst
 * waits by deferring its first job and then takes the later jobs into it; a superseding message
 * is seen by polling the group for a waiting message. So it works the same whichever node holds
 * the running delivery and whichever node took the new message.
 *
 * @example config: {"turns": {"mode": "burst", "debounce_ms": 2000, "max_wait_ms": 8000}} or {"turns": "supersede"}
 */
import type { JobRow } from '../queue/jobs.js';
import type { TurnsRepo } from '../store/repos/turns.js';
import type { EventEnvelope } from './event-envelope.js';

export type TurnsMode = 'queue' | 'burst' | 'supersede';

export interface TurnsConfig {
  mode: TurnsMode;
  debounceMs: number;
  maxWaitMs: number;
}

export const TURNS_DEFAULTS = { debounceMs: 2_000, maxWaitMs: 8_000 } as const;
const MODES: readonly TurnsMode[] = ['queue', 'burst', 'supersede'];

/** `config.turns` as a mode name or `{mode, debounce_ms, max_wait_ms}`; anything else is `queue`. */
export function turnsOf(config: Record<string, unknown>): TurnsConfig {
  const t = config.turns;
  const o = t && typeof t === 'object' && !Array.isArray(t) ? (t as Record<string, unknown>) : {};
  const mode = typeof t === 'string' ? t : o.mode;
  const num = (v: unknown, d: number) => (typeof v === 'number' && Number.isFinite(v) && v >= 0 ? Math.min(v, 600_000) : d);
  const debounceMs = num(o.debounce_ms, TURNS_DEFAULTS.debounceMs);
  return {
    mode: MODES.includes(mode as TurnsMode) ? (mode as TurnsMode) : 'queue',
    debounceMs,
    maxWaitMs: Math.max(debounceMs, num(o.max_wait_ms, TURNS_DEFAULTS.maxWaitMs)),
  };
}

/** What a delivery job remembers between attempts (jobs.payload). */
export interface TurnPayload {
  /** Events of later messages taken into this delivery (burst, supersede). */
  absorbed?: string[];
  /** Events whose answers were superseded, carried into this one (supersede). */
  superseded?: string[];
}

export function turnPayload(job: JobRow): TurnPayload {
  try {
    return (JSON.parse(job.payload || '{}') as TurnPayload) ?? {};
  } catch {
    return {};
  }
}

export type Prepared = { kind: 'defer'; delayMs: number } | { kind: 'deliver'; envelope: EventEnvelope };

export class TurnControl {
  constructor(
    private readonly repo: TurnsRepo,
    private readonly pollMs = 250,
  ) {}

  /**
   * The envelope to deliver for `job` under `cfg`, or how long to wait first (burst). Later
   * messages already queued are taken into the delivery (burst; supersede too, since delivering
   * the first only to abort it at once would be waste).
   */
  async prepare(job: JobRow, envelope: EventEnvelope, cfg: TurnsConfig, nowMs = Date.now()): Promise<Prepared> {
    const payload = turnPayload(job);
    const absorbedIds = payload.absorbed ?? [];
    const supersededIds = payload.superseded ?? [];
    if (cfg.mode === 'queue' && !absorbedIds.length && !supersededIds.length) return { kind: 'deliver', envelope };

    const first = Date.parse(envelope.created_at);
    let waiting = await this.repo.waitingMessages(job.group_key, job.seq);
    if (cfg.mode === 'burst') waiting = waiting.filter((w) => Date.parse(w.created_at) <= first + cfg.maxWaitMs);
    else if (cfg.mode === 'queue') waiting = [];
    const known = await this.repo.eventPayloads([...supersededIds, ...absorbedIds]);
    const parse = (ids: string[]) => ids.map((id) => known.get(id)).filter((p): p is string => !!p).map((p) => JSON.parse(p) as EventEnvelope);
    const superseded = parse(supersededIds);
    const absorbed = [...parse(absorbedIds), ...waiting.map((w) => JSON.parse(w.payload) as EventEnvelope)];

    if (cfg.mode === 'burst') {
      const last = Math.max(first, ...absorbed.map((e) => Date.parse(e.created_at)));
      const deadline = Math.min(last + cfg.debounceMs, first + cfg.maxWaitMs);
      if (nowMs < deadline) return { kind: 'defer', delayMs: deadline - nowMs };
    }
    if (waiting.length) await this.repo.absorb(job.seq, { ...payload, absorbed: [...absorbedIds, ...waiting.map((w) => w.event_id)] }, waiting.map((w) => w.seq));
    if (!absorbed.length && !superseded.length) return { kind: 'deliver', envelope };
    return { kind: 'deliver', envelope: mergeTurns([...superseded, envelope, ...absorbed], envelope, supersededIds) };
  }

  /**
   * Calls `onNewer` once when a message of the person is queued behind `job` (supersede).
   * Returns the function that stops watching.
   */
  watch(job: JobRow, onNewer: () => void): () => void {
    let busy = false;
    let stopped = false;
    const timer = setInterval(() => {
      if (busy || stopped) return;
      busy = true;
      this.repo
        .hasWaitingMessage(job.group_key, job.seq)
        .then((yes) => {
          if (yes && !stopped) {
            stopped = true;
            clearInterval(timer);
            onNewer();
          }
        })
        .catch(() => undefined)
        .finally(() => (busy = false));
    }, this.pollMs);
    return () => {
      stopped = true;
      clearInterval(timer);
    };
  }

  /** After a superseded answer: the next waiting message's delivery carries this one's messages. */
  async carryForward(job: JobRow, envelope: EventEnvelope): Promise<void> {
    const payload = turnPayload(job);
    const [next] = await this.repo.waitingMessages(job.group_key, job.seq, 1);
    if (!next) return;
    const missed = [...(payload.superseded ?? []), envelope.id, ...(payload.absorbed ?? [])];
    await this.repo.mergePayload(next.seq, { superseded: missed });
  }
}

/**
 * One envelope for several messages, in order: the id and signature of the delivery's own event
 * (so retries and answers stay keyed on it), the newest message's fields (its id is the one an
 * answer threads to), `text` = every text joined by newlines, `messages[]` = each message's data
 * (media included, without the provider's raw payload, which stays on each message's own event).
 */
export function mergeTurns(all: EventEnvelope[], own: EventEnvelope, supersededIds: string[]): EventEnvelope {
  const newest = all[all.length - 1];
  const messages = all.map((e) => {
    const { raw: _raw, ...rest } = e.data as Record<string, unknown>;
    return { event_id: e.id, created_at: e.created_at, ...rest };
  });
  const texts = all.map((e) => e.data.text).filter((t): t is string => typeof t === 'string' && t.length > 0);
  return {
    ...own,
    data: {
      ...newest.data,
      text: texts.join('\n'),
      messages,
      ...(supersededIds.length ? { superseded: { event_ids: supersededIds } } : {}),
    },
  };
}
