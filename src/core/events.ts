/** The event model lives with the adapter contract (adapters/events.ts); re-exported for core. */
export * from '../adapters/events.js';
