// @ts-check
// Switchboard operator dashboard: plain ES modules over the public API, type-checked by tsc
// (src/web/tsconfig.json), no build step. This file is the shell — sign-in, the instance list, the
// tabs and the hash route (#/i/<instance>/<tab>[/<conversation>], #/keys, #/credentials); each view
// is a module under views/.
import { api, currentKey, onUnauthorized, setKey } from './lib/api.js';
import { h, secretBox } from './lib/dom.js';
import { blank, clearErrors, failsChecks, field, formError, showErrors } from './lib/forms.js';
import { forgetProviders, providers } from './lib/providers.js';
import { Feed } from './lib/sse.js';
import { apiKeysView } from './views/api-keys.js';
import { connectionsView, credentialsView } from './views/accounts.js';
import { channelsView } from './views/channels.js';
import { deadView } from './views/dead.js';
import { eventsView } from './views/events.js';
import { inboxView } from './views/inbox.js';
import { renderLogin } from './views/login.js';
import { settingsView } from './views/settings.js';

/** @typedef {import('./lib/types').Instance} Instance */
/** @typedef {import('./lib/types').Provider} Provider */
/** @typedef {import('./lib/types').Capabilities} Capabilities */

/**
 * What a view gets.
 * @typedef {object} ViewContext
 * @property {Instance} inst
 * @property {HTMLElement} panel
 * @property {Feed} feed
 * @property {() => Promise<Provider[]>} providers
 * @property {string | null} conversationId the open conversation of the inbox
 * @property {(id: string | null) => void} setConversation
 * @property {() => string} operatorName the name operator messages and claims carry
 * @property {(channelId: string) => Promise<Capabilities | null>} channelCapabilities
 */

const root = /** @type {HTMLElement} */ (document.getElementById('app'));
const NAME_STORE = 'switchboard-operator-name';

const state = {
  /** @type {Instance[]} */
  instances: [],
  /** @type {string | null} */
  instanceId: null,
  tab: 'inbox',
  /** @type {string | null} */
  conversationId: null,
  /** @type {Feed | null} */
  feed: null,
  /** @type {Map<string, {provider: string}>} */
  channels: new Map(),
};

/** @type {[string, string, (ctx: ViewContext) => Promise<void>][]} */
const TABS = [
  ['inbox', 'Inbox', inboxView],
  ['channels', 'Channels', channelsView],
  ['connections', 'Connections', connectionsView],
  ['settings', 'Agent settings', settingsView],
  ['events', 'Live events', eventsView],
  ['dead', 'Dead deliveries', deadView],
];

/** @param {string} [message] */
function signOut(message) {
  setKey(null);
  stopFeed();
  forgetProviders();
  renderLogin(root, message, start);
}
onUnauthorized(signOut);

const operatorName = () => localStorage.getItem(NAME_STORE) || 'Operator';

async function start() {
  const r = await api('GET', '/v1/instances');
  state.instances = r.instances;
  const m = /^#\/(?:i\/([0-9a-f-]{36})(?:\/(\w+))?(?:\/([0-9a-f-]{36}))?|(keys|credentials))/.exec(location.hash);
  if (m?.[4]) state.tab = m[4];
  if (m?.[1] && state.instances.some((i) => i.id === m[1])) {
    state.instanceId = m[1];
    state.tab = m[2] || 'inbox';
    state.conversationId = m[3] ?? null;
  } else state.instanceId = state.instances[0]?.id ?? null;
  renderShell();
}

function route() {
  const path = state.tab === 'keys' || state.tab === 'credentials' ? state.tab : `i/${state.instanceId}/${state.tab}${state.conversationId ? `/${state.conversationId}` : ''}`;
  history.replaceState(null, '', `#/${path}`);
}

/** @param {string | null} id @param {string} tab */
function select(id, tab) {
  state.instanceId = id;
  state.tab = tab;
  state.conversationId = null;
  route();
  renderShell();
}

