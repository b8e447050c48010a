// @ts-check
// Channels of an instance: health, webhook URL / widget tag with copy buttons, and a form whose
// channel types, providers and connections come from the server (GET /v1/providers).
import { api } from '../lib/api.js';
import { badge, copyField, fmtTime, h } from '../lib/dom.js';
import { blank, clearErrors, failsChecks, field, formError, showErrors } from '../lib/forms.js';
import { channelTypes, providersFor } from '../lib/providers.js';

/** @typedef {import('../app.js').ViewContext} ViewContext */
/** @typedef {import('../lib/types').Channel} Channel */
/** @typedef {import('../lib/types').Provider} Provider */

/** @param {ViewContext} ctx */
export async function channelsView(ctx) {
  const { inst, panel } = ctx;
  const [{ channels }, list, { connections }] = await Promise.all([
    api('GET', `/v1/instances/${inst.id}/channels`),
    ctx.providers(),
    api('GET', `/v1/instances/${inst.id}/connections`),
  ]);
  const name = (/** @type {string} */ p) => list.find((x) => x.name === p)?.display_name ?? p;
  const rows = /** @type {Channel[]} */ (channels).map((c) =>
    h('tr', { 'data-channel-id': c.id },
      h('td', {}, h('strong', {}, c.channel_type), h('div', { class: 'muted' }, name(c.provider))),
      h('td', { class: 'mono' }, c.external_identifier),
      h('td', {}, badge(c.status), c.error_message ? h('div', { class: 'err-text' }, c.error_message) : null),
      h('td', {}, fmtTime(c.last_event_at)),
      h('td', {},
        copyField(c.webhook_url, `Webhook URL of ${c.external_identifier}`),
        c.channel_type === 'web_chat' ? copyField(`<script src="${location.origin}/widget.js" data-channel="${c.id}" async></script>`, `Embed code of ${c.external_identifier}`) : null),
      h('td', {}, h('div', { class: 'actions' },
        h('button', { type: 'button', onclick: () => panel.replaceChildren(channelForm(ctx, list, connections, c)) }, 'Edit'),
        h('button', { type: 'button', onclick: () => toggle(ctx, c) }, c.enabled ? 'Disable' : 'Enable'),
        h('button', { type: 'button', class: 'danger', onclick: () => remove(ctx, c) }, 'Delete')))));
  const table = h('table', {}, h('thead', {}, h('tr', {}, ['Channel', 'Identifier', 'Health', 'Last event', 'Webhook URL (give it to the provider) / widget tag', ''].map((t) => h('th', { scope: 'col' }, t)))), h('tbody', {}, rows));
  panel.replaceChildren(
    h('div', { class: 'card' }, h('h3', {}, `Channels (${channels.length})`), channels.length ? table : h('p', { class: 'muted' }, 'No channels yet.')),
    channelForm(ctx, list, connections, null));
}

/** @param {ViewContext} ctx @param {Channel} c */
async function toggle(ctx, c) {
  try {
    await api('PATCH', `/v1/instances/${ctx.inst.id}/channels/${c.id}`, { enabled: !c.enabled });
  } catch (err) {
    alert(err instanceof Error ? err.message : String(err));
  }
  await channelsView(ctx);
}

/** @param {ViewContext} ctx @param {Channel} c */
async function remove(ctx, c) {
  if (!confirm(`Delete the ${c.channel_type} channel ${c.external_identifier}?`)) return;
  try {
    await api('DELETE', `/v1/instances/${ctx.inst.id}/channels/${c.id}`);
  } catch (err) {
    alert(err instanceof Error ? err.message : String(err));
  }
  await channelsView(ctx);
}

/** @param {string} value @param {string} label @param {boolean} [selected] */
const option = (value, label, selected) => h('option', { value, selected: selected || null }, label);

/**
 * Create (c = null) or edit a channel; the API's validation errors appear next to their fields.
 * @param {ViewContext} ctx
 * @param {Provider[]} list
 * @param {any[]} connections
 * @param {Channel | null} c
 */
