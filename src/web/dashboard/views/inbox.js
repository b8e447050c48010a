// @ts-check
// The inbox: conversations with who, where, a preview of the last message, state, mode and unread,
// searchable and filtered; the picked one opens beside the list (conversation.js).
import { api } from '../lib/api.js';
import { badge, h, shortTime } from '../lib/dom.js';
import { contactLabel, preview, toConversation, toMessage } from '../lib/shapes.js';
import { conversationView } from './conversation.js';

/** @typedef {import('../app.js').ViewContext} ViewContext */
/** @typedef {import('../lib/types').Conversation} Conversation */
/** @typedef {import('../lib/types').Message} Message */

const SEEN = 'switchboard-seen:';
/** Conversations per page of the list; a reload asks for up to MAX_PAGE at once (the API's limit). */
const PAGE = 100;
const MAX_PAGE = 500;

/** Unread is per browser: activity after the operator last had the conversation open. */
export const seen = {
  /** @param {string} id */
  get: (id) => localStorage.getItem(SEEN + id) ?? '',
  /** @param {string} id @param {string | null} at */
  mark(id, at) {
    if (at && at > seen.get(id)) localStorage.setItem(SEEN + id, at);
  },
};

/** Filters live in the view's URL-less state so a refresh keeps them while the tab is open. */
const filters = { q: '', status: 'open', mode: '', channel: '' };

/** @type {Map<string, Message | null>} last message per conversation and last_message_at seen */
const previews = new Map();

/**
 * The last message of each conversation, when the API does not embed it: asked once per
 * conversation and change (keyed by last_message_at), a few at a time.
 * @param {ViewContext} ctx
 * @param {Conversation[]} convs
 * @param {() => void} repaint
 */
async function loadPreviews(ctx, convs, repaint) {
  const todo = convs.filter((c) => c.last_message === undefined && !previews.has(`${c.id}@${c.last_message_at}`));
  const next = async () => {
    for (let c = todo.shift(); c; c = todo.shift()) {
      const k = `${c.id}@${c.last_message_at}`;
      try {
        const r = await api('GET', `/v1/instances/${ctx.inst.id}/conversations/${c.id}/messages?order=desc&limit=1`);
        const ms = r.messages.map(toMessage).sort((/** @type {Message} */ a, /** @type {Message} */ b) => (a.created_at < b.created_at ? 1 : -1));
        previews.set(k, ms[0] ?? null);
      } catch {
        previews.set(k, null);
      }
    }
  };
  if (!todo.length) return;
  await Promise.all([next(), next(), next(), next()]);
  repaint();
}

