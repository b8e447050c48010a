import type { Store } from '../database.js';
import { AccountsRepo } from './accounts.js';
import { ApiKeysRepo } from './api-keys.js';
import { ChannelsRepo } from './channels.js';
import { InstancesRepo } from './instances.js';

export interface Repos {
  instances: InstancesRepo;
  apiKeys: ApiKeysRepo;
  accounts: AccountsRepo;
  channels: ChannelsRepo;
}

export function makeRepos(store: Store): Repos {
  return {
    instances: new InstancesRepo(store.db),
    apiKeys: new ApiKeysRepo(store.db),
    accounts: new AccountsRepo(store.db),
    channels: new ChannelsRepo(store.db),
  };
}
