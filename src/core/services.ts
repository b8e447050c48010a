/** The domain services, built once per process and handed to the routes and workers. */
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import type { SecretBox } from '../crypto/secret-box.js';
import { makeGuardedFetch, makeGuardedRequest } from '../net/ssrf.js';
import { Notifier } from '../queue/notifier.js';
import { DEFAULT_SCHEDULE_MS, JobRunner, SEND_SCHEDULE_MS } from '../queue/runner.js';
import type { Store } from '../store/database.js';
import { makeRepos, type Repos } from '../store/repos/index.js';
import { createMetrics, type Metrics } from './metrics-registry.js';
import { AccountsService } from './accounts.js';
import { ApiKeysService } from './api-keys.js';
import { ChannelsService } from './channels.js';
import { AgentDelivery, type AgentLimits, type ReplySink } from './delivery.js';
import { OpenAIBridge } from './bridges/openai-bridge.js';
import { TurnControl } from './turns.js';
import { Inbox } from './inbox.js';
import { EventSequencer } from './event-sequencer.js';
import { channelName } from '../queue/notifier.js';
import { ConversationsService } from './conversations.js';
import { InstancesService } from './instances.js';
import { WebhookMetrics } from './metrics.js';
import { ChannelContexts } from './channel-context.js';
import { RateGovernor } from './outbound/governor.js';
import { ChannelHealth } from './outbound/health.js';
import { SendJob, type WidgetPublisher } from './outbound/send-job.js';
import { OutboundService } from './outbound/service.js';
import { StreamRelay } from './outbound/streaming.js';
import { echoAgent } from '../demo/echo-agent.js';
import { Webhooks } from './webhooks.js';
import { Provisioner } from './provisioning.js';
import { openBlobStore } from '../media/blob-store.js';
import { MediaService } from '../media/service.js';
import { CAPTURE_SCHEDULE_MS, MediaCapture } from '../media/capture.js';

export interface Services {
  config: Config;
  store: Store;
  repos: Repos;
  box: SecretBox;
  log: Logger;
  metrics: Metrics;
  notifier: Notifier;
  instances: InstancesService;
  apiKeys: ApiKeysService;
  accounts: AccountsService;
  channels: ChannelsService;
  inbox: Inbox;
  conversations: ConversationsService;
  webhooks: Webhooks;
  delivery: AgentDelivery;
  outbound: OutboundService;
  governor: RateGovernor;
  health: ChannelHealth;
  contexts: ChannelContexts;
  runner: JobRunner;
  media: MediaService;
  /** Set by the web chat module: pushes outbound messages to widgets. */
  widgets?: WidgetPublisher;
  /** Starts background work (job runner, cross-node notifications). */
  start(): Promise<void>;
  stop(): Promise<void>;
}

export interface ServiceOptions {
  /** PostgreSQL schema the store lives in (tests); namespaces LISTEN/NOTIFY channels. */
  pgSchema?: string;
  replies?: ReplySink;
  scheduleMs?: number[];
  sendScheduleMs?: number[];
  /** Installation-wide agent time limits (tests); instances may set their own. */
  agentLimits?: Partial<AgentLimits>;
  captureScheduleMs?: number[];
}

