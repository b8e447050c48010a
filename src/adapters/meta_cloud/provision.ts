/**
 * WhatsApp Cloud: nothing to register (webhooks are configured per app at Meta), but with the
 * account's WhatsApp Business Account id (settings.waba_id) its numbers prove which
 * phone_number_id the token may send from; without one there is nothing to check.
 */
import { ProvisionRefused, type ProvisionPart } from '../contract.js';
import { metaCloudApi } from './api.js';
import { metaPhoneNumberId } from './identity.js';

export const metaCloudProvision: ProvisionPart = {
  async register(ctx) {
    const waba = typeof ctx.settings.waba_id === 'string' ? ctx.settings.waba_id : undefined;
    if (!waba) return undefined;
    const numberId = metaPhoneNumberId(ctx.config, ctx.externalIdentifier);
    const held = await metaCloudApi({ accessToken: ctx.secrets.access_token, baseUrl: ctx.apiBaseUrl, fetch: ctx.fetch, timeoutMs: ctx.timeoutMs }).listPhoneNumbers(waba);
    if (!held.some((n) => n.id === numberId)) throw new ProvisionRefused(`Phone number id ${numberId} is not a number of WhatsApp Business Account ${waba}: fix config.phone_number_id or the account's waba_id.`);
    return undefined;
  },
};
