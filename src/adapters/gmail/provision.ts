/**
 * Gmail: `users.watch` on `config.pubsub_topic`; its historyId is where reading starts. A watch
 * lapses after 7 days and is renewed a day ahead. A renewal keeps the reading cursor
 * (`history_id`): replacing it with the watch's current historyId would skip mail that arrived
 * since the last push. Watching, renewing and stopping change the mailbox's one watch, so each
 * first proves the mailbox is this channel's (users.getProfile): a channel naming another address
 * on the same credential must not point a tenant's mailbox at its own topic, or stop it.
 */
import { ProvisionRefused, type ProvisionContext, type ProvisionPart } from '../contract.js';
import { canonicalEmail } from '../shared/identity.js';
import { gmailClientFor } from './client.js';

/** The client, once the refresh token's mailbox is this channel's address; else ProvisionRefused. */
async function ownMailbox(ctx: ProvisionContext) {
  const gmail = gmailClientFor(ctx);
  const mailbox = canonicalEmail((await gmail.getProfile()).emailAddress);
  const want = canonicalEmail(ctx.externalIdentifier);
  if (!mailbox || mailbox !== want) throw new ProvisionRefused(`The account's mailbox is ${mailbox ?? '?'}, not ${want ?? ctx.externalIdentifier}: fix external_identifier or the account's refresh_token.`);
  return gmail;
}

/** Watches are renewed when less than this is left. */
const RENEW_AHEAD_MS = 24 * 3600 * 1000;

export const gmailProvision: ProvisionPart = {
  async register(ctx) {
    const topic = ctx.config.pubsub_topic;
    if (typeof topic !== 'string') return undefined;
    const r = await (await ownMailbox(ctx)).watch({ topicName: topic, labelIds: ['INBOX'] });
    return { history_id: r.historyId, watch_expiration: r.expiration };
  },
  async deregister(ctx) {
    // Only the mailbox's own channel stops its watch (no topic: this channel never watched).
    if (typeof ctx.config.pubsub_topic !== 'string') return;
    let gmail;
    try {
      gmail = await ownMailbox(ctx);
    } catch (err) {
      if (err instanceof ProvisionRefused) return;
      throw err;
    }
    await gmail.stop();
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
      const r = await (await ownMailbox(ctx)).watch({ topicName: ctx.config.pubsub_topic as string, labelIds: ['INBOX'] });
      return { patch: { watch_expiration: r.expiration }, ifAbsent: { history_id: r.historyId } };
    },
  },
};
