// @ts-check
import { api } from '../lib/api.js';
import { fmtTime, h } from '../lib/dom.js';

/** @typedef {import('../app.js').ViewContext} ViewContext */

/** Dead-lettered agent deliveries, with replay. @param {ViewContext} ctx @param {string} [notice] */
export async function deadView(ctx, notice = '') {
  const { inst, panel } = ctx;
  const { deliveries } = await api('GET', `/v1/instances/${inst.id}/deliveries/dead`);
  const out = h('p', { role: 'status', class: 'muted' }, notice);
  const rows = deliveries.map((/** @type {any} */ d) =>
    h('tr', { 'data-delivery-id': d.id },
      h('td', { class: 'mono' }, String(d.id)),
      h('td', { class: 'mono' }, d.event_id),
      h('td', {}, String(d.attempts)),
      h('td', { class: 'err-text' }, d.last_error ?? ''),
      h('td', {}, fmtTime(d.updated_at)),
      h('td', {}, h('button', { type: 'button', onclick: async (/** @type {MouseEvent} */ e) => {
        const b = /** @type {HTMLButtonElement} */ (e.currentTarget);
        b.disabled = true;
        try {
          await api('POST', `/v1/instances/${inst.id}/deliveries/${d.id}/replay`);
          out.textContent = `Delivery ${d.id} queued again.`;
          setTimeout(() => panel.isConnected && deadView(ctx, out.textContent ?? ''), 800);
        } catch (err) {
          out.textContent = err instanceof Error ? err.message : String(err);
          b.disabled = false;
        }
      } }, 'Replay'))));
  const table = h('table', {}, h('thead', {}, h('tr', {}, ['#', 'Event', 'Attempts', 'Last error', 'Given up at', ''].map((t) => h('th', { scope: 'col' }, t)))), h('tbody', {}, rows));
  panel.replaceChildren(h('div', { class: 'card' },
    h('h3', {}, `Dead-lettered deliveries (${deliveries.length})`),
    h('div', { class: 'actions' }, h('button', { type: 'button', onclick: () => deadView(ctx) }, 'Refresh')),
    out,
    deliveries.length ? table : h('p', { class: 'muted' }, 'None: every event reached the agent or is still being retried.')));
}
