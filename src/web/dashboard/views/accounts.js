// @ts-check
// Provider accounts: an instance's connections (its own provider secrets) and the operator's
// platform credentials. Secrets are write-only: the list shows their names, never their values.
// The secret fields of the form come from the provider's description (GET /v1/providers).
import { api } from '../lib/api.js';
import { copyField, fmtTime, h } from '../lib/dom.js';
import { blank, clearErrors, failsChecks, field, formError, showErrors } from '../lib/forms.js';

/** @typedef {import('../app.js').ViewContext} ViewContext */
/** @typedef {import('../lib/types').Provider} Provider */

/**
 * @typedef {object} AccountKind
 * @property {string} title       "Connections"
 * @property {string} one         "connection"
 * @property {string} path        collection path
 * @property {string} key         list key in the response
 * @property {string} intro
 */

/** @param {ViewContext} ctx */
export const connectionsView = (ctx) => accountsView(ctx, ctx.panel, {
  title: 'Connections', one: 'connection', path: `/v1/instances/${ctx.inst.id}/connections`, key: 'connections',
  intro: "This instance's own provider accounts (an SMS account, a bot…). Channels name the connection whose secrets they use.",
});

/** @param {Pick<ViewContext, 'providers'>} ctx @param {HTMLElement} panel */
export const credentialsView = (ctx, panel) => accountsView(ctx, panel, {
  title: 'Platform credentials', one: 'credential', path: '/v1/credentials', key: 'credentials',
  intro: 'Provider accounts the platform owns and lends to channels of every instance (operator key only).',
});

/**
 * @param {Pick<ViewContext, 'providers'>} ctx
 * @param {HTMLElement} panel
 * @param {AccountKind} kind
 */
async function accountsView(ctx, panel, kind) {
  const [r, list] = await Promise.all([api('GET', kind.path), ctx.providers()]);
  const accounts = r[kind.key];
  const rows = accounts.map((/** @type {any} */ a) => h('tr', { 'data-account-id': a.id },
    h('td', {}, h('strong', {}, a.name || '(unnamed)'), h('div', { class: 'muted' }, list.find((p) => p.name === a.provider)?.display_name ?? a.provider)),
    h('td', {}, a.secret_names.length ? a.secret_names.join(', ') : h('span', { class: 'muted' }, 'none')),
    h('td', {}, a.webhook_url ? copyField(a.webhook_url, `Account webhook URL of ${a.name || a.id}`) : null),
    h('td', {}, fmtTime(a.created_at)),
    h('td', {}, h('button', { type: 'button', class: 'danger', onclick: async () => {
      if (!confirm(`Delete the ${kind.one} ${a.name || a.id}? Channels using it stop working.`)) return;
      try {
        await api('DELETE', `${kind.path}/${a.id}`);
      } catch (err) {
        alert(err instanceof Error ? err.message : String(err));
      }
      await accountsView(ctx, panel, kind);
    } }, 'Delete'))));
  const table = h('table', {}, h('thead', {}, h('tr', {}, ['Name', 'Secrets stored', 'Webhook URL', 'Created', ''].map((t) => h('th', { scope: 'col' }, t)))), h('tbody', {}, rows));
  panel.replaceChildren(
    h('div', { class: 'card' }, h('h3', {}, `${kind.title} (${accounts.length})`), h('p', { class: 'muted' }, kind.intro), accounts.length ? table : h('p', { class: 'muted' }, `No ${kind.one}s yet.`)),
    accountForm(ctx, panel, kind, list));
}

/**
 * @param {Pick<ViewContext, 'providers'>} ctx
 * @param {HTMLElement} panel
 * @param {AccountKind} kind
 * @param {Provider[]} list
 */
function accountForm(ctx, panel, kind, list) {
  const provider = h('select', {}, list.filter((p) => p.secret_names.required.length + p.secret_names.optional.length > 0).map((p) => h('option', { value: p.name }, p.display_name)));
  const name = h('input', { maxlength: 200, autocomplete: 'off' });
  const secrets = h('div', { class: 'grid secrets' });
  const settings = h('textarea', { class: 'mono', rows: 2 });
  settings.value = '{}';
  /** @type {Map<string, HTMLInputElement>} */
  let inputs = new Map();
  const fill = () => {
    const p = list.find((x) => x.name === provider.value);
    inputs = new Map();
    const fields = [];
    for (const [names, required] of /** @type {[string[], boolean][]} */ ([[p?.secret_names.required ?? [], true], [p?.secret_names.optional ?? [], false]])) {
      for (const n of names) {
        const input = h('input', { type: 'password', autocomplete: 'new-password', spellcheck: 'false' });
        inputs.set(n, input);
        fields.push(field(`secrets.${n}`, `${n}${required ? '' : ' (optional)'}`, input, p?.verify_secret_name === n ? 'Verifies its webhooks.' : undefined));
      }
    }
    secrets.replaceChildren(...fields);
  };
  provider.addEventListener('change', fill);
  fill();
  const form = h('form', { class: 'card', 'aria-label': `Add ${kind.one}`, novalidate: true },
    h('h3', {}, `Add a ${kind.one}`),
    h('div', { class: 'grid' }, field('provider', 'Provider', provider), field('name', 'Name', name, 'So you can tell accounts apart.')),
    secrets,
    h('div', { class: 'grid' }, field('settings', 'Settings (JSON)', settings, 'Non-secret settings, e.g. {"api_base_url": "…"}', { wide: true })),
    formError(),
    h('div', { class: 'actions' }, h('button', { class: 'primary', type: 'submit' }, `Add ${kind.one}`)));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const p = list.find((x) => x.name === provider.value);
    /** @type {Record<string, string | null | false>} */
    const rules = { provider: blank(provider.value) && 'Pick a provider.' };
    for (const n of p?.secret_names.required ?? []) rules[`secrets.${n}`] = blank(inputs.get(n)?.value ?? '') && `${n} is required by ${p?.display_name}.`;
    /** @param {string} v */
    const obj = (v) => {
      try {
        const o = JSON.parse(v.trim() || '{}');
        return o && typeof o === 'object' && !Array.isArray(o) ? o : null;
      } catch {
        return null;
      }
    };
    const settingsObj = obj(settings.value);
    rules.settings = !settingsObj && 'Settings must be a JSON object.';
    if (failsChecks(form, rules)) return;
    clearErrors(form);
    /** @type {Record<string, string>} */
    const values = {};
    for (const [n, input] of inputs) if (input.value) values[n] = input.value;
    try {
      await api('POST', kind.path, { provider: provider.value.trim(), name: name.value.trim() || null, secrets: values, settings: settingsObj });
      await accountsView(ctx, panel, kind);
    } catch (err) {
      showErrors(form, err);
    }
  });
  return form;
}
