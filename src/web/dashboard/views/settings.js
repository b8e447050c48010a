// @ts-check
import { api } from '../lib/api.js';
import { h, secretBox } from '../lib/dom.js';
import { blank, clearErrors, failsChecks, field, formError, showErrors } from '../lib/forms.js';

/** @typedef {import('../app.js').ViewContext} ViewContext */

/** Agent URL, name and the signing secret. @param {ViewContext} ctx */
export async function settingsView({ inst, panel }) {
  const fresh = await api('GET', `/v1/instances/${inst.id}`);
  const name = h('input', { value: fresh.name, maxlength: 200 });
  const url = h('input', { value: fresh.agent_url ?? '', placeholder: 'https://agent.example.com/events', inputmode: 'url' });
  const saved = h('span', { class: 'saved muted', role: 'status' });
  const form = h('form', { class: 'card', 'aria-label': 'Agent settings', novalidate: true },
    h('h3', {}, 'Agent'),
    h('div', { class: 'grid' }, field('name', 'Name', name), field('agent_url', 'Agent URL', url, 'Events are POSTed here, signed per Standard Webhooks. Empty: no deliveries.')),
    formError(),
    h('div', { class: 'actions' }, h('button', { class: 'primary', type: 'submit' }, 'Save'), saved));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    saved.textContent = '';
    if (failsChecks(form, { name: blank(name.value) && 'Give the instance a name.' })) return;
    clearErrors(form);
    try {
      const r = await api('PATCH', `/v1/instances/${inst.id}`, { name: name.value.trim(), agent_url: url.value.trim() || null });
      Object.assign(inst, r);
      saved.textContent = 'Saved.';
    } catch (err) {
      showErrors(form, err);
    }
  });
  const out = h('div', {});
  const rotate = h('div', { class: 'card' },
    h('h3', {}, 'Signing secret'),
    h('p', { class: 'muted' }, 'Your agent verifies deliveries with it. Rotating makes a new one; the old one stops working at once.'),
    h('button', { type: 'button', onclick: async () => {
      if (!confirm('Rotate the signing secret? The agent must be given the new one.')) return;
      try {
        const r = await api('POST', `/v1/instances/${inst.id}/signing-secret`);
        out.replaceChildren(secretBox('New signing secret (shown once)', r.signing_secret));
      } catch (err) {
        out.replaceChildren(h('p', { class: 'err-text', role: 'alert' }, err instanceof Error ? err.message : String(err)));
      }
    } }, 'Rotate signing secret'),
    out);
  panel.replaceChildren(form, rotate);
}
