/**
 * Gmail: `users.watch` on `config.pubsub_topic`; its historyId is where reading starts. A watch
 * lapses after 7 days and is renewed a day ahead. A renewal keeps the reading cursor
 * (`history_id`): replacing it with the watch's current historyId would skip mail that arrived
 * since the last push.
 */
import type { ProvisionPart } from '../contract.js';
import { gmailClientFor } from './client.js';

/** Watches are renewed when less than this is left. */
const RENEW_AHEAD_MS = 24 * 3600 * 1000;

export const gmailProvision: ProvisionPart = {
  async register(ctx) {
    const topic = ctx.config.pubsub_topic;
    if (typeof topic !== 'string') return undefined;
    const r = await gmailClientFor(ctx).watch({ topicName: topic, labelIds: ['INBOX'] });
    return { history_id: r.historyId, watch_expiration: r.expiration };
  },
  async deregister(ctx) {
    await gmailClientFor(ctx).stop();
  },
  renew: {
    // No expiration yet: the channel is being provisioned (or its provisioning failed, and
    // enabling it again retries): the first watch is provisioning's, not the renewal's.
    due(config, now) {
      if (typeof config.pubsub_topic !== 'string') return false;
      const ends = Number(config.watch_expiration);
      return Boolean(config.watch_expiration) && Number.isFinite(ends) && ends - now <= RENEW_AHEAD_MS;
    },
    async run(ctx) {
      const r = await gmailClientFor(ctx).watch({ topicName: ctx.config.pubsub_topic as string, labelIds: ['INBOX'] });
      return { patch: { watch_expiration: r.expiration }, ifAbsent: { history_id: r.historyId } };
    },
  },
};
