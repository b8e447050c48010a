// @ts-check
// A small Markdown renderer for agent and operator messages: paragraphs, line breaks, **bold**,
// *italics*, `code`, fenced code blocks, - / 1. lists and [links](https://…). It builds DOM nodes with
// createElement and text nodes only — the text is never parsed as HTML, so markup in a message shows
// as the characters typed — and links keep only the http, https, mailto and tel schemes.
// (The widget has its own copy of these rules in ES5 form: it is one file with no imports.)

const SAFE_SCHEMES = new Set(['http:', 'https:', 'mailto:', 'tel:']);

/** The href to use, or null for anything but an absolute URL with a safe scheme. @param {string} raw */
export function safeHref(raw) {
  try {
    const u = new URL(raw);
    return SAFE_SCHEMES.has(u.protocol) ? u.href : null;
  } catch {
    return null;
  }
}

// One inline token per alternative: code, bold (** or __), italics (* or _), link, bare URL.
const INLINE = /`([^`\n]+)`|\*\*(?=\S)([\s\S]*?\S)\*\*|__(?=\S)([\s\S]*?\S)__|\*(?=[^\s*])([\s\S]*?[^\s*])\*|(?<![\w])_(?=[^\s_])([\s\S]*?[^\s_])_(?![\w])|\[([^\]\n]+)\]\(((?:[^()\s]|\([^()\s]*\))+)\)|(https?:\/\/[^\s<>()]*[^\s<>().,;:!?'"\]])/g;

/**
 * @param {string} text
 * @param {Node} into
 * @param {number} depth nesting guard for bold-inside-italics-inside-bold…
 */
function inline(text, into, depth = 0) {
  let at = 0;
  for (const m of text.matchAll(INLINE)) {
    const i = m.index ?? 0;
    if (i > at) into.appendChild(document.createTextNode(text.slice(at, i)));
    at = i + m[0].length;
    if (m[1] !== undefined) {
      const c = document.createElement('code');
      c.textContent = m[1];
      into.appendChild(c);
    } else if ((m[2] ?? m[3]) !== undefined || (m[4] ?? m[5]) !== undefined) {
      const bold = (m[2] ?? m[3]) !== undefined;
      const el = document.createElement(bold ? 'strong' : 'em');
      const inner = /** @type {string} */ (bold ? m[2] ?? m[3] : m[4] ?? m[5]);
      if (depth < 3) inline(inner, el, depth + 1);
      else el.textContent = inner;
      into.appendChild(el);
    } else {
      const label = m[6] ?? m[8];
      const href = safeHref(m[7] ?? m[8]);
      if (!href) {
        into.appendChild(document.createTextNode(m[6] !== undefined ? m[6] : m[0]));
        continue;
      }
      const a = document.createElement('a');
      a.href = href;
      a.target = '_blank';
      a.rel = 'noopener noreferrer nofollow';
      a.textContent = label;
      into.appendChild(a);
    }
  }
  if (at < text.length) into.appendChild(document.createTextNode(text.slice(at)));
}

/** Lines joined with <br>, each rendered inline. @param {string[]} lines @param {Element} into */
function lines(lines, into) {
  lines.forEach((l, i) => {
    if (i) into.appendChild(document.createElement('br'));
    inline(l, into);
  });
}

const ITEM = /^\s{0,3}([-*+]|\d{1,9}[.)])\s+(.*)$/;
const FENCE = /^\s{0,3}```/;

/**
 * Renders `text` as Markdown into a fragment of safe DOM nodes.
 * @param {string} text
 * @returns {DocumentFragment}
 */
export function renderMarkdown(text) {
  const out = document.createDocumentFragment();
  const src = String(text ?? '').replace(/\r\n?/g, '\n').split('\n');
  /** @type {string[]} */
  let para = [];
  const flush = () => {
    if (!para.length) return;
    const p = document.createElement('p');
    lines(para, p);
    out.appendChild(p);
    para = [];
  };
  for (let i = 0; i < src.length; i++) {
    const line = src[i];
    if (FENCE.test(line)) {
      flush();
      const code = [];
      while (++i < src.length && !FENCE.test(src[i])) code.push(src[i]);
      const pre = document.createElement('pre');
      const c = document.createElement('code');
      c.textContent = code.join('\n');
      pre.appendChild(c);
      out.appendChild(pre);
      continue;
    }
    const item = ITEM.exec(line);
    if (item) {
      flush();
      const ordered = /\d/.test(item[1]);
      const list = document.createElement(ordered ? 'ol' : 'ul');
      if (ordered && parseInt(item[1], 10) !== 1) list.setAttribute('start', String(parseInt(item[1], 10)));
      for (; i < src.length; i++) {
        const it = ITEM.exec(src[i]);
        if (!it || /\d/.test(it[1]) !== ordered) break;
        const li = document.createElement('li');
        inline(it[2], li);
        list.appendChild(li);
      }
      i--;
      out.appendChild(list);
      continue;
    }
    if (!line.trim()) flush();
    else para.push(line);
  }
  flush();
  return out;
}
