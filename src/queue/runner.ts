/**
 * Runs queued jobs: claims what is due, runs the handler for its kind with bounded concurrency,
 * and records the outcome. It wakes on notifications (a job committed here or on another node)
 * and otherwise polls, so retries scheduled for later are picked up on time.
 */
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import type { JobKind, JobRow, JobsRepo } from './jobs.js';
import type { Notifier } from './notifier.js';

export type JobOutcome =
  | { kind: 'done' }
  /** Try again; `delayMs` overrides the schedule (e.g. a provider's Retry-After). */
  | { kind: 'retry'; error: string; delayMs?: number }
  /** Give up now: nothing a retry could fix. */
  | { kind: 'dead'; error: string }
  /** Not attempted (rate governor said wait): run again after `delayMs` without using an attempt. */
  | { kind: 'defer'; delayMs: number; reason: string };

export type JobHandler = (job: JobRow) => Promise<JobOutcome>;

export interface RunnerOptions {
  concurrency: number;
  /** How long a claim lasts; must exceed the longest handler run (HTTP timeouts included). */
  leaseMs: number;
  pollMs: number;
  /** Per job kind, the delay before attempt n+1 (index n-1); past the end the job is dead. */
  scheduleMs: Partial<Record<JobKind, number[]>>;
  /** +/- fraction of random jitter on each delay so retries from many jobs do not align. */
  jitter: number;
}

/** Svix's published retry schedule: immediately, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h. */
export const DEFAULT_SCHEDULE_MS = [5_000, 300_000, 1_800_000, 7_200_000, 18_000_000, 36_000_000, 36_000_000];

/** The longest pause between claims while claiming fails (a notification still wakes the loop). */
const CLAIM_BACKOFF_MAX_MS = 5_000;

/** Sends to people: shorter, a reply hours late is worth less than a clear failure. */
export const SEND_SCHEDULE_MS = [1_000, 5_000, 30_000, 120_000, 600_000, 1_800_000];

export class JobRunner {
  readonly nodeId = `node-${randomBytes(4).toString('hex')}`;
  private inflight = 0;
  private running = false;
  private wakeTimer: NodeJS.Timeout | undefined;
  private wakeResolve: (() => void) | undefined;
  private loopDone: Promise<void> | undefined;
  private readonly active = new Set<Promise<void>>();
  private unsubscribe: (() => void) | undefined;
  /** Jobs done since the last claim: deleted by the next claim, in its transaction. */
  private finished: JobRow[] = [];
  /** Claims failed in a row (the database is unreachable): the loop backs off. */
  private claimFailures = 0;

  constructor(
    private readonly jobs: JobsRepo,
    private readonly handlers: Partial<Record<JobKind, JobHandler>>,
    private readonly notifier: Notifier,
    private readonly log: Logger,
    private readonly opts: RunnerOptions,
  ) {}

  start(): void {
    if (this.running) return;
    this.running = true;
    this.unsubscribe = this.notifier.on('jobs', () => this.wake());
    this.loopDone = this.loop();
  }

  /** Stops claiming and waits for the jobs in flight (their leases would expire otherwise). */
  async stop(): Promise<void> {
    this.running = false;
    this.unsubscribe?.();
    this.wake();
    await this.loopDone;
    await Promise.allSettled([...this.active]);
    const finished = this.finished.splice(0);
    await this.jobs.completeMany(finished, this.nodeId).catch((err) => this.log.error({ err }, 'recording finished jobs failed'));
  }

  /** A wake that arrives while the loop is busy (claiming) is kept, not lost: the next sleep returns at once. */
  private wokenWhileBusy = false;

  wake(): void {
    if (this.wakeResolve) this.wakeResolve();
    else this.wokenWhileBusy = true;
  }

