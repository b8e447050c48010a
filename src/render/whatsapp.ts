import type { Inline } from './ast.js';
import { layoutBlocks, type Dialect } from './layout.js';
import { parseMarkdown } from './parse.js';

/**
 * WhatsApp only honours a marker when it hugs non-space text ("*bold*", not "* bold *"), so
 * surrounding whitespace is moved outside the markers.
 */
function wrap(marker: string, inner: string): string {
  const m = /^(\s*)([\s\S]*?)(\s*)$/.exec(inner);
  if (!m || !m[2]) return inner;
  return `${m[1]}${marker}${m[2]}${marker}${m[3]}`;
}

/** "text (url)", or just the url when the text is the url (autolinks). */
export function linkWithUrl(text: string, href: string): string {
  const t = text.trim();
  if (!t || t === href || t === href.replace(/^mailto:/i, '')) return href.replace(/^mailto:/i, '');
  return `${text} (${href})`;
}

function inline(nodes: Inline[]): string {
  let s = '';
  for (const n of nodes) {
    switch (n.kind) {
      case 'text':
        s += n.text;
        break;
      case 'break':
        s += '\n';
        break;
      case 'code':
        s += n.text ? `\`${n.text}\`` : '';
        break;
      case 'strong':
        s += wrap('*', inline(n.children));
        break;
      case 'em':
        s += wrap('_', inline(n.children));
        break;
      case 'del':
        s += wrap('~', inline(n.children));
        break;
      case 'spoiler':
        // WhatsApp has no spoiler; showing the text beats hiding what the agent said.
        s += inline(n.children);
        break;
      case 'link':
        s += linkWithUrl(inline(n.children), n.href);
        break;
      case 'image':
        s += linkWithUrl(n.alt || 'image', n.src);
        break;
    }
  }
  return s;
}

const dialect: Dialect = {
  inline,
  // Nested emphasis inside a heading would double the asterisks; a heading is bold as a whole.
  heading: (text) => wrap('*', text.replace(/\*/g, '')),
  code: (text) => (text ? '```' + text + '```' : ''),
  quote: (inner) =>
    inner
      .split('\n')
      .map((l) => `> ${l}`)
      .join('\n'),
  table: (grid) => '```' + grid + '```',
  rule: '──────────',
  bullet: '- ',
  task: (checked) => (checked ? '- [x] ' : '- [ ] '),
};

/**
 * Renders agent Markdown as WhatsApp text markup (*bold*, _italic_, ~strike~, ```mono```).
 *
 * @example renderWhatsApp('**Hi** [docs](https://x.dev)') // '*Hi* docs (https://x.dev)'
 */
export function renderWhatsApp(md: string): string {
  return layoutBlocks(parseMarkdown(md), dialect);
}

