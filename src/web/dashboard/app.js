// Switchboard operator dashboard: plain JS over the public API, with the API key the operator signs
// in with (kept in sessionStorage, so it is gone when the tab closes). What a key may see is the
// API's business: a scoped key simply gets its own instances and a 403 where it may not act.

const KEY_STORE = 'switchboard-api-key';
const CHANNEL_TYPES = ['telegram', 'whatsapp', 'voice', 'sms', 'email', 'web_chat'];
const PROVIDERS = ['telegram', 'meta_cloud', 'twilio', 'resend', 'gmail', 'retell', 'web'];
const app = document.getElementById('app');

let key = sessionStorage.getItem(KEY_STORE);
const state = { instances: [], instanceId: null, tab: 'channels', feed: null, conversationId: null };

// ---- tiny DOM helper ---------------------------------------------------------------------------
function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.className = v;
    else if (k === 'text') el.textContent = v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat()) if (c !== null && c !== undefined && c !== false) el.append(c instanceof Node ? c : String(c));
  return el;
}
const fmtTime = (t) => (t ? new Date(t).toLocaleString() : '—');
const badge = (s) => h('span', { class: `badge ${s}` }, s);

// ---- API ---------------------------------------------------------------------------------------
class ApiError extends Error {
  constructor(status, body) {
    super(typeof body?.detail === 'string' ? body.detail : `HTTP ${status}`);
    this.status = status;
    this.body = body;
  }
}

async function api(method, path, body, headers = {}) {
  const init = { method, headers: { 'x-api-key': key, ...headers } };
  if (body !== undefined) {
    init.headers['content-type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  const r = await fetch(path, init);
  const text = await r.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = { detail: text };
  }
  if (r.status === 401) {
    signOut('That API key was refused. Sign in again.');
    throw new ApiError(401, data);
  }
  if (!r.ok) throw new ApiError(r.status, data);
  return data;
}

// ---- forms and validation errors ---------------------------------------------------------------
/** A labelled field; its error line is tied to the control with aria-describedby. */
function field(name, label, control, hint) {
  const id = `f-${name}-${Math.random().toString(36).slice(2, 7)}`;
  control.id = id;
  control.name = name;
  const err = h('div', { class: 'error', id: `${id}-err`, 'data-error-for': name, role: 'alert' });
  control.setAttribute('aria-describedby', `${id}-err`);
  return h('div', { class: `field${name === 'config' || name === 'webhook_url' ? ' wide' : ''}` }, h('label', { for: id }, label), control, hint ? h('div', { class: 'hint' }, hint) : null, err);
}

function clearErrors(form) {
  form.querySelectorAll('[data-error-for]').forEach((e) => (e.textContent = ''));
  form.querySelectorAll('[aria-invalid]').forEach((e) => e.removeAttribute('aria-invalid'));
  const fe = form.querySelector('.form-error');
  if (fe) fe.textContent = '';
}

/** Puts each 422 issue next to its field (loc ['body', field, ...]); anything else under the form. */
function showErrors(form, err) {
  const formError = form.querySelector('.form-error');
  const detail = err instanceof ApiError ? err.body?.detail : undefined;
  if (err instanceof ApiError && err.status === 422 && Array.isArray(detail)) {
    const rest = [];
    for (const d of detail) {
      const name = d.loc?.[0] === 'body' && typeof d.loc[1] === 'string' ? d.loc[1] : null;
      const slot = name && form.querySelector(`[data-error-for="${CSS.escape(name)}"]`);
      if (slot) {
        slot.textContent = slot.textContent ? `${slot.textContent}; ${d.msg}` : d.msg;
        form.elements[name]?.setAttribute('aria-invalid', 'true');
      } else rest.push(`${(d.loc || []).join('.')}: ${d.msg}`);
    }
    if (formError) formError.textContent = rest.join('\n');
    form.querySelector('[aria-invalid=true]')?.focus();
  } else if (formError) formError.textContent = err.message || String(err);
}

// ---- sign in / out -----------------------------------------------------------------------------
function signOut(message) {
  key = null;
  sessionStorage.removeItem(KEY_STORE);
  stopFeed();
  renderLogin(message);
}

function renderLogin(message) {
  const input = h('input', { type: 'password', autocomplete: 'off', required: true, spellcheck: 'false' });
  const form = h(
    'form',
    { class: 'login', 'aria-labelledby': 'login-title' },
    h('h1', { id: 'login-title' }, 'Switchboard'),
    h('p', { class: 'muted' }, 'Sign in with an API key. The operator key was printed when Switchboard first started; a scoped key shows only its own instances.'),
    field('api_key', 'API key', input),
    h('div', { class: 'form-error', role: 'alert' }, message || ''),
    h('div', { class: 'actions' }, h('button', { class: 'primary', type: 'submit' }, 'Sign in')),
  );
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    key = input.value.trim();
    try {
      const r = await fetch('/v1/instances', { headers: { 'x-api-key': key } });
      if (!r.ok) throw new Error(r.status === 401 ? 'That API key was refused.' : `Could not sign in (HTTP ${r.status}).`);
      sessionStorage.setItem(KEY_STORE, key);
      await start();
    } catch (err) {
      key = null;
      form.querySelector('.form-error').textContent = err.message;
      input.setAttribute('aria-invalid', 'true');
      input.focus();
    }
  });
  app.replaceChildren(form);
  input.focus();
}