function renderShell() {
  const nav = h('nav', { class: 'side', 'aria-label': 'Instances' }, h('h2', {}, 'Instances'));
  const list = h('ul', {});
  for (const i of state.instances) {
    list.append(h('li', {}, h('button', { type: 'button', 'aria-current': i.id === state.instanceId && !isAccountTab() ? 'page' : null, onclick: () => select(i.id, 'inbox') }, i.name)));
  }
  if (!state.instances.length) list.append(h('li', { class: 'muted' }, 'No instances yet.'));
  const account = h('ul', {},
    h('li', {}, h('button', { type: 'button', 'aria-current': state.tab === 'keys' ? 'page' : null, onclick: () => select(state.instanceId, 'keys') }, 'API keys')),
    h('li', {}, h('button', { type: 'button', 'aria-current': state.tab === 'credentials' ? 'page' : null, onclick: () => select(state.instanceId, 'credentials') }, 'Platform credentials')));
  nav.append(list, newInstanceForm(), h('h2', {}, 'Account'), account);
  const main = h('main', { id: 'main' });
  const name = h('input', { value: operatorName(), maxlength: 80, 'aria-label': 'Your name', title: 'Shown as the author of your messages and on conversations you claim' });
  name.addEventListener('change', () => {
    if (name.value.trim()) localStorage.setItem(NAME_STORE, name.value.trim());
    else localStorage.removeItem(NAME_STORE);
    document.querySelectorAll('.as-name').forEach((e) => (e.textContent = `as ${operatorName()}`));
  });
  const k = currentKey() ?? '';
  root.replaceChildren(
    h('header', { class: 'top' }, h('h1', {}, 'Switchboard'), h('label', { class: 'me' }, 'You: ', name), h('span', { class: 'who' }, `key …${k.slice(-4)}`), h('button', { type: 'button', onclick: () => signOut() }, 'Sign out')),
    h('div', { class: 'layout' }, nav, main));
  if (isAccountTab()) renderAccount(main);
  else renderInstance(main);
}

const isAccountTab = () => state.tab === 'keys' || state.tab === 'credentials';

/** @param {HTMLElement} main */
function renderAccount(main) {
  stopFeed();
  const panel = h('section', { 'aria-label': state.tab === 'keys' ? 'API keys' : 'Platform credentials' });
  main.replaceChildren(panel);
  const p = state.tab === 'keys' ? apiKeysView(panel, state.instances) : credentialsView({ providers }, panel);
  p.catch((err) => panel.append(h('p', { class: 'err-text', role: 'alert' }, err.message)));
}

function newInstanceForm() {
  const name = h('input', { required: true, maxlength: 200 });
  const form = h('form', { 'aria-label': 'New instance', novalidate: true }, h('h2', {}, 'New instance'), field('name', 'Name', name), formError(), h('div', { class: 'actions' }, h('button', { type: 'submit' }, 'Create')));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    if (failsChecks(form, { name: blank(name.value) && 'Give the instance a name.' })) return;
    clearErrors(form);
    try {
      const inst = await api('POST', '/v1/instances', { name: name.value.trim() });
      state.instances.push(inst);
      select(inst.id, 'channels');
      document.getElementById('main')?.prepend(secretBox(`Signing secret of “${inst.name}” (shown once)`, inst.signing_secret));
    } catch (err) {
      showErrors(form, err);
    }
  });
  return form;
}

function stopFeed() {
  state.feed?.stop();
  state.feed = null;
}

/** @param {string} instanceId */
function feedFor(instanceId) {
  if (state.feed?.instanceId !== instanceId) {
    stopFeed();
    state.feed = new Feed(instanceId, () => signOut('That API key was refused. Sign in again.'));
  }
  return state.feed;
}

/** The capabilities of a channel's provider (for limits such as the text length). @param {string} instanceId @param {string} channelId */
async function channelCapabilities(instanceId, channelId) {
  if (!state.channels.has(channelId)) {
    const { channels } = await api('GET', `/v1/instances/${instanceId}/channels`);
    for (const c of channels) state.channels.set(c.id, c);
  }
  const name = state.channels.get(channelId)?.provider;
  return (await providers().catch(() => null))?.find((p) => p.name === name)?.capabilities ?? null;
}

/** @param {HTMLElement} main */
function renderInstance(main) {
  const inst = state.instances.find((i) => i.id === state.instanceId);
  if (!inst) {
    stopFeed();
    main.replaceChildren(h('p', { class: 'muted' }, 'Create or pick an instance.'));
    return;
  }
  const feed = feedFor(inst.id);
  const tabs = h('div', { class: 'tabs', role: 'tablist', 'aria-label': inst.name });
  const panel = h('section', { role: 'tabpanel', id: 'tabpanel', tabindex: '-1', 'aria-labelledby': `tab-${state.tab}` });
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
  main.replaceChildren(h('h2', {}, inst.name, ' ', h('span', { class: 'muted mono' }, inst.id)), tabs, panel);
  const view = (TABS.find(([id]) => id === state.tab) ?? TABS[0])[2];
  /** @type {ViewContext} */
  const ctx = {
    inst, panel, feed, providers, operatorName,
    conversationId: state.conversationId,
    setConversation(id) {
      ctx.conversationId = state.conversationId = id;
      route();
    },
    channelCapabilities: (channelId) => channelCapabilities(inst.id, channelId),
  };
  view(ctx).catch((err) => panel.append(h('p', { class: 'err-text', role: 'alert' }, err.message)));
}

if (currentKey()) start().catch(() => renderLogin(root, undefined, start));
else renderLogin(root, undefined, start);
