// @ts-check
// One conversation: its state and mode with claim / hand back / close, every message with its
// author, time and delivery status (agent and operator text rendered as safe Markdown, attachments
// shown), older pages on demand, and the operator's reply box.
import { ApiError, api } from '../lib/api.js';
import { badge, copyButton, fmtTime, h, shortTime } from '../lib/dom.js';
import { clearErrors, failsChecks, field, formError, showErrors } from '../lib/forms.js';
import { renderMarkdown } from '../lib/markdown.js';
import { mediaView } from '../lib/media.js';
import { authorLabel, contactLabel, toConversation, toMessage } from '../lib/shapes.js';
import { seen } from './inbox.js';

/** @typedef {import('../app.js').ViewContext} ViewContext */
/** @typedef {import('../lib/types').Conversation} Conversation */
/** @typedef {import('../lib/types').Message} Message */

const PAGE = 50;

/**
 * The box shows one conversation at a time: opening another replaces the first one's refresh
 * listener (else every conversation ever opened would reload on each live event), and a slow
 * first open that resolves after a later one does not paint over it.
 * @type {WeakMap<HTMLElement, {stop: () => void}>}
 */
const shown = new WeakMap();

/**
 * @param {ViewContext} ctx
 * @param {HTMLElement} box
 * @param {string} id
 * @param {Conversation | undefined} listed the list's copy, used while the server has no single-conversation GET
 * @param {() => void} changed tells the list that state or mode changed
 */
export async function conversationView(ctx, box, id, listed, changed) {
  const base = `/v1/instances/${ctx.inst.id}/conversations/${id}`;
  shown.get(box)?.stop();
  const view = { stop: () => {} };
  shown.set(box, view);
  const current = () => shown.get(box) === view;
  /** @type {Conversation} */
  let conv;
  try {
    conv = toConversation(await api('GET', base));
  } catch (err) {
    if (!(err instanceof ApiError && err.status === 404 && listed)) throw err;
    conv = listed;
  }
  if (!current()) return;
  /** @type {Map<string, Message>} */
  const messages = new Map();
  let more = false;

  const head = h('div', { class: 'conv-head' });
  const status = h('p', { class: 'muted', role: 'status' });
  const list = h('ol', { class: 'msgs', 'aria-label': 'Messages' });
  const older = h('button', { type: 'button', class: 'older', hidden: true }, 'Load older messages');

  /** @param {'handoff' | 'resume' | 'close' | 'reopen'} action @param {object} [body] */
  const act = async (action, body) => {
    status.textContent = '';
    try {
      const r = await api('POST', `${base}/${action}`, body ?? {});
      conv = toConversation(r?.id ? r : { ...conv, ...(r?.conversation ?? {}) });
      paintHead();
      changed();
    } catch (err) {
      status.textContent = err instanceof Error ? err.message : String(err);
    }
  };

  const paintHead = () => {
    const me = ctx.operatorName();
    head.replaceChildren(
      h('div', { class: 'conv-title' },
        h('h3', {}, contactLabel(conv)),
        badge(conv.status), badge(conv.mode === 'human' ? 'human' : 'agent'),
        conv.assignee ? h('span', { class: 'muted' }, `assigned to ${conv.assignee}`) : null),
      h('div', { class: 'muted mono small' }, conv.id, ' ', copyButton(() => conv.id, 'Copy conversation id')),
      h('div', { class: 'actions' },
        conv.mode === 'agent'
          ? h('button', { type: 'button', class: 'primary', onclick: () => act('handoff', { assignee: me, reason: `claimed by ${me} in the dashboard` }) }, 'Claim')
          : h('button', { type: 'button', onclick: () => act('resume') }, 'Hand back to agent'),
        conv.status === 'open'
          ? h('button', { type: 'button', onclick: () => act('close') }, 'Close conversation')
          : h('button', { type: 'button', onclick: () => act('reopen') }, 'Reopen')),
      h('p', { class: 'muted small' }, conv.mode === 'human'
        ? 'Human mode: the agent still sees events (marked human) but its replies are held back.'
        : 'Agent mode: the agent answers. Claim the conversation to answer yourself.'),
      // Why it is in this mode (a handoff the agent asked for says why; "idle" after a quiet spell).
      ...(conv.mode_reason ? [h('p', { class: 'small mode-reason' }, h('span', { class: 'muted' }, conv.mode === 'human' ? 'Handed over: ' : 'Back to the agent: '), modeReason(conv.mode_reason))] : []));
  };

  /** @param {Message} m */
  const row = (m) => {
    const body = h('div', { class: 'body' });
    if (m.text) {
      // People type plain text; agents and operators write Markdown.
      if (m.author.kind === 'contact') body.append(h('p', { class: 'plain' }, m.text));
      else body.append(renderMarkdown(m.text));
    }
    if (m.attachments.length) body.append(mediaView(m.attachments));
    if (!m.text && !m.attachments.length) body.append(h('em', { class: 'muted' }, '(no text)'));
    return h('li', { class: `${m.direction} ${m.author.kind}`, 'data-message-id': m.id },
      h('div', { class: 'meta' },
        h('strong', { class: 'author' }, authorLabel(m, conv)),
        h('span', { class: 'kind' }, m.author.kind),
        h('time', { datetime: m.created_at, title: fmtTime(m.created_at) }, shortTime(m.created_at)),
        badge(m.status)),
      body,
      m.status_reason ? h('div', { class: 'err-text' }, m.status_reason) : null);
  };

  /** Oldest first, as the API orders history (created_at, then id). @param {Message} a @param {Message} b */
  const byTime = (a, b) => (a.created_at === b.created_at ? (a.id < b.id ? -1 : 1) : a.created_at < b.created_at ? -1 : 1);
  const paint = () => {
    const sorted = [...messages.values()].sort(byTime);
    list.replaceChildren(...sorted.map(row));
    if (!sorted.length) list.append(h('li', { class: 'muted' }, 'No messages.'));
    older.hidden = !more;
    const newest = sorted[sorted.length - 1];
    seen.mark(conv.id, conv.last_message_at && newest && conv.last_message_at > newest.created_at ? conv.last_message_at : newest?.created_at ?? conv.last_message_at);
  };

  /** @param {string} [before] */
  const fetchPage = async (before) => {
    const q = new URLSearchParams({ order: 'desc', limit: String(PAGE) });
    if (before) q.set('before', before);
    const r = await api('GET', `${base}/messages?${q}`);
    let added = 0;
    for (const raw of r.messages) {
      const m = toMessage(raw);
      if (!messages.has(m.id)) added++;
      messages.set(m.id, m);
    }
    // A page that brought nothing new (a server without cursors) ends the paging.
    if (before || !more) more = r.messages.length === PAGE && added > 0;
  };
  /** Newest messages, and the state and mode too when asked (a live event may be a handoff, a close...). */
  const refresh = async (withHead = false) => {
    if (withHead) {
      const fresh = toConversation(await api('GET', base));
      if (!current()) return;
      if (fresh.status !== conv.status || fresh.mode !== conv.mode || fresh.assignee !== conv.assignee || fresh.mode_reason !== conv.mode_reason) {
        conv = fresh;
        paintHead();
      } else conv = fresh;
    }
    await fetchPage();
    paint();
    list.scrollTop = list.scrollHeight;
  };
  older.addEventListener('click', async () => {
    const first = [...messages.values()].sort(byTime)[0];
    const top = list.scrollHeight - list.scrollTop;
    await fetchPage(first?.id);
    paint();
    list.scrollTop = list.scrollHeight - top;
  });

  box.replaceChildren(head, status, older, list, composer(ctx, conv, base, refresh));
  const onRefresh = () => void refresh(true).catch(() => {});
  box.addEventListener('refresh', onRefresh);
  view.stop = () => box.removeEventListener('refresh', onRefresh);
  paintHead();
  await refresh();
}

