/**
 * Provider name -> media support (capture of inbound items). The hook for adapters/contract.ts:
 * each entry is the provider's `adapters/<p>/media.ts`.
 */
import type { ProviderMedia } from './shared/media.js';
import { metaCloudMedia } from './meta_cloud/media.js';
import { telegramMedia } from './telegram/media.js';
import { twilioMedia } from './twilio/media.js';

const MEDIA: ReadonlyMap<string, ProviderMedia> = new Map([
  ['telegram', telegramMedia],
  ['meta_cloud', metaCloudMedia],
  ['twilio', twilioMedia],
]);

export function getProviderMedia(provider: string): ProviderMedia | undefined {
  return MEDIA.get(provider);
}