/** @param {ViewContext} ctx */
export async function inboxView(ctx) {
  const { inst, panel, feed } = ctx;
  const { channels } = await api('GET', `/v1/instances/${inst.id}/channels`);
  const chName = (/** @type {string} */ id) => {
    const c = channels.find((/** @type {any} */ x) => x.id === id);
    return c ? `${c.channel_type} · ${c.external_identifier}` : 'deleted channel';
  };
  /** @type {Conversation[]} */
  let all = [];
  const last = (/** @type {Conversation} */ c) => (c.last_message !== undefined ? c.last_message && toMessage(c.last_message) : previews.get(`${c.id}@${c.last_message_at}`));

  const search = h('input', { type: 'search', value: filters.q, placeholder: 'Name, text or id', 'aria-label': 'Search conversations' });
  const list = h('ul', { class: 'convs', 'aria-label': 'Conversations' });
  /** The next page of the list (the API's next_cursor), null when everything is loaded. */
  let cursor = /** @type {string | null} */ (null);
  const more = h('button', { type: 'button', class: 'older', hidden: true }, 'More conversations');
  const count = h('span', { class: 'muted', role: 'status' });
  const detail = h('div', { class: 'card detail' }, h('p', { class: 'muted' }, 'Pick a conversation.'));

  const paint = () => {
    const q = filters.q.trim().toLowerCase();
    const shown = all.filter((c) => !q || [contactLabel(c), c.contact.id ?? '', c.id, c.assignee ?? '', last(c)?.text ?? ''].some((t) => t.toLowerCase().includes(q)));
    count.textContent = `${shown.length} of ${all.length}`;
    list.replaceChildren(...shown.map((c) => {
      const m = last(c);
      const unread = c.id !== ctx.conversationId && (c.last_message_at ?? '') > seen.get(c.id);
      return h('li', {}, h('button', {
        type: 'button', class: unread ? 'unread' : null, 'aria-current': c.id === ctx.conversationId ? 'true' : null, 'data-conversation-id': c.id,
        onclick: () => open(c.id),
      },
      h('span', { class: 'who' }, unread ? h('span', { class: 'dot', title: 'unread' }, h('span', { class: 'sr' }, 'unread')) : null, h('strong', {}, contactLabel(c)), h('span', { class: 'when muted' }, shortTime(c.last_message_at))),
      h('span', { class: 'preview' }, m ? `${m.direction === 'outbound' ? '↩ ' : ''}${preview(m)}` : '…'),
      h('span', { class: 'tags' }, h('span', { class: 'muted' }, chName(c.channel_id)), c.status === 'closed' ? badge('closed') : null, c.mode === 'human' ? badge('human') : null, c.assignee ? h('span', { class: 'muted' }, `· ${c.assignee}`) : null)));
    }));
    if (!shown.length) list.append(h('li', { class: 'muted empty' }, all.length ? 'Nothing matches the search.' : 'No conversations here.'));
  };

  /**
   * One page of the list. A reload (new events, a filter) asks again from the start, for as many
   * as are shown, so pages loaded with "More conversations" stay.
   * @param {string | null} [after] next_cursor of the page before (append), or none (reload)
   */
  const load = async (after = null) => {
    const size = after ? PAGE : Math.min(MAX_PAGE, Math.max(PAGE, all.length));
    const params = new URLSearchParams({ limit: String(size) });
    if (filters.status) params.set('status', filters.status);
    if (filters.mode) params.set('mode', filters.mode);
    if (filters.channel) params.set('channel_id', filters.channel);
    if (after) params.set('cursor', after);
    const r = await api('GET', `/v1/instances/${inst.id}/conversations?${params}`);
    /** @type {Conversation[]} */
    const page = r.conversations.map(toConversation)
      // The server filters; this repeats it for one that ignores the parameters.
      .filter((/** @type {Conversation} */ c) => (!filters.status || c.status === filters.status) && (!filters.mode || c.mode === filters.mode));
    const byId = new Map((after ? all : []).map((c) => [c.id, c]));
    for (const c of page) byId.set(c.id, c);
    all = [...byId.values()].sort((a, b) => ((a.last_message_at ?? '') < (b.last_message_at ?? '') ? 1 : -1));
    cursor = r.next_cursor ?? null;
    more.hidden = !cursor;
    paint();
    void loadPreviews(ctx, all, paint);
  };
  more.addEventListener('click', () => void (cursor && load(cursor)));

  /** @param {string} id */
  const open = async (id) => {
    ctx.setConversation(id);
    paint();
    await conversationView(ctx, detail, id, all.find((c) => c.id === id), () => void load());
  };

  const select = (/** @type {string} */ label, /** @type {'status' | 'mode' | 'channel'} */ key, /** @type {[string, string][]} */ opts) => {
    const s = h('select', { 'aria-label': label }, opts.map(([v, t]) => h('option', { value: v, selected: filters[key] === v || null }, t)));
    s.addEventListener('change', () => {
      filters[key] = s.value;
      // Another filter is another list: start again from its first page.
      all = [];
      void load();
    });
    return s;
  };
  search.addEventListener('input', () => {
    filters.q = search.value;
    paint();
  });
  panel.replaceChildren(h('div', { class: 'split' },
    h('div', { class: 'card' },
      h('h3', {}, 'Inbox ', count),
      h('div', { class: 'filters' }, search,
        select('Status', 'status', [['open', 'Open'], ['closed', 'Closed'], ['', 'Any status']]),
        select('Mode', 'mode', [['', 'Any mode'], ['agent', 'Agent'], ['human', 'Human']]),
        select('Channel', 'channel', [['', 'All channels'], ...channels.map((/** @type {any} */ c) => /** @type {[string, string]} */ ([c.id, `${c.channel_type} · ${c.external_identifier}`]))])),
      list, more),
    detail));
  await load();
  if (ctx.conversationId) await open(ctx.conversationId);

  // New events: the list reloads (debounced) and the open conversation refreshes itself.
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  let timer;
  let openChanged = false;
  feed.listen(panel, (e) => {
    const cid = e?.conversation_id ?? e?.conversation?.id;
    if (!cid) return;
    openChanged ||= cid === ctx.conversationId;
    clearTimeout(timer);
    timer = setTimeout(() => {
      if (!panel.isConnected) return;
      if (openChanged) detail.dispatchEvent(new Event('refresh'));
      openChanged = false;
      void load();
    }, 150);
  });
}
