import type { Store } from '../database.js';
import { AccountsRepo } from './accounts.js';
import { ApiKeysRepo } from './api-keys.js';
import { ChannelsRepo } from './channels.js';
import { InstancesRepo } from './instances.js';
import { EventsRepo } from './events.js';
import { ConversationsRepo } from './conversations.js';
import { InboxRepo } from './inbox.js';
import { JobsRepo } from '../../queue/jobs.js';
import { MediaRepo } from './media.js';
import { TurnsRepo } from './turns.js';
import { WebChatRepo } from './webchat.js';
import { RateBucketsRepo } from './rate-buckets.js';

export interface Repos {
  instances: InstancesRepo;
  apiKeys: ApiKeysRepo;
  accounts: AccountsRepo;
  channels: ChannelsRepo;
  events: EventsRepo;
  conversations: ConversationsRepo;
  inbox: InboxRepo;
  jobs: JobsRepo;
  media: MediaRepo;
  turns: TurnsRepo;
  webchat: WebChatRepo;
  rateBuckets: RateBucketsRepo;
}

export function makeRepos(store: Store): Repos {
  return {
    instances: new InstancesRepo(store.db),
    apiKeys: new ApiKeysRepo(store.db),
    accounts: new AccountsRepo(store.db),
    channels: new ChannelsRepo(store.db),
    events: new EventsRepo(store.db),
    conversations: new ConversationsRepo(store.db),
    inbox: new InboxRepo(store.db, store.dialect),
    jobs: new JobsRepo(store.db, store.dialect),
    media: new MediaRepo(store.db),
    turns: new TurnsRepo(store.db),
    webchat: new WebChatRepo(store.db),
    rateBuckets: new RateBucketsRepo(store.db, store.dialect),
  };
}
