// @ts-check
import { checkKey, setKey } from '../lib/api.js';
import { h } from '../lib/dom.js';
import { field, formError } from '../lib/forms.js';

/**
 * The sign-in form.
 * @param {HTMLElement} root
 * @param {string | undefined} message shown under the form (why the last session ended)
 * @param {() => Promise<void>} start what to do once a key is accepted
 */
export function renderLogin(root, message, start) {
  const input = h('input', { type: 'password', autocomplete: 'off', required: true, spellcheck: 'false' });
  const err = formError();
  err.textContent = message || '';
  const form = h('form', { class: 'login', 'aria-labelledby': 'login-title' },
    h('h1', { id: 'login-title' }, 'Switchboard'),
    h('p', { class: 'muted' }, 'Sign in with an API key. The operator key was printed when Switchboard first started; a scoped key shows only its own instances.'),
    field('api_key', 'API key', input),
    err,
    h('div', { class: 'actions' }, h('button', { class: 'primary', type: 'submit' }, 'Sign in')));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const k = input.value.trim();
    try {
      await checkKey(k);
      setKey(k);
      await start();
    } catch (e2) {
      setKey(null);
      err.textContent = e2 instanceof Error ? e2.message : String(e2);
      input.setAttribute('aria-invalid', 'true');
      input.focus();
    }
  });
  root.replaceChildren(form);
  input.focus();
}
