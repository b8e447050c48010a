// @ts-check
// What the server says about its providers (GET /v1/providers): the dashboard keeps no provider list
// of its own. Read once per sign-in.
import { api } from './api.js';

/** @typedef {import('./types').Provider} Provider */

/** @type {Promise<Provider[]> | null} */
let cached = null;

/** @returns {Promise<Provider[]>} */
export function providers() {
  cached ??= api('GET', '/v1/providers').then((r) => /** @type {Provider[]} */ (r.providers), (err) => {
    cached = null;
    throw err;
  });
  return cached;
}

export function forgetProviders() {
  cached = null;
}

/** Every channel type some provider serves, in the order the server lists them. @param {Provider[]} list */
export function channelTypes(list) {
  return [...new Set(list.flatMap((p) => p.channel_types))];
}

/** @param {Provider[]} list @param {string} channelType */
export const providersFor = (list, channelType) => list.filter((p) => p.channel_types.includes(channelType));

/** @param {Provider[]} list @param {string} name */
export const providerNamed = (list, name) => list.find((p) => p.name === name);