/** The stable reasons in words; a handoff's own reason is shown as the agent or operator wrote it. @param {string} r */
const modeReason = (r) => ({ operator_message: 'an operator wrote in the conversation', idle: 'no message for a while' })[r] ?? r;

/**
 * @param {ViewContext} ctx
 * @param {Conversation} conv
 * @param {string} base
 * @param {() => Promise<void>} refresh
 */
function composer(ctx, conv, base, refresh) {
  const text = h('textarea', { rows: 3 });
  const form = h('form', { 'aria-label': 'Reply as operator', novalidate: true },
    field('text', 'Reply', text, 'Markdown: **bold**, *italics*, `code`, [links](https://…), - lists. Sent to the person on their channel, signed with your name.', { wide: true }),
    formError(),
    h('div', { class: 'actions' }, h('button', { class: 'primary', type: 'submit' }, 'Send'), h('span', { class: 'muted small as-name' }, `as ${ctx.operatorName()}`)));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const max = (await ctx.channelCapabilities(conv.channel_id))?.max_text_length;
    if (failsChecks(form, { text: !text.value.trim() ? 'Write something first.' : max && text.value.length > max ? `At most ${max} characters on this channel (${text.value.length} now).` : null })) return;
    clearErrors(form);
    try {
      await api('POST', `${base}/messages`, { text: text.value, author: { kind: 'operator', name: ctx.operatorName() } }, { 'idempotency-key': crypto.randomUUID() });
      text.value = '';
      await refresh();
    } catch (err) {
      showErrors(form, err);
    }
  });
  text.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) form.requestSubmit();
  });
  return form;
}