// ---- shell -------------------------------------------------------------------------------------
async function start() {
  const r = await api('GET', '/v1/instances');
  state.instances = r.instances;
  const fromHash = /^#\/i\/([0-9a-f-]{36})(?:\/(\w+))?/.exec(location.hash);
  if (fromHash && state.instances.some((i) => i.id === fromHash[1])) {
    state.instanceId = fromHash[1];
    state.tab = fromHash[2] || 'channels';
  } else state.instanceId = state.instances[0]?.id ?? null;
  renderShell();
}

function renderShell() {
  const nav = h('nav', { class: 'side', 'aria-label': 'Instances' }, h('h2', {}, 'Instances'));
  const list = h('ul', {});
  for (const i of state.instances) {
    list.append(h('li', {}, h('button', { type: 'button', 'aria-current': i.id === state.instanceId ? 'page' : null, onclick: () => select(i.id, 'channels') }, i.name)));
  }
  if (!state.instances.length) list.append(h('li', { class: 'muted' }, 'No instances yet.'));
  nav.append(list, newInstanceForm());
  const main = h('main', { id: 'main' });
  app.replaceChildren(
    h('header', { class: 'top' }, h('h1', {}, 'Switchboard'), h('span', { class: 'who' }, `key …${key.slice(-4)}`), h('button', { type: 'button', onclick: () => signOut() }, 'Sign out')),
    h('div', { class: 'layout' }, nav, main),
  );
  renderInstance(main);
}

function newInstanceForm() {
  const name = h('input', { required: true, maxlength: 200 });
  const form = h('form', { 'aria-label': 'New instance' }, h('h2', {}, 'New instance'), field('name', 'Name', name), h('div', { class: 'form-error', role: 'alert' }), h('div', { class: 'actions' }, h('button', { type: 'submit' }, 'Create')));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    clearErrors(form);
    try {
      const inst = await api('POST', '/v1/instances', { name: name.value });
      state.instances.push(inst);
      state.instanceId = inst.id;
      renderShell();
      showSecret(`Signing secret of “${inst.name}” (shown once)`, inst.signing_secret);
    } catch (err) {
      showErrors(form, err);
    }
  });
  return form;
}

function select(id, tab) {
  state.instanceId = id;
  state.tab = tab;
  state.conversationId = null;
  history.replaceState(null, '', `#/i/${id}/${tab}`);
  renderShell();
}

const TABS = [
  ['channels', 'Channels'],
  ['settings', 'Agent settings'],
  ['events', 'Live events'],
  ['conversations', 'Conversations'],
  ['dead', 'Dead deliveries'],
];

