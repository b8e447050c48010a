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
import { ChannelsService, ChannelWebhooks } from './channels.js';
import { AgentClient } from './agent-client.js';
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
import { SendJob } from './outbound/send-job.js';
import { OutboundService } from './outbound/service.js';
import { StreamRelay } from './outbound/streaming.js';
import { echoAgent } from '../demo/echo-agent.js';
import { Webhooks } from './webhooks.js';
import { Provisioner } from './provisioning.js';
import { openBlobStore } from '../media/blob-store.js';
import { MediaService } from '../media/service.js';
import { CAPTURE_SCHEDULE_MS, MediaCapture } from '../media/capture.js';
import { WebChat, type WebChatOptions } from './webchat.js';
import { makeWebChatHub, type WebChatHub } from './webchat-hub.js';
import { WebChatMedia } from './webchat-media.js';
import { VoiceAgent } from '../voice/agent-call.js';
import { VoiceService } from '../voice/service.js';
import { TwilioVoice } from '../voice/twilio-voice.js';
import { Transcriber } from '../media/transcription.js';

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
  provisioner: Provisioner;
  /** The web chat hub: pushes messages, streamed text and typing to visitors' widgets. */
  widgets: WebChatHub;
  /** The web chat widget's side (sessions, visitor messages and uploads). */
  webchat: WebChat;
  /** Twilio's voice webhooks and Retell's socket share the voice service. */
  voice: { service: VoiceService; twilio: TwilioVoice };
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
  /** Web chat flood limits (tests). */
  webchat?: Omit<WebChatOptions, 'media' | 'sharedGovernor'>;
}

/**
 * The composition root: every service is built here, once, from constructor arguments, in an
 * order that needs no setter afterwards. The routes (api/), the workers and the tests get the
 * finished graph. Where two services would need each other, one side gets a narrow part instead:
 * the adapter contexts take the channels' webhook facts (ChannelWebhooks), not the channel
 * service that needs the provisioner that needs the contexts; the reply sink the agent deliveries
 * answer through is assembled here from the outbound service and the stream relay, so neither
 * holds the other.
 */
export function makeServices(config: Config, store: Store, box: SecretBox, log: Logger, opts: ServiceOptions = {}): Services {
  const repos = makeRepos(store);
  const metrics = createMetrics();
  const notifier = new Notifier(log);
  store.writes?.watch('channels');
  // Anything a tenant's connection settings name goes through the address check; the operator's
  // SWITCHBOARD_*_API_URL origins are trusted (src/net/ssrf.ts).
  const guardedFetch = makeGuardedFetch({ allowPrivate: config.allowPrivateUrls, trustedOrigins: Object.values(config.providerApi) });
  const blobs = openBlobStore({ spec: config.media.store, dataDir: config.dataDir, accessKeyId: config.media.s3AccessKeyId, secretAccessKey: config.media.s3SecretAccessKey });
  const media = new MediaService(config.media, repos.media, blobs, box.deriveKey('media-links'), () => config.publicUrl, log);

  // Channels, their provider registration and the context any adapter call needs.
  const accounts = new AccountsService(repos, box, config);
  const contexts = new ChannelContexts(config, repos, accounts, new ChannelWebhooks(box, config), guardedFetch);
  const provisioner = new Provisioner(repos, contexts, log);
  const channels = new ChannelsService(repos, box, accounts, config, { provisioner, writes: store.writes });

  // Inbound: media capture wakes the event's waiting delivery when its files are final.
  const capture = new MediaCapture(media, repos, contexts, guardedFetch, log, (opts.captureScheduleMs ?? CAPTURE_SCHEDULE_MS).length + 1, {
    afterCapture: new Transcriber(repos.instances, box, guardedFetch, log).afterCapture,
    onFinal: async (eventId) => {
      await repos.jobs.hurry('deliver', eventId, new Date().toISOString());
      await notifier.publish('jobs', '');
    },
  });
  const sequencer = store.dialect === 'postgres' ? new EventSequencer(repos.inbox, channelName('events', opts.pgSchema), log) : undefined;
  const inbox = new Inbox(repos.inbox, repos.jobs, notifier, opts.pgSchema, sequencer, capture);
  const webhooks = new Webhooks(repos, contexts, inbox, new WebhookMetrics(metrics.registry), store.writes);
  const conversations = new ConversationsService(repos, inbox, log);

  // Web chat: the hub fans messages out to widgets (across nodes on PostgreSQL).
  const webChatMedia = new WebChatMedia(media);
  const widgets = makeWebChatHub(notifier, { message: (id) => repos.conversations.message(id), attachments: async (id) => (await webChatMedia.of([id])).get(id) ?? [] }, log);
  const governor = new RateGovernor(repos.rateBuckets);
  // Several nodes share PostgreSQL: flood buckets live there too, so the limit is not per node.
  const webchat = new WebChat(repos.webchat, repos.channels, channels, webhooks, widgets, config, { ...(store.dialect === 'postgres' ? { sharedGovernor: governor } : {}), media: webChatMedia, ...opts.webchat });

  // Outbound: answers, streamed answers, sends.
  const outbound = new OutboundService(repos, repos.jobs, notifier, opts.pgSchema, inbox, log, conversations);
  const relay = new StreamRelay(repos, outbound, contexts, widgets, log);
  const replies: ReplySink = opts.replies ?? {
    acceptAgentReply: (event, reply, acceptedAt) => outbound.acceptAgentReply(event, reply, acceptedAt),
    acceptAgentStream: (event, body, contentType) => relay.relay(event, body, contentType),
    answerFailed: (event, reason, detail) => outbound.answerFailed(event, reason, detail),
  };
  const bridge = new OpenAIBridge(repos, box, guardedFetch, replies, log, { limits: opts.agentLimits }, (ids) => media.itemsForMessages(ids), {
    handoff: (instanceId, conversationId, p) => conversations.handoff(instanceId, conversationId, { reason: p.reason ?? null, by: { kind: 'agent' } }),
    close: (instanceId, conversationId) => conversations.close(instanceId, conversationId, { kind: 'agent' }),
  });
  // One client for every call to an agent: event deliveries and voice turns.
  const agents = new AgentClient(box, makeGuardedRequest(config.allowPrivateUrls), { echo: (e) => echoAgent(e) });
  const delivery = new AgentDelivery(repos, agents, replies, log, {
    bridge: (i, e) => bridge.handle(i, e),
    limits: opts.agentLimits,
    sequence: sequencer && ((id) => sequencer.sequence(id)),
    turns: new TurnControl(repos.turns),
    mediaWaitMs: (event) => capture.waitMs(event),
  }, store.writes);
  const health = new ChannelHealth(repos, inbox);
  const sendScheduleMs = opts.sendScheduleMs ?? SEND_SCHEDULE_MS;
  const sendJob = new SendJob(repos, inbox, contexts, governor, health, log, sendScheduleMs.length + 1, widgets, media);

  // Voice: a caller is waiting, so the agent is called in-process (no job queue).
  const voiceAgent = new VoiceAgent(agents, { headerTimeoutMs: 10_000, idleMs: 30_000 });
  const voiceService = new VoiceService(repos, inbox, contexts, voiceAgent, log);
  const voice = { service: voiceService, twilio: new TwilioVoice(voiceService, inbox, () => config.publicUrl, { answerTimeoutMs: 8_000, maxPolls: 5 }) };

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
  return {
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
    webhooks,
    delivery,
    outbound,
    governor,
    health,
    contexts,
    runner,
    media,
    provisioner,
    widgets,
    webchat,
    voice,
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
}
