// @ts-check
// Forms: labelled fields with an error line each, and 422 issues placed next to their field.
// Client-side checks report issues in the API's own shape and go through the same display, so a
// check made here never hides what the server says about the other fields.
import { ApiError } from './api.js';
import { h } from './dom.js';

/** @typedef {import('./types').Issue} Issue */
/** @typedef {HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement} Control */

let seq = 0;

/**
 * A labelled field; its error line is tied to the control with aria-describedby.
 * @param {string} name the API's field name (422 issues with loc ['body', name] land here)
 * @param {string} label
 * @param {Control} control
 * @param {string} [hint]
 * @param {{wide?: boolean}} [opts]
 */
export function field(name, label, control, hint, opts = {}) {
  const id = `f-${name.replace(/\W/g, '_')}-${++seq}`;
  control.id = id;
  control.name = name;
  const err = h('div', { class: 'error', id: `${id}-err`, 'data-error-for': name });
  const hintEl = hint ? h('div', { class: 'hint', id: `${id}-hint` }, hint) : null;
  control.setAttribute('aria-describedby', hintEl ? `${id}-err ${id}-hint` : `${id}-err`);
  return h('div', { class: `field${opts.wide ? ' wide' : ''}` }, h('label', { for: id }, label), control, hintEl, err);
}

/** The line under a form where errors without a field of their own go. */
export const formError = () => h('div', { class: 'form-error', role: 'alert' });

/** @param {HTMLFormElement} form */
export function clearErrors(form) {
  form.querySelectorAll('[data-error-for]').forEach((e) => {
    e.textContent = '';
    e.removeAttribute('data-source');
  });
  form.querySelectorAll('[aria-invalid]').forEach((e) => e.removeAttribute('aria-invalid'));
  const fe = form.querySelector('.form-error');
  if (fe) fe.textContent = '';
}

/**
 * Puts each issue next to its field (loc ['body', field, ...]); the rest go under the form.
 * Returns how many issues it showed.
 * @param {HTMLFormElement} form
 * @param {Issue[]} issues
 */
export function showIssues(form, issues) {
  const rest = [];
  for (const d of issues) {
    // The most specific field first: loc ['body', 'secrets', 'bot_token'] -> "secrets.bot_token", then "secrets".
    const path = d.loc?.[0] === 'body' ? d.loc.slice(1).map(String) : [];
    let name = null;
    let slot = null;
    for (let n = path.length; n > 0 && !slot; n--) {
      name = path.slice(0, n).join('.');
      slot = form.querySelector(`[data-error-for="${CSS.escape(name)}"]`);
    }
    if (slot) {
      slot.textContent = slot.textContent ? `${slot.textContent}; ${d.msg}` : d.msg;
      // Whose word it is: a later check made here only replaces its own (see failsChecks).
      if (d.type === 'client') slot.setAttribute('data-source', 'client');
      else slot.setAttribute('data-source', 'server');
      form.querySelectorAll(`[name="${CSS.escape(/** @type {string} */ (name))}"]`).forEach((c) => c.setAttribute('aria-invalid', 'true'));
    } else rest.push(`${(d.loc || []).filter((x) => x !== 'body').join('.')}: ${d.msg}`);
  }
  const fe = form.querySelector('.form-error');
  if (fe && rest.length) fe.textContent = rest.join('\n');
  /** @type {HTMLElement | null} */ (form.querySelector('[aria-invalid=true]'))?.focus();
  return issues.length;
}

/**
 * Shows an API failure on a form: a 422's issues at their fields, anything else (403, 409, 502…)
 * under the form with the server's detail.
 * @param {HTMLFormElement} form
 * @param {unknown} err
 */
export function showErrors(form, err) {
  const detail = err instanceof ApiError ? err.body?.detail : undefined;
  if (err instanceof ApiError && err.status === 422 && Array.isArray(detail)) {
    showIssues(form, detail);
    return;
  }
  const fe = form.querySelector('.form-error');
  if (fe) fe.textContent = err instanceof Error ? err.message : String(err);
}

/**
 * Client-side checks before a request: `rules` map a field to a check returning a message or null.
 * @param {Record<string, string | null | undefined | false>} rules
 * @returns {Issue[]}
 */
export function check(rules) {
  /** @type {Issue[]} */
  const out = [];
  for (const [name, msg] of Object.entries(rules)) if (msg) out.push({ loc: ['body', name], msg, type: 'client' });
  return out;
}

/**
 * Runs client-side checks on submit. Only messages these checks own are replaced: a field that
 * fails now shows the new message; a field that passes loses an earlier message of a check made
 * here, but keeps what the server said about it (a check here — "is it JSON?" — is not the
 * server's — "is api_base_url a URL?" — so passing it does not answer the server). What the server
 * said about other fields stays too. Returns true when a check failed (then nothing is sent; when
 * nothing fails the caller clears every message and sends).
 * @param {HTMLFormElement} form
 * @param {Record<string, string | null | undefined | false>} rules field name -> message when it fails
 */
export function failsChecks(form, rules) {
  for (const [name, msg] of Object.entries(rules)) {
    const slot = form.querySelector(`[data-error-for="${CSS.escape(name)}"]`);
    if (!msg && slot?.getAttribute('data-source') === 'server') continue;
    if (slot) {
      slot.textContent = '';
      slot.removeAttribute('data-source');
    }
    form.querySelector(`[name="${CSS.escape(name)}"]`)?.removeAttribute('aria-invalid');
  }
  return showIssues(form, check(rules)) > 0;
}

/** @param {string} v */
export const blank = (v) => !v.trim();
