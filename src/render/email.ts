import type { Block, Inline } from './ast.js';
import { parseMarkdown } from './parse.js';
import { renderPlain } from './plain.js';
import { escapeHtmlAttr, escapeHtmlText, isSafeUrl } from './text-utils.js';

/** Only these survive as links in mail; anything else (javascript:, data:, file:) becomes text. */
export const EMAIL_LINK_SCHEMES = ['http', 'https', 'mailto'] as const;

export interface RenderedEmail {
  /** text/plain alternative (same as the SMS rendering: no markup, links "text (url)"). */
  text: string;
  /** A complete, self-contained text/html document with inline styles only. */
  html: string;
}

// Mail clients strip <style> blocks and classes unpredictably; inline styles are what survives.
const STYLE = {
  body: 'margin:0;padding:16px;font-family:-apple-system,Segoe UI,Helvetica,Arial,sans-serif;font-size:15px;line-height:1.5;color:#1a1a1a;',
  pre: 'background:#f4f4f5;padding:12px;border-radius:6px;overflow-x:auto;font-family:Menlo,Consolas,monospace;font-size:13px;',
  code: 'background:#f4f4f5;padding:1px 4px;border-radius:4px;font-family:Menlo,Consolas,monospace;font-size:13px;',
  quote: 'margin:0 0 12px;padding-left:12px;border-left:3px solid #d4d4d8;color:#52525b;',
  table: 'border-collapse:collapse;margin:0 0 12px;',
  cell: 'border:1px solid #d4d4d8;padding:4px 8px;text-align:left;',
  p: 'margin:0 0 12px;',
};

function link(href: string, inner: string): string {
  if (!isSafeUrl(href, EMAIL_LINK_SCHEMES)) return inner;
  return `<a href="${escapeHtmlAttr(href.trim())}" target="_blank" rel="noopener noreferrer">${inner}</a>`;
}

function inline(nodes: Inline[]): string {
  let s = '';
  for (const n of nodes) {
    switch (n.kind) {
      case 'text':
        s += escapeHtmlText(n.text);
        break;
      case 'break':
        s += '<br>';
        break;
      case 'code':
        s += `<code style="${STYLE.code}">${escapeHtmlText(n.text)}</code>`;
        break;
      case 'strong':
        s += `<strong>${inline(n.children)}</strong>`;
        break;
      case 'em':
        s += `<em>${inline(n.children)}</em>`;
        break;
      case 'del':
        s += `<del>${inline(n.children)}</del>`;
        break;
      case 'spoiler':
        s += inline(n.children);
        break;
      case 'link':
        s += link(n.href, inline(n.children) || escapeHtmlText(n.href));
        break;
      case 'image':
        // Remote images are blocked by most clients and leak opens; link to them instead.
        s += link(n.src, escapeHtmlText(n.alt || 'image'));
        break;
    }
  }
  return s;
}

function block(b: Block): string {
  switch (b.kind) {
    case 'paragraph':
      return `<p style="${STYLE.p}">${inline(b.content).replace(/\n/g, '<br>')}</p>`;
    case 'heading': {
      const level = Math.min(Math.max(b.depth, 1), 6);
      return `<h${level} style="margin:0 0 12px;">${inline(b.content)}</h${level}>`;
    }
    case 'code':
      return `<pre style="${STYLE.pre}"><code>${escapeHtmlText(b.text.replace(/\n+$/, ''))}</code></pre>`;
    case 'quote':
      return `<blockquote style="${STYLE.quote}">${b.blocks.map(block).join('')}</blockquote>`;
    case 'rule':
      return '<hr style="border:0;border-top:1px solid #d4d4d8;margin:16px 0;">';
    case 'table': {
      const row = (cells: Inline[][], tag: 'th' | 'td'): string =>
        `<tr>${cells.map((c) => `<${tag} style="${STYLE.cell}">${inline(c)}</${tag}>`).join('')}</tr>`;
      return `<table style="${STYLE.table}"><thead>${row(b.header, 'th')}</thead><tbody>${b.rows.map((r) => row(r, 'td')).join('')}</tbody></table>`;
    }
    case 'list': {
      const tag = b.ordered ? 'ol' : 'ul';
      const start = b.ordered && b.start !== 1 ? ` start="${b.start}"` : '';
      const items = b.items
        .map((it) => {
          const box = it.checked === undefined ? '' : it.checked ? '&#9745; ' : '&#9744; ';
          // Tight items are single paragraphs; unwrap them so list spacing stays compact.
          const body = it.blocks
            .map((x) => (x.kind === 'paragraph' ? inline(x.content).replace(/\n/g, '<br>') : block(x)))
            .join('');
          return `<li>${box}${body}</li>`;
        })
        .join('');
      return `<${tag}${start} style="margin:0 0 12px;padding-left:24px;">${items}</${tag}>`;
    }
  }
}

/**
 * Renders agent Markdown as an email: an HTML document plus a plain-text alternative.
 *
 * @example renderEmail('Hi **there**').html // '<!DOCTYPE html>...<strong>there</strong>...'
 */
export function renderEmail(md: string, opts: { title?: string } = {}): RenderedEmail {
  const body = parseMarkdown(md).map(block).join('\n');
  const html =
    '<!DOCTYPE html>\n<html>\n<head>\n<meta charset="utf-8">\n' +
    '<meta name="viewport" content="width=device-width, initial-scale=1">\n' +
    `<title>${escapeHtmlText(opts.title ?? '')}</title>\n</head>\n` +
    `<body style="${STYLE.body}">\n${body}\n</body>\n</html>\n`;
  return { text: renderPlain(md), html };
}