function renderInstance(main) {
  const inst = state.instances.find((i) => i.id === state.instanceId);
  if (!inst) {
    stopFeed();
    main.replaceChildren(h('p', { class: 'muted' }, 'Create or pick an instance.'));
    return;
  }
  ensureFeed(inst.id);
  const tabs = h('div', { class: 'tabs', role: 'tablist', 'aria-label': inst.name });
  const panel = h('section', { role: 'tabpanel', id: 'tabpanel', tabindex: '-1' });
  for (const [id, label] of TABS) {
    tabs.append(h('button', { type: 'button', role: 'tab', id: `tab-${id}`, 'aria-selected': String(id === state.tab), 'aria-controls': 'tabpanel', tabindex: id === state.tab ? '0' : '-1', onclick: () => select(inst.id, id) }, label));
  }
  tabs.addEventListener('keydown', (e) => {
    if (e.key !== 'ArrowRight' && e.key !== 'ArrowLeft') return;
    const i = TABS.findIndex(([id]) => id === state.tab);
    const next = TABS[(i + (e.key === 'ArrowRight' ? 1 : TABS.length - 1)) % TABS.length][0];
    select(inst.id, next);
    document.getElementById(`tab-${next}`)?.focus();
  });
  panel.setAttribute('aria-labelledby', `tab-${state.tab}`);
  main.replaceChildren(h('h2', {}, inst.name, ' ', h('span', { class: 'muted mono' }, inst.id)), tabs, panel);
  const view = { channels: channelsView, settings: settingsView, events: eventsView, conversations: conversationsView, dead: deadView }[state.tab] || channelsView;
  view(inst, panel).catch((err) => panel.append(h('p', { class: 'err-text', role: 'alert' }, err.message)));
}

function showSecret(title, secret) {
  const main = document.getElementById('main');
  const box = h('div', { class: 'card', role: 'status' }, h('h3', {}, title), h('div', { class: 'secret mono' }, secret), h('p', { class: 'muted' }, 'Copy it now: Switchboard keeps only an encrypted copy and never shows it again.'));
  main?.prepend(box);
}

// ---- channels ----------------------------------------------------------------------------------
async function channelsView(inst, panel) {
  const { channels } = await api('GET', `/v1/instances/${inst.id}/channels`);
  const rows = channels.map((c) =>
    h(
      'tr',
      { 'data-channel-id': c.id },
      h('td', {}, h('strong', {}, c.channel_type), h('div', { class: 'muted' }, c.provider)),
      h('td', { class: 'mono' }, c.external_identifier),
      h('td', {}, badge(c.status), c.error_message ? h('div', { class: 'err-text' }, c.error_message) : null),
      h('td', {}, fmtTime(c.last_event_at)),
      h('td', {},
        h('input', { class: 'mono', readonly: true, value: c.webhook_url, 'aria-label': `Webhook URL of ${c.external_identifier}`, onfocus: (e) => e.target.select() }),
        c.provider === 'web'
          ? h('input', { class: 'mono', readonly: true, value: `<script src="${location.origin}/widget.js" data-channel="${c.id}" async></script>`, 'aria-label': `Embed code of ${c.external_identifier}`, title: 'Paste this tag into your site', onfocus: (e) => e.target.select() })
          : null),
      h(
        'td',
        {},
        h('div', { class: 'actions' },
          h('button', { type: 'button', onclick: () => panel.replaceChildren(channelForm(inst, panel, c)) }, 'Edit'),
          h('button', { type: 'button', onclick: () => toggleChannel(inst, panel, c) }, c.enabled ? 'Disable' : 'Enable'),
          h('button', { type: 'button', class: 'danger', onclick: () => deleteChannel(inst, panel, c) }, 'Delete')),
      ),
    ),
  );
  const table = h('table', {}, h('thead', {}, h('tr', {}, ['Channel', 'Identifier', 'Health', 'Last event', 'Webhook URL (give it to the provider) / widget tag', ''].map((t) => h('th', { scope: 'col' }, t)))), h('tbody', {}, rows));
  panel.replaceChildren(
    h('div', { class: 'card' }, h('h3', {}, `Channels (${channels.length})`), channels.length ? table : h('p', { class: 'muted' }, 'No channels yet.')),
    channelForm(inst, panel, null),
  );
}

