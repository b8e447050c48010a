/** Channel types live with the adapter contract (adapters/channel-types.ts); re-exported for core. */
export * from '../adapters/channel-types.js';