  private sleep(ms: number): Promise<void> {
    if (this.wokenWhileBusy) {
      this.wokenWhileBusy = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      this.wakeResolve = () => {
        clearTimeout(this.wakeTimer);
        this.wakeResolve = undefined;
        resolve();
      };
      this.wakeTimer = setTimeout(() => this.wakeResolve?.(), ms);
    });
  }

  private async loop(): Promise<void> {
    const kinds = Object.keys(this.handlers) as JobKind[];
    while (this.running) {
      // With jobs in flight and few slots free, let a few more finish first: one claim for several
      // jobs instead of one claim (an UPDATE over the queue) per finished job.
      if (this.inflight > 0 && this.opts.concurrency - this.inflight < Math.ceil(this.opts.concurrency / 2)) {
        await new Promise((r) => setTimeout(r, 2));
      }
      const free = this.opts.concurrency - this.inflight;
      let claimed: JobRow[] = [];
      const finished = this.finished.splice(0);
      if (free > 0 || finished.length > 0) {
        const now = Date.now();
        try {
          claimed = await this.jobs.claim(kinds, this.nodeId, Math.max(0, free), new Date(now).toISOString(), new Date(now + this.opts.leaseMs).toISOString(), finished);
          if (this.claimFailures > 0) this.log.info({ failed_claims: this.claimFailures }, 'claiming jobs works again');
          this.claimFailures = 0;
        } catch (err) {
          // Nothing was deleted: the finished jobs are recorded with the next claim. (If this node
          // dies first, their leases run out and they run again: at-least-once.)
          this.finished.unshift(...finished);
          // The database is away (restart, cut connection): keep trying, more slowly, and say so
          // once rather than twice a second for the whole outage.
          if (this.claimFailures++ === 0) this.log.error({ err }, 'claiming jobs failed; retrying with backoff');
          await this.sleep(Math.min(this.opts.pollMs * 2 ** Math.min(this.claimFailures, 6), CLAIM_BACKOFF_MAX_MS));
          continue;
        }
      }
      for (const job of claimed) this.track(this.run(job));
      if (claimed.length === 0 || claimed.length < free) await this.sleep(claimed.length ? 0 : this.opts.pollMs);
      else await this.sleep(0);
    }
  }

  private track(p: Promise<void>): void {
    this.inflight++;
    this.active.add(p);
    void p.finally(() => {
      this.inflight--;
      this.active.delete(p);
      this.wake();
    });
  }

  private async run(job: JobRow): Promise<void> {
    const handler = this.handlers[job.kind as JobKind];
    let outcome: JobOutcome;
    // A long job (a streamed agent answer) keeps its lease alive, so no other node takes it over
    // while it is still running; a node that dies stops renewing and the lease runs out.
    const renew = setInterval(() => {
      void this.jobs.extend(job, this.nodeId, new Date(Date.now() + this.opts.leaseMs).toISOString()).catch(() => undefined);
    }, Math.max(1000, Math.floor(this.opts.leaseMs / 3)));
    try {
      outcome = handler ? await handler(job) : { kind: 'dead', error: `no handler for ${job.kind}` };
    } catch (err) {
      this.log.error({ err, job: job.seq }, 'job handler threw');
      outcome = { kind: 'retry', error: 'internal error while running the job' };
    } finally {
      clearInterval(renew);
    }
    const now = new Date();
    try {
      if (outcome.kind === 'done') this.finished.push(job);
      else if (outcome.kind === 'dead') await this.jobs.kill(job, this.nodeId, outcome.error, now.toISOString());
      else if (outcome.kind === 'defer') await this.jobs.defer(job, this.nodeId, outcome.reason, new Date(now.getTime() + outcome.delayMs).toISOString(), now.toISOString());
      else {
        const base = outcome.delayMs ?? (this.opts.scheduleMs[job.kind as JobKind] ?? DEFAULT_SCHEDULE_MS)[job.attempts - 1];
        if (base === undefined) await this.jobs.kill(job, this.nodeId, `gave up after ${job.attempts} attempts: ${outcome.error}`, now.toISOString());
        else {
          const delay = Math.max(0, base * (1 + (Math.random() * 2 - 1) * this.opts.jitter));
          await this.jobs.retry(job, this.nodeId, outcome.error, new Date(now.getTime() + delay).toISOString(), now.toISOString());
        }
      }
    } catch (err) {
      // The lease will expire and another attempt will happen: at-least-once, never lost.
      this.log.error({ err, job: job.seq }, 'recording a job outcome failed');
    }
  }
}