async function toggleChannel(inst, panel, c) {
  try {
    await api('PATCH', `/v1/instances/${inst.id}/channels/${c.id}`, { enabled: !c.enabled });
  } catch (err) {
    alert(err.message);
  }
  await channelsView(inst, panel);
}

async function deleteChannel(inst, panel, c) {
  if (!confirm(`Delete the ${c.channel_type} channel ${c.external_identifier}?`)) return;
  try {
    await api('DELETE', `/v1/instances/${inst.id}/channels/${c.id}`);
  } catch (err) {
    alert(err.message);
  }
  await channelsView(inst, panel);
}

/** Create (c = null) or edit a channel; the API's validation errors appear next to their fields. */
function channelForm(inst, panel, c) {
  const type = h('select', { disabled: c ? true : null }, CHANNEL_TYPES.map((t) => h('option', { value: t, selected: c?.channel_type === t ? true : null }, t)));
  const provider = h('input', { list: 'providers', value: c?.provider ?? '', autocomplete: 'off' });
  const ident = h('input', { value: c?.external_identifier ?? '', autocomplete: 'off' });
  const secret = h('input', { type: 'password', autocomplete: 'new-password', placeholder: c ? 'unchanged' : 'optional' });
  const config = h('textarea', { class: 'mono', rows: 3 });
  config.value = JSON.stringify(c?.config ?? {}, null, 2);
  const enabled = h('input', { type: 'checkbox', checked: c ? (c.enabled ? true : null) : true });
  const form = h(
    'form',
    { class: 'card', 'aria-label': c ? 'Edit channel' : 'Add channel', novalidate: true },
    h('h3', {}, c ? `Edit ${c.channel_type} channel` : 'Add a channel'),
    h('datalist', { id: 'providers' }, PROVIDERS.map((p) => h('option', { value: p }))),
    h('div', { class: 'grid' },
      field('channel_type', 'Channel type', type),
      field('provider', 'Provider', provider, 'telegram, meta_cloud, twilio, resend, gmail, retell, web'),
      field('external_identifier', 'External identifier', ident, 'Bot username, phone number, email address, site name…'),
      field('webhook_secret', 'Webhook secret', secret, 'Web chat: sign visitor ids with it. Leave empty to let Switchboard choose.'),
      field('enabled', 'Enabled', enabled),
      field('config', 'Config (JSON)', config, 'Web chat: {"allowed_origins": ["https://your.site"], "title": "…", "greeting": "…"}'),
    ),
    h('div', { class: 'form-error', role: 'alert' }),
    h('div', { class: 'actions' }, h('button', { class: 'primary', type: 'submit' }, c ? 'Save' : 'Create channel'), c ? h('button', { type: 'button', onclick: () => channelsView(inst, panel) }, 'Cancel') : null),
  );
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    clearErrors(form);
    let cfg;
    try {
      cfg = JSON.parse(config.value || '{}');
    } catch (err) {
      form.querySelector('[data-error-for=config]').textContent = `Not valid JSON: ${err.message}`;
      config.setAttribute('aria-invalid', 'true');
      config.focus();
      return;
    }
    const body = { provider: provider.value.trim(), external_identifier: ident.value.trim(), config: cfg, enabled: enabled.checked };
    if (secret.value) body.webhook_secret = secret.value;
    try {
      if (c) await api('PATCH', `/v1/instances/${inst.id}/channels/${c.id}`, body);
      else await api('POST', `/v1/instances/${inst.id}/channels`, { channel_type: type.value, ...body });
      await channelsView(inst, panel);
    } catch (err) {
      showErrors(form, err);
    }
  });
  return form;
}

