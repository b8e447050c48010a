// @ts-check
// DOM helpers: elements are built with createElement/textContent only, so no text that came from the
// API (a visitor's message, a channel name) is ever parsed as HTML.

/** @typedef {string | number | boolean | null | undefined | EventListener | ((e: any) => unknown)} AttrValue */
/** @typedef {import('./types').Child} Child */

/**
 * `h('button', {type: 'button', onclick: go}, 'Save')`. Attributes that are null/undefined/false are
 * left out; `on…` adds a listener; `class` and `text` set className and textContent.
 * @template {keyof HTMLElementTagNameMap} K
 * @param {K} tag
 * @param {Record<string, AttrValue> | null} [attrs]
 * @param {...Child} children
 * @returns {HTMLElementTagNameMap[K]}
 */
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), /** @type {EventListener} */ (v));
    else if (k === 'class') el.className = String(v);
    else if (k === 'text') el.textContent = String(v);
    else if (k === 'value' && 'value' in el) /** @type {HTMLInputElement} */ (el).value = String(v);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  append(el, children);
  return el;
}

/**
 * @param {Element} el
 * @param {Child[]} children
 */
function append(el, children) {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else el.append(c instanceof Node ? c : String(c));
  }
}

/** @param {string | null | undefined} t */
export const fmtTime = (t) => (t ? new Date(t).toLocaleString() : '—');

/** Short time for message lists: the time today, else the date and time. @param {string | null | undefined} t */
export function shortTime(t) {
  if (!t) return '';
  const d = new Date(t);
  const today = new Date().toDateString() === d.toDateString();
  return today ? d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' }) : d.toLocaleString([], { dateStyle: 'short', timeStyle: 'short' });
}

/** @param {string} s */
export const badge = (s) => h('span', { class: `badge ${s}` }, s);

/**
 * A "Copy" button for `text()`; says "Copied" for a moment. The Clipboard API needs a secure context
 * (https or localhost); elsewhere the old select-and-copy path is tried.
 * @param {() => string} text
 * @param {string} label accessible name, e.g. "Copy webhook URL"
 */
export function copyButton(text, label) {
  const b = h('button', { type: 'button', class: 'copy', 'aria-label': label, title: label }, 'Copy');
  b.addEventListener('click', async () => {
    const value = text();
    let ok = false;
    try {
      await navigator.clipboard.writeText(value);
      ok = true;
    } catch {
      const ta = h('textarea', { class: 'offscreen', readonly: true });
      ta.value = value;
      document.body.append(ta);
      ta.select();
      ok = document.execCommand('copy');
      ta.remove();
    }
    b.textContent = ok ? 'Copied' : 'Copy failed';
    b.setAttribute('aria-label', `${label}: ${ok ? 'copied' : 'copy failed'}`);
    setTimeout(() => {
      b.textContent = 'Copy';
      b.setAttribute('aria-label', label);
    }, 1500);
  });
  return b;
}

/**
 * A read-only value with its copy button (webhook URLs, embed tags, ids).
 * @param {string} value
 * @param {string} label
 */
export function copyField(value, label) {
  const input = h('input', { class: 'mono', readonly: true, value, 'aria-label': label, onfocus: (/** @type {FocusEvent} */ e) => /** @type {HTMLInputElement} */ (e.target).select() });
  return h('div', { class: 'copyable' }, input, copyButton(() => input.value, `Copy ${label.charAt(0).toLowerCase()}${label.slice(1)}`));
}

/**
 * A secret shown once, with a copy button.
 * @param {string} title
 * @param {string} secret
 */
export function secretBox(title, secret) {
  return h('div', { class: 'card once', role: 'status' },
    h('h3', {}, title),
    h('div', { class: 'copyable' }, h('div', { class: 'secret mono' }, secret), copyButton(() => secret, `Copy ${title.charAt(0).toLowerCase()}${title.slice(1)}`)),
    h('p', { class: 'muted' }, 'Copy it now: Switchboard keeps only a hash or an encrypted copy and never shows it again.'));
}
