// @ts-check
import { fmtTime, h } from '../lib/dom.js';

/** @typedef {import('../app.js').ViewContext} ViewContext */
/** @typedef {import('../lib/types').FeedEvent} FeedEvent */

/** @param {FeedEvent} e */
function eventText(e) {
  const d = e.data || {};
  if (typeof d.text === 'string') return d.text;
  if (d.email?.subject) return d.email.subject;
  if (d.status) return `status: ${d.status}`;
  return d.kind || '';
}

/** The live event feed, newest first. @param {ViewContext} ctx */
export async function eventsView({ panel, feed }) {
  const list = h('ol', { class: 'feed', 'aria-live': 'polite', 'aria-label': 'Events, newest first', reversed: true });
  const status = h('p', { class: 'muted' });
  /** @param {FeedEvent} e */
  const row = (e) => h('li', { 'data-event-id': e.id },
    h('span', { class: 'seq mono' }, `#${e.cursor}`),
    h('span', {}, h('strong', {}, e.type), h('div', { class: 'muted' }, fmtTime(e.created_at))),
    h('span', { class: 'text' }, eventText(e), e.channel ? h('div', { class: 'muted' }, `${e.channel.type} · ${e.channel.external_identifier}`) : null));
  const paint = () => status.replaceChildren(h('span', { class: `live${feed.connected ? ' on' : ''}` }), feed.connected ? 'Live' : 'Connecting…', ` — ${feed.events.length} events`);
  for (const e of [...feed.events].reverse().slice(0, 200)) list.append(row(e));
  paint();
  feed.listen(panel, (e) => {
    if (e) list.prepend(row(e));
    paint();
  });
  panel.replaceChildren(h('div', { class: 'card' }, h('h3', {}, 'Live events'), status, list));
}