// ---- agent settings ----------------------------------------------------------------------------
async function settingsView(inst, panel) {
  const fresh = await api('GET', `/v1/instances/${inst.id}`);
  const name = h('input', { value: fresh.name, maxlength: 200 });
  const url = h('input', { value: fresh.agent_url ?? '', placeholder: 'https://agent.example.com/events', inputmode: 'url' });
  const form = h(
    'form',
    { class: 'card', 'aria-label': 'Agent settings', novalidate: true },
    h('h3', {}, 'Agent'),
    h('div', { class: 'grid' }, field('name', 'Name', name), field('agent_url', 'Agent URL', url, 'Events are POSTed here, signed per Standard Webhooks. Empty: no deliveries.')),
    h('div', { class: 'form-error', role: 'alert' }),
    h('div', { class: 'actions' }, h('button', { class: 'primary', type: 'submit' }, 'Save'), h('span', { class: 'saved muted', role: 'status' })),
  );
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    clearErrors(form);
    try {
      const r = await api('PATCH', `/v1/instances/${inst.id}`, { name: name.value, agent_url: url.value.trim() || null });
      Object.assign(inst, r);
      form.querySelector('.saved').textContent = 'Saved.';
    } catch (err) {
      showErrors(form, err);
    }
  });
  const out = h('div', { role: 'status' });
  const rotate = h('div', { class: 'card' },
    h('h3', {}, 'Signing secret'),
    h('p', { class: 'muted' }, 'Your agent verifies deliveries with it. Rotating makes a new one; the old one stops working at once.'),
    h('button', { type: 'button', onclick: async () => {
      if (!confirm('Rotate the signing secret? The agent must be given the new one.')) return;
      try {
        const r = await api('POST', `/v1/instances/${inst.id}/signing-secret`);
        out.replaceChildren(h('p', {}, 'New signing secret (shown once):'), h('div', { class: 'secret mono' }, r.signing_secret));
      } catch (err) {
        out.replaceChildren(h('p', { class: 'err-text' }, err.message));
      }
    } }, 'Rotate signing secret'),
    out,
  );
  panel.replaceChildren(form, rotate);
}

// ---- live events -------------------------------------------------------------------------------
/**
 * The instance's event stream. EventSource cannot send the API key header, so this reads the
 * text/event-stream body with fetch() and a stream reader, reconnecting from the last id seen.
 */
function ensureFeed(instanceId) {
  if (state.feed?.instanceId === instanceId) return;
  stopFeed();
  const feed = { instanceId, events: [], cursor: 0, connected: false, abort: new AbortController(), listeners: new Set(), stopped: false };
  state.feed = feed;
  (async () => {
    let delay = 1000;
    while (!feed.stopped) {
      try {
        const r = await fetch(`/v1/instances/${instanceId}/events/stream?after=${feed.cursor}`, { headers: { 'x-api-key': key, accept: 'text/event-stream' }, signal: feed.abort.signal });
        if (r.status === 401) return signOut('That API key was refused. Sign in again.');
        if (!r.ok || !r.body) throw new Error(`HTTP ${r.status}`);
        feed.connected = true;
        delay = 1000;
        notify(feed);
        const reader = r.body.pipeThrough(new TextDecoderStream()).getReader();
        let buf = '';
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buf += value;
          let cut;
          while ((cut = buf.indexOf('\n\n')) >= 0) {
            const block = buf.slice(0, cut);
            buf = buf.slice(cut + 2);
            const ev = {};
            for (const line of block.split('\n')) {
              const i = line.indexOf(':');
              if (i <= 0) continue;
              ev[line.slice(0, i)] = (ev[line.slice(0, i)] ?? '') + line.slice(i + 1).replace(/^ /, '');
            }
            if (!ev.data) continue;
            feed.cursor = Number(ev.id) || feed.cursor;
            feed.events.push(JSON.parse(ev.data));
            if (feed.events.length > 300) feed.events.shift();
            notify(feed, feed.events[feed.events.length - 1]);
          }
        }
      } catch (err) {
        if (feed.stopped) return;
      }
      feed.connected = false;
      notify(feed);
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(delay * 2, 15000);
    }
  })();
}