export function makeServices(config: Config, store: Store, box: SecretBox, log: Logger, opts: ServiceOptions = {}): Services {
  const repos = makeRepos(store);
  const metrics = createMetrics();
  const notifier = new Notifier(log);
  const accounts = new AccountsService(repos, box, config);
  const channels = new ChannelsService(repos, box, accounts, config);
  if (store.writes) {
    store.writes.watch('channels');
    channels.writes = store.writes;
  }
  // Anything a tenant's connection settings name goes through the address check; the operator's
  // SWITCHBOARD_*_API_URL origins are trusted (src/net/ssrf.ts).
  const guardedFetch = makeGuardedFetch({ allowPrivate: config.allowPrivateUrls, trustedOrigins: Object.values(config.providerApi) });
  const blobs = openBlobStore({ spec: config.media.store, dataDir: config.dataDir, accessKeyId: config.media.s3AccessKeyId, secretAccessKey: config.media.s3SecretAccessKey });
  const media = new MediaService(config.media, repos.media, blobs, box.deriveKey('media-links'), () => config.publicUrl, log);
  const sequencer = store.dialect === 'postgres' ? new EventSequencer(repos.inbox, channelName('events', opts.pgSchema), log) : undefined;
  const inbox = new Inbox(repos.inbox, repos.jobs, notifier, opts.pgSchema, sequencer);
  const outbound = new OutboundService(repos, repos.jobs, notifier, opts.pgSchema, inbox, log);
  const bridge = new OpenAIBridge(repos, box, guardedFetch, opts.replies ?? outbound, log, { limits: opts.agentLimits }, (ids) => media.itemsForMessages(ids));
  const delivery = new AgentDelivery(repos, box, makeGuardedRequest(config.allowPrivateUrls), opts.replies ?? outbound, log, { builtins: { echo: (e) => echoAgent(e) }, bridge: (i, e) => bridge.handle(i, e), limits: opts.agentLimits, sequence: sequencer && ((id) => sequencer.sequence(id)), turns: new TurnControl(repos.turns) }, store.writes);
  const conversations = new ConversationsService(repos, inbox, log);
  outbound.conversations = conversations;
  bridge.actions = {
    handoff: (instanceId, conversationId, p) => conversations.handoff(instanceId, conversationId, { reason: p.reason ?? null, by: { kind: 'agent' } }),
    close: (instanceId, conversationId) => conversations.close(instanceId, conversationId, { kind: 'agent' }),
  };
  const governor = new RateGovernor(store.db, store.dialect);
  const health = new ChannelHealth(repos, inbox);
  const contexts = new ChannelContexts(config, repos, accounts, channels, guardedFetch);
  const provisioner = new Provisioner(repos, contexts, log);
  channels.provisioner = provisioner;
  const sendScheduleMs = opts.sendScheduleMs ?? SEND_SCHEDULE_MS;
  // `services` is referenced lazily so the web chat module can attach its publisher after construction.
  let services: Services;
  const relay = new StreamRelay(repos, outbound, contexts, () => services.widgets, log);
  outbound.streamSink = (event, body, type) => relay.relay(event, body, type);
  const capture = new MediaCapture(media, repos, contexts, guardedFetch, log, (opts.captureScheduleMs ?? CAPTURE_SCHEDULE_MS).length + 1);
  inbox.media = capture;
  delivery.mediaWaitMs = (event) => capture.waitMs(event);
  capture.onFinal = async (eventId) => {
    await repos.jobs.hurry('deliver', eventId, new Date().toISOString());
    await notifier.publish('jobs', '');
  };
  const sendJob: SendJob = new SendJob(repos, inbox, contexts, governor, health, log, sendScheduleMs.length + 1, () => services.widgets);
  sendJob.media = media;
  const runner = new JobRunner(repos.jobs, { deliver: (job) => delivery.handle(job), send: (job) => sendJob.handle(job), media: (job) => capture.handle(job) }, notifier, log, {
    concurrency: 16,
    // A running job renews its lease every third of it (runner.ts), so the lease only has to
    // outlast one renewal gap, not the job: a node that dies holds its jobs at most 15 s before
    // another node retries them.
    leaseMs: 15_000,
    pollMs: 500,
    scheduleMs: { deliver: opts.scheduleMs ?? config.deliveryScheduleMs ?? DEFAULT_SCHEDULE_MS, send: sendScheduleMs, media: opts.captureScheduleMs ?? CAPTURE_SCHEDULE_MS },
    jitter: 0.2,
  });
  let renewTimer: NodeJS.Timeout | undefined;
  let bucketsTimer: NodeJS.Timeout | undefined;
  let mediaTimer: NodeJS.Timeout | undefined;
  let handoffTimer: NodeJS.Timeout | undefined;
  services = {
    config,
    store,
    repos,
    box,
    log,
    metrics,
    notifier,
    instances: new InstancesService(repos, box, config.allowPrivateUrls),
    apiKeys: new ApiKeysService(repos, config.adminKey, notifier),
    accounts,
    channels,
    inbox,
    conversations,
    webhooks: new Webhooks(repos, contexts, inbox, new WebhookMetrics(metrics.registry), store.writes),
    delivery,
    outbound,
    governor,
    health,
    contexts,
    runner,
    media,
    async start() {
      // Media retention: hourly on every node (deletes are idempotent).
      mediaTimer = setInterval(() => {
        media.cleanup().catch((err: unknown) => log.error({ err }, 'media cleanup failed'));
      }, 3600_000);
      mediaTimer.unref();
      renewTimer = setInterval(() => {
        provisioner.renewDue().catch((err: unknown) => log.error({ err }, 'renewing provider registrations failed'));
      }, config.gmailWatchCheckMs);
      renewTimer.unref();
      // Idle rate buckets (per chat, per web visitor) are dropped after two hours, hourly.
      bucketsTimer = setInterval(() => {
        governor.prune(2 * 3600_000).catch((err: unknown) => log.error({ err }, 'pruning rate buckets failed'));
      }, 3600_000);
      bucketsTimer.unref();
      handoffTimer = setInterval(() => {
        conversations.resumeIdle().catch((err: unknown) => log.error({ err }, 'resuming idle human conversations failed'));
      }, config.handoffSweepMs);
      handoffTimer.unref();
      if (store.dialect === 'postgres') {
        await notifier.listen(store.url, opts.pgSchema);
        sequencer?.startSweep();
      }
      // SQLite means one process: leases held by a previous run of it are dead, release them now.
      else await repos.jobs.releaseAllLeases();
      runner.start();
    },
    async stop() {
      clearInterval(renewTimer);
      clearInterval(bucketsTimer);
      clearInterval(mediaTimer);
      sequencer?.stop();
      clearInterval(handoffTimer);
      await runner.stop();
      await notifier.close();
    },
  };
  return services;
}
