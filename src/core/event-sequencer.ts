/**
 * PostgreSQL: numbers each instance's events after they commit ("sequencing after commit").
 *
 * Readers page an instance's events by cursor (`seq > after`), so a number must never become
 * visible before a smaller one that commits later. Handing numbers out inside every ingest
 * transaction needs the instance's row lock across that transaction's commit, which made one
 * instance's webhooks serial across all nodes (one commit at a time, ~400/s). Instead ingest
 * transactions insert events unnumbered (invisible to cursors) and lock nothing instance-wide;
 * then one short transaction per instance numbers *every* committed unnumbered event at once
 * (InboxRepo.sequence). Sequencer transactions of one instance still take turns on its row, but
 * each numbers a whole batch, so the turn-taking costs one commit per batch, not per webhook.
 *
 * The ingesting node sequences right after its commit and answers the webhook after that, so a
 * 2xx means the event is readable by cursor (read-your-writes for API clients). If that fails (the
 * database went away between the two), the event is safe but unnumbered; every node sweeps for
 * events left unnumbered for more than a few seconds and numbers them, and a delivery that finds
 * its event unnumbered sequences it first.
 */
import type { Logger } from 'pino';
import type { InboxRepo } from '../store/repos/inbox.js';

/** Events numbered per sequencer statement (a larger backlog takes several). */
const BATCH = 2000;

interface State {
  running: boolean;
  /** Callers that arrived while a run was going: that run may have started before their commit. */
  next?: { promise: Promise<void>; resolve(): void; reject(err: unknown): void };
}

export class EventSequencer {
  private readonly states = new Map<string, State>();
  private sweepTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly repo: InboxRepo,
    private readonly eventsChannel: string,
    private readonly log: Pick<Logger, 'warn'>,
  ) {}

  /** Resolves once a sequencer run that started after this call has finished for the instance. */
  sequence(instanceId: string): Promise<void> {
    let st = this.states.get(instanceId);
    if (!st) {
      st = { running: false };
      this.states.set(instanceId, st);
    }
    if (!st.running) return this.run(instanceId, st);
    if (!st.next) {
      let resolve!: () => void;
      let reject!: (err: unknown) => void;
      const promise = new Promise<void>((res, rej) => {
        resolve = res;
        reject = rej;
      });
      st.next = { promise, resolve, reject };
    }
    return st.next.promise;
  }

  private async run(instanceId: string, st: State): Promise<void> {
    st.running = true;
    try {
      while ((await this.repo.sequence(instanceId, this.eventsChannel, BATCH)) === BATCH);
    } finally {
      st.running = false;
      const next = st.next;
      st.next = undefined;
      if (next) this.run(instanceId, st).then(next.resolve, next.reject);
      else this.states.delete(instanceId);
    }
  }

  /** Every `everyMs`, numbers events another node (or this one) committed but left unnumbered. */
  startSweep(everyMs = 1000, graceMs = 3000): void {
    let busy = false;
    let failing = false;
    const tick = async () => {
      if (busy) return;
      busy = true;
      try {
        const stale = await this.repo.staleUnsequenced(new Date(Date.now() - graceMs).toISOString());
        for (const id of stale) await this.sequence(id);
        failing = false;
      } catch (err) {
        // Once per outage, not every second of it (the database may be restarting).
        if (!failing) this.log.warn({ err }, 'numbering left-over events failed; retrying every second');
        failing = true;
      } finally {
        busy = false;
      }
    };
    this.sweepTimer = setInterval(() => void tick(), everyMs);
    this.sweepTimer.unref();
  }

  stop(): void {
    clearInterval(this.sweepTimer);
  }
}
