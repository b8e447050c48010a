/** The domain services, built once per process and handed to the routes. */
import type { Config } from '../config.js';
import type { SecretBox } from '../crypto/secret-box.js';
import type { Store } from '../store/database.js';
import { makeRepos, type Repos } from '../store/repos/index.js';
import { AccountsService } from './accounts.js';
import { ApiKeysService } from './api-keys.js';
import { ChannelsService } from './channels.js';
import { InstancesService } from './instances.js';

export interface Services {
  config: Config;
  store: Store;
  repos: Repos;
  box: SecretBox;
  instances: InstancesService;
  apiKeys: ApiKeysService;
  accounts: AccountsService;
  channels: ChannelsService;
}

export function makeServices(config: Config, store: Store, box: SecretBox): Services {
  const repos = makeRepos(store);
  const accounts = new AccountsService(repos, box);
  return {
    config,
    store,
    repos,
    box,
    instances: new InstancesService(repos, box),
    apiKeys: new ApiKeysService(repos, config.adminKey),
    accounts,
    channels: new ChannelsService(repos, box, accounts, config),
  };
}
