// @ts-check
// The instance's live event stream. EventSource cannot send the API key header, so this reads the
// text/event-stream body with fetch() and a stream reader, reconnecting from the last id seen.
import { authHeaders } from './api.js';

/** @typedef {import('./types').FeedEvent} FeedEvent */
/** @typedef {(e: FeedEvent | undefined) => void} Listener */

/**
 * Splits an event-stream buffer into complete blocks; returns the parsed events and the unread rest.
 * @param {string} buf
 * @returns {{events: Record<string, string>[], rest: string}}
 */
export function parseSse(buf) {
  const events = [];
  let cut;
  while ((cut = buf.indexOf('\n\n')) >= 0) {
    const block = buf.slice(0, cut);
    buf = buf.slice(cut + 2);
    /** @type {Record<string, string>} */
    const ev = {};
    for (const line of block.split('\n')) {
      const i = line.indexOf(':');
      if (i <= 0) continue;
      const k = line.slice(0, i);
      ev[k] = (ev[k] ?? '') + line.slice(i + 1).replace(/^ /, '');
    }
    if (ev.data) events.push(ev);
  }
  return { events, rest: buf };
}

export class Feed {
  /**
   * @param {string} instanceId
   * @param {() => void} onUnauthorized
   */
  constructor(instanceId, onUnauthorized) {
    this.instanceId = instanceId;
    /** @type {FeedEvent[]} the last 300 events, oldest first */
    this.events = [];
    this.cursor = 0;
    this.connected = false;
    this.stopped = false;
    this.abort = new AbortController();
    /** @type {Set<Listener>} */
    this.listeners = new Set();
    void this.run(onUnauthorized);
  }

  /** @param {() => void} onUnauthorized */
  async run(onUnauthorized) {
    let delay = 1000;
    while (!this.stopped) {
      try {
        const r = await fetch(`/v1/instances/${this.instanceId}/events/stream?after=${this.cursor}`, { headers: authHeaders({ accept: 'text/event-stream' }), signal: this.abort.signal });
        if (r.status === 401) return onUnauthorized();
        if (!r.ok || !r.body) throw new Error(`HTTP ${r.status}`);
        this.connected = true;
        delay = 1000;
        this.notify(undefined);
        const reader = r.body.pipeThrough(new TextDecoderStream()).getReader();
        let buf = '';
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          const { events, rest } = parseSse(buf + value);
          buf = rest;
          for (const ev of events) {
            this.cursor = Number(ev.id) || this.cursor;
            /** @type {FeedEvent} */
            const e = JSON.parse(ev.data);
            this.events.push(e);
            if (this.events.length > 300) this.events.shift();
            this.notify(e);
          }
        }
      } catch {
        if (this.stopped) return;
      }
      this.connected = false;
      this.notify(undefined);
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(delay * 2, 15000);
    }
  }

  stop() {
    this.stopped = true;
    this.abort.abort();
  }

  /** @param {FeedEvent | undefined} e */
  notify(e) {
    for (const fn of this.listeners) fn(e);
  }

  /**
   * Calls `fn` for each new event (and `undefined` when the connection state changes) while `owner`
   * is in the document: a view's listener goes away with its panel.
   * @param {Element} owner
   * @param {Listener} fn
   */
  listen(owner, fn) {
    /** @type {Listener} */
    const wrapped = (e) => {
      if (owner.isConnected) fn(e);
      else this.listeners.delete(wrapped);
    };
    this.listeners.add(wrapped);
  }
}