function stopFeed() {
  if (!state.feed) return;
  state.feed.stopped = true;
  state.feed.abort.abort();
  state.feed = null;
}

function notify(feed, event) {
  for (const fn of feed.listeners) fn(event);
}

function onFeed(panel, fn) {
  const feed = state.feed;
  // The listener goes away with its panel (a tab switch replaces it).
  const wrapped = (e) => (panel.isConnected ? fn(e) : feed.listeners.delete(wrapped));
  feed.listeners.add(wrapped);
}

function eventText(e) {
  const d = e.data || {};
  if (typeof d.text === 'string') return d.text;
  if (d.email?.subject) return d.email.subject;
  if (d.status) return `status: ${d.status}`;
  return d.kind || '';
}

async function eventsView(inst, panel) {
  const list = h('ol', { class: 'feed', 'aria-live': 'polite', 'aria-label': 'Events, newest first', reversed: true });
  const status = h('p', { class: 'muted' });
  const row = (e) => h('li', { 'data-event-id': e.id }, h('span', { class: 'seq mono' }, `#${e.cursor}`), h('span', {}, h('strong', {}, e.type), h('div', { class: 'muted' }, fmtTime(e.created_at))), h('span', { class: 'text' }, eventText(e), e.channel ? h('div', { class: 'muted' }, `${e.channel.type} · ${e.channel.external_identifier}`) : null));
  const paint = () => {
    status.replaceChildren(h('span', { class: `live${state.feed?.connected ? ' on' : ''}` }), state.feed?.connected ? 'Live' : 'Connecting…', ` — ${state.feed?.events.length ?? 0} events`);
  };
  for (const e of [...state.feed.events].reverse().slice(0, 200)) list.append(row(e));
  paint();
  onFeed(panel, (e) => {
    if (e) list.prepend(row(e));
    paint();
  });
  panel.replaceChildren(h('div', { class: 'card' }, h('h3', {}, 'Live events'), status, list));
}

// ---- conversations -----------------------------------------------------------------------------
async function conversationsView(inst, panel) {
  const { conversations } = await api('GET', `/v1/instances/${inst.id}/conversations?limit=100`);
  const { channels } = await api('GET', `/v1/instances/${inst.id}/channels`);
  const chName = (id) => {
    const c = channels.find((x) => x.id === id);
    return c ? `${c.channel_type} · ${c.external_identifier}` : id;
  };
  const detail = h('div', { class: 'card', 'aria-live': 'polite' }, h('p', { class: 'muted' }, 'Pick a conversation.'));
  const list = h('ul', { class: 'convs', 'aria-label': 'Conversations' });
  for (const c of conversations) {
    const who = c.participant?.name || c.participant?.username || c.participant?.id || c.key;
    list.append(h('li', {}, h('button', { type: 'button', 'aria-current': c.id === state.conversationId ? 'true' : null, 'data-conversation-id': c.id, onclick: () => { state.conversationId = c.id; conversationsView(inst, panel); } }, h('strong', {}, who), h('div', { class: 'muted' }, chName(c.channel_id)), h('div', { class: 'muted' }, fmtTime(c.updated_at)))));
  }
  if (!conversations.length) list.append(h('li', { class: 'muted' }, 'No conversations yet.'));
  panel.replaceChildren(h('div', { class: 'split' }, h('div', { class: 'card' }, h('h3', {}, `Conversations (${conversations.length})`), list), detail));
  if (state.conversationId) await conversationDetail(inst, detail, state.conversationId);
  // New events: refresh the open conversation, or the list when another one moved.
  let timer;
  onFeed(panel, (e) => {
    if (!e?.conversation_id) return;
    clearTimeout(timer);
    timer = setTimeout(() => {
      if (!panel.isConnected) return;
      if (e.conversation_id === state.conversationId) detail.refresh?.();
      else conversationsView(inst, panel);
    }, 150);
  });
}

