import type { Inline } from './ast.js';
import { layoutBlocks, type Dialect } from './layout.js';
import { parseMarkdown } from './parse.js';
import { escapeHtmlAttr, escapeHtmlText, isSafeUrl } from './text-utils.js';

/** Schemes Telegram turns into working links; anything else (javascript:, data:, relative) is dropped. */
export const TELEGRAM_LINK_SCHEMES = ['http', 'https', 'tg', 'mailto'] as const;

/** Tags the Telegram HTML parse mode accepts and that this renderer emits. */
export const TELEGRAM_TAGS = ['b', 'i', 'u', 's', 'code', 'pre', 'a', 'blockquote', 'tg-spoiler'] as const;

function inline(nodes: Inline[]): string {
  let s = '';
  for (const n of nodes) {
    switch (n.kind) {
      case 'text':
        s += escapeHtmlText(n.text);
        break;
      case 'break':
        s += '\n';
        break;
      case 'code':
        s += `<code>${escapeHtmlText(n.text)}</code>`;
        break;
      case 'strong':
        s += wrap('b', inline(n.children));
        break;
      case 'em':
        s += wrap('i', inline(n.children));
        break;
      case 'del':
        s += wrap('s', inline(n.children));
        break;
      case 'spoiler':
        s += wrap('tg-spoiler', inline(n.children));
        break;
      case 'link': {
        const text = inline(n.children) || escapeHtmlText(n.href);
        s += isSafeUrl(n.href, TELEGRAM_LINK_SCHEMES) ? `<a href="${escapeHtmlAttr(n.href.trim())}">${text}</a>` : text;
        break;
      }
      case 'image': {
        // Telegram cannot inline an image in text; a link keeps it one tap away.
        const label = escapeHtmlText(n.alt || 'image');
        s += isSafeUrl(n.src, TELEGRAM_LINK_SCHEMES) ? `<a href="${escapeHtmlAttr(n.src.trim())}">${label}</a>` : label;
        break;
      }
    }
  }
  return s;
}

/** Empty formatting tags are pointless and Telegram rejects some of them. */
function wrap(tag: string, inner: string): string {
  return inner ? `<${tag}>${inner}</${tag}>` : '';
}

const dialect: Dialect = {
  inline,
  // The heading is bold already; inner <b> pairs would only nest the same entity.
  heading: (text) => wrap('b', text.replace(/<\/?b>/g, '')),
  code: (text, lang) => {
    const safeLang = lang.replace(/[^A-Za-z0-9_+#.-]/g, '');
    const body = escapeHtmlText(text);
    return safeLang ? `<pre><code class="language-${safeLang}">${body}</code></pre>` : `<pre>${body}</pre>`;
  },
  quote: (inner) => wrap('blockquote', inner),
  table: (grid) => `<pre>${escapeHtmlText(grid)}</pre>`,
  rule: '──────────',
  bullet: '• ',
  task: (checked) => (checked ? '☑ ' : '☐ '),
};

/**
 * Renders agent Markdown as Telegram Bot API HTML (`parse_mode: "HTML"`).
 *
 * @example renderTelegramHtml('**a < b**') // '<b>a &lt; b</b>'
 */
export function renderTelegramHtml(md: string): string {
  return layoutBlocks(parseMarkdown(md), dialect);
}