function channelForm(ctx, list, connections, c) {
  const { inst } = ctx;
  const types = channelTypes(list);
  const type = h('select', { disabled: c ? true : null }, types.map((t) => option(t, t, c?.channel_type === t)));
  if (c && !types.includes(c.channel_type)) type.append(option(c.channel_type, c.channel_type, true));
  const provider = h('select', {});
  const connection = h('select', {});
  const fillProviders = () => {
    const fits = providersFor(list, type.value);
    const keep = provider.value || c?.provider;
    provider.replaceChildren(...fits.map((p) => option(p.name, p.display_name, p.name === keep)));
    if (c && !fits.some((p) => p.name === c.provider)) provider.append(option(c.provider, c.provider, true));
    fillConnections();
  };
  const fillConnections = () => {
    const keep = connection.value || c?.connection_id || '';
    connection.replaceChildren(option('', 'None (the channel itself or the platform credential)', !keep),
      ...connections.filter((a) => a.provider === provider.value).map((a) => option(a.id, a.name || a.id, a.id === keep)));
  };
  type.addEventListener('change', fillProviders);
  provider.addEventListener('change', fillConnections);
  fillProviders();
  const ident = h('input', { value: c?.external_identifier ?? '', autocomplete: 'off', required: true });
  const secret = h('input', { type: 'password', autocomplete: 'new-password', placeholder: c ? 'unchanged' : 'optional' });
  const config = h('textarea', { class: 'mono', rows: 3 });
  config.value = JSON.stringify(c?.config ?? {}, null, 2);
  const enabled = h('input', { type: 'checkbox', checked: c ? c.enabled : true });
  const form = h('form', { class: 'card', 'aria-label': c ? 'Edit channel' : 'Add channel', novalidate: true },
    h('h3', {}, c ? `Edit ${c.channel_type} channel` : 'Add a channel'),
    h('div', { class: 'grid' },
      field('channel_type', 'Channel type', type),
      field('provider', 'Provider', provider),
      field('connection_id', 'Connection', connection, 'The account whose secrets this channel uses (see Connections).'),
      field('external_identifier', 'External identifier', ident, 'Bot username, phone number, email address, site name…'),
      field('webhook_secret', 'Webhook secret', secret, 'Web chat: sign visitor ids with it. Leave empty to let Switchboard choose.'),
      field('enabled', 'Enabled', enabled),
      field('config', 'Config (JSON)', config, 'Web chat: {"allowed_origins": ["https://your.site"], "title": "…", "greeting": "…"}', { wide: true })),
    formError(),
    h('div', { class: 'actions' }, h('button', { class: 'primary', type: 'submit' }, c ? 'Save' : 'Create channel'), c ? h('button', { type: 'button', onclick: () => channelsView(ctx) }, 'Cancel') : null));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    /** @type {unknown} */
    let cfg;
    let jsonError = null;
    try {
      cfg = JSON.parse(config.value.trim() || '{}');
      if (!cfg || typeof cfg !== 'object' || Array.isArray(cfg)) jsonError = 'Config must be a JSON object, like {"title": "Support"}.';
    } catch (err) {
      jsonError = `Not valid JSON: ${err instanceof Error ? err.message : err}`;
    }
    // A blank channel is never sent: the identifier routes the provider's webhooks to it.
    const failed = failsChecks(form, {
      channel_type: blank(type.value) && 'Pick a channel type.',
      provider: blank(provider.value) && 'Pick a provider.',
      external_identifier: blank(ident.value) && 'Enter the identifier the provider knows this channel by.',
      config: jsonError,
    });
    if (failed) return;
    clearErrors(form);
    /** @type {Record<string, unknown>} */
    const body = { provider: provider.value.trim(), external_identifier: ident.value.trim(), config: cfg, enabled: enabled.checked };
    if (connection.value || c?.connection_id) body.connection_id = connection.value || null;
    if (secret.value) body.webhook_secret = secret.value;
    try {
      if (c) {
        delete body.connection_id; // not changeable once created
        await api('PATCH', `/v1/instances/${inst.id}/channels/${c.id}`, body);
      } else await api('POST', `/v1/instances/${inst.id}/channels`, { channel_type: type.value.trim(), ...body });
      await channelsView(ctx);
    } catch (err) {
      showErrors(form, err);
    }
  });
  return form;
}