async function conversationDetail(inst, box, conversationId) {
  const list = h('ol', { class: 'msgs', 'aria-label': 'Messages' });
  const refresh = async () => {
    const { messages } = await api('GET', `/v1/instances/${inst.id}/conversations/${conversationId}/messages?limit=500`);
    list.replaceChildren(
      ...messages.map((m) =>
        h('li', { class: m.direction, 'data-message-id': m.id }, h('div', {}, m.text ?? h('em', { class: 'muted' }, '(no text)')), h('div', { class: 'meta' }, m.direction === 'in' ? 'received' : 'sent', ' · ', fmtTime(m.created_at), ' · ', badge(m.status), m.error ? h('span', { class: 'err-text' }, ` ${m.error.message || JSON.stringify(m.error)}`) : null)),
      ),
    );
    if (!messages.length) list.append(h('li', { class: 'muted' }, 'No messages.'));
    list.scrollTop = list.scrollHeight;
  };
  const text = h('textarea', { rows: 2, required: true });
  const form = h('form', { 'aria-label': 'Send as operator' }, field('text', 'Operator message', text, 'Goes to the person on their channel, like an agent answer.'), h('div', { class: 'form-error', role: 'alert' }), h('div', { class: 'actions' }, h('button', { class: 'primary', type: 'submit' }, 'Send')));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    clearErrors(form);
    if (!text.value.trim()) return;
    try {
      await api('POST', `/v1/instances/${inst.id}/conversations/${conversationId}/messages`, { text: text.value }, { 'idempotency-key': crypto.randomUUID() });
      text.value = '';
      await refresh();
    } catch (err) {
      showErrors(form, err);
    }
  });
  box.replaceChildren(h('h3', {}, 'Messages'), list, form);
  box.refresh = refresh;
  await refresh();
}

// ---- dead deliveries ---------------------------------------------------------------------------
async function deadView(inst, panel) {
  const { deliveries } = await api('GET', `/v1/instances/${inst.id}/deliveries/dead`);
  const out = h('p', { role: 'status', class: 'muted' });
  const rows = deliveries.map((d) =>
    h('tr', { 'data-delivery-id': d.id },
      h('td', { class: 'mono' }, String(d.id)),
      h('td', { class: 'mono' }, d.event_id),
      h('td', {}, String(d.attempts)),
      h('td', { class: 'err-text' }, d.last_error ?? ''),
      h('td', {}, fmtTime(d.updated_at)),
      h('td', {}, h('button', { type: 'button', onclick: async (e) => {
        e.target.disabled = true;
        try {
          await api('POST', `/v1/instances/${inst.id}/deliveries/${d.id}/replay`);
          out.textContent = `Delivery ${d.id} queued again.`;
          setTimeout(() => panel.isConnected && deadView(inst, panel).then(() => panel.querySelector('[role=status]')?.replaceWith(out)), 800);
        } catch (err) {
          out.textContent = err.message;
          e.target.disabled = false;
        }
      } }, 'Replay'))));
  const table = h('table', {}, h('thead', {}, h('tr', {}, ['#', 'Event', 'Attempts', 'Last error', 'Given up at', ''].map((t) => h('th', { scope: 'col' }, t)))), h('tbody', {}, rows));
  panel.replaceChildren(h('div', { class: 'card' }, h('h3', {}, `Dead-lettered deliveries (${deliveries.length})`), h('div', { class: 'actions' }, h('button', { type: 'button', onclick: () => deadView(inst, panel) }, 'Refresh')), out, deliveries.length ? table : h('p', { class: 'muted' }, 'None: every event reached the agent or is still being retried.')));
}

// ---- boot --------------------------------------------------------------------------------------
if (key) start().catch(() => renderLogin());
else renderLogin();
