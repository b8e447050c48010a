// @ts-check
// API keys (operator only): a key is scoped to instances, shown once when created, and revoked by
// deleting it.
import { api } from '../lib/api.js';
import { fmtTime, h, secretBox } from '../lib/dom.js';
import { blank, clearErrors, failsChecks, field, formError, showErrors } from '../lib/forms.js';

/** @typedef {import('../lib/types').Instance} Instance */

/**
 * @param {HTMLElement} panel
 * @param {Instance[]} instances
 * @param {HTMLElement | null} [created] the box with a key just created, kept above the list
 */
export async function apiKeysView(panel, instances, created = null) {
  const { api_keys: keys } = await api('GET', '/v1/api-keys');
  const instName = (/** @type {string} */ id) => instances.find((i) => i.id === id)?.name ?? id;
  const rows = keys.map((/** @type {any} */ k) => h('tr', { 'data-key-id': k.id },
    h('td', {}, h('strong', {}, k.name)),
    h('td', {}, k.instance_ids.length ? k.instance_ids.map(instName).join(', ') : h('span', { class: 'muted' }, 'no instance')),
    h('td', {}, fmtTime(k.created_at)),
    h('td', {}, h('button', { type: 'button', class: 'danger', onclick: async () => {
      if (!confirm(`Revoke the key “${k.name}”? Whatever uses it stops working at once.`)) return;
      try {
        await api('DELETE', `/v1/api-keys/${k.id}`);
      } catch (err) {
        alert(err instanceof Error ? err.message : String(err));
      }
      await apiKeysView(panel, instances);
    } }, 'Revoke'))));
  const table = h('table', {}, h('thead', {}, h('tr', {}, ['Name', 'Instances', 'Created', ''].map((t) => h('th', { scope: 'col' }, t)))), h('tbody', {}, rows));

  const name = h('input', { maxlength: 200, autocomplete: 'off' });
  const boxes = instances.map((i) => h('label', { class: 'check' }, h('input', { type: 'checkbox', value: i.id, name: 'instance_ids' }), ' ', i.name));
  const form = h('form', { class: 'card', 'aria-label': 'Create API key', novalidate: true },
    h('h3', {}, 'Create an API key'),
    h('div', { class: 'grid' }, field('name', 'Name', name, 'Who or what uses it, e.g. “support agent”.')),
    h('fieldset', { class: 'instances' }, h('legend', {}, 'Instances it may use'), boxes.length ? boxes : h('p', { class: 'muted' }, 'No instances yet.'), h('div', { class: 'error', 'data-error-for': 'instance_ids' })),
    formError(),
    h('div', { class: 'actions' }, h('button', { class: 'primary', type: 'submit' }, 'Create key')));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const ids = [...form.querySelectorAll('input[name=instance_ids]:checked')].map((x) => /** @type {HTMLInputElement} */ (x).value);
    if (failsChecks(form, { name: blank(name.value) && 'Give the key a name.', instance_ids: !ids.length && 'Pick at least one instance.' })) return;
    clearErrors(form);
    try {
      const k = await api('POST', '/v1/api-keys', { name: name.value.trim(), instance_ids: ids });
      await apiKeysView(panel, instances, secretBox(`API key “${k.name}” (shown once)`, k.key));
    } catch (err) {
      showErrors(form, err);
    }
  });
  panel.replaceChildren(...(created ? [created] : []), h('div', { class: 'card' }, h('h3', {}, `API keys (${keys.length})`), keys.length ? table : h('p', { class: 'muted' }, 'No scoped keys yet.')), form);
}
