import type { Inline } from './ast.js';
import { layoutBlocks, type Dialect } from './layout.js';
import { parseMarkdown } from './parse.js';
import { linkWithUrl } from './whatsapp.js';

function inline(nodes: Inline[]): string {
  let s = '';
  for (const n of nodes) {
    switch (n.kind) {
      case 'text':
      case 'code':
        s += n.text;
        break;
      case 'break':
        s += '\n';
        break;
      case 'link':
        s += linkWithUrl(inline(n.children), n.href);
        break;
      case 'image':
        s += linkWithUrl(n.alt || 'image', n.src);
        break;
      default:
        s += inline(n.children);
    }
  }
  return s;
}

/**
 * Every character here is in the GSM-7 basic set on purpose: one "•" or "—" would switch a
 * whole SMS to UCS-2 and more than double its segment count.
 */
const dialect: Dialect = {
  inline,
  heading: (text) => text,
  code: (text) => text,
  quote: (inner) => inner,
  table: (grid) => grid,
  rule: '---',
  bullet: '- ',
  task: (checked) => (checked ? '- [x] ' : '- [ ] '),
};

/**
 * Renders agent Markdown as plain text for SMS: no markup, links as "text (url)".
 *
 * @example renderPlain('See [docs](https://x.dev)') // 'See docs (https://x.dev)'
 */
export function renderPlain(md: string): string {
  return layoutBlocks(parseMarkdown(md), dialect);
}
