// @ts-check
// Media items of a message (images inline, audio and video with controls, anything else as a link).
// The URLs are Switchboard's own signed links, so the page's CSP ('self') allows them.
import { h } from './dom.js';

/** @typedef {import('./types').MediaItem} MediaItem */

/** @param {number} n */
export function fmtSize(n) {
  if (!Number.isFinite(n)) return '';
  return n < 1024 ? `${n} B` : n < 1024 * 1024 ? `${(n / 1024).toFixed(1)} KB` : `${(n / 1024 / 1024).toFixed(1)} MB`;
}

/** @param {MediaItem} m */
function item(m) {
  const name = m.file_name || m.caption || m.kind;
  if (m.status !== 'ready') {
    return h('div', { class: 'media failed' }, `${name}: ${m.status === 'too_large' ? `too large (${fmtSize(m.size)})` : 'could not be fetched'}`);
  }
  /** @type {HTMLElement} */
  let el;
  if (m.kind === 'image' || m.kind === 'sticker') {
    el = h('a', { href: m.url, target: '_blank', rel: 'noopener' }, h('img', { src: m.url, alt: m.caption || m.file_name || 'image', loading: 'lazy' }));
  } else if (m.kind === 'audio' || m.kind === 'voice') {
    el = h('audio', { src: m.url, controls: true, preload: 'none', 'aria-label': name });
  } else if (m.kind === 'video') {
    el = h('video', { src: m.url, controls: true, preload: 'metadata', 'aria-label': name });
  } else {
    el = h('a', { href: m.url, target: '_blank', rel: 'noopener', download: m.file_name || null }, `📄 ${name}`);
  }
  return h('figure', { class: `media ${m.kind}`, 'data-media-id': m.id }, el,
    h('figcaption', { class: 'muted small' }, [m.caption, m.file_name && m.caption ? m.file_name : null, `${m.mime_type}, ${fmtSize(m.size)}`].filter(Boolean).join(' · ')),
    m.transcript ? h('blockquote', { class: 'transcript' }, m.transcript) : null);
}

/** @param {MediaItem[]} items */
export const mediaView = (items) => h('div', { class: 'attachments' }, items.map(item));
