import { marked, type Token, type Tokens } from 'marked';
import type { Block, Inline, ListItem } from './ast.js';
import { decodeEntities } from './text-utils.js';

/**
 * Parses agent Markdown (GFM) into the renderer document model.
 *
 * Raw HTML is deliberately kept as literal text: agents echo user input and we must never
 * let it become markup on a channel. `||spoiler||` (Telegram's convention) becomes a spoiler node.
 *
 * @example parseMarkdown('**hi**') // [{kind:'paragraph', content:[{kind:'strong', ...}]}]
 */
export function parseMarkdown(md: string): Block[] {
  return blocks(marked.lexer(md.replace(/\r\n?/g, '\n'), { gfm: true }));
}

function blocks(tokens: Token[]): Block[] {
  const out: Block[] = [];
  for (const t of tokens) {
    const b = block(t as Tokens.Generic);
    if (b) out.push(b);
  }
  return out;
}

function block(t: Tokens.Generic): Block | null {
  switch (t.type) {
    case 'paragraph':
      return { kind: 'paragraph', content: inlines(t.tokens ?? []) };
    case 'text':
      // Tight list items carry a block-level "text" token with inline children.
      return { kind: 'paragraph', content: t.tokens ? inlines(t.tokens) : textNodes(decodeEntities(String(t.text))) };
    case 'heading':
      return { kind: 'heading', depth: Number(t.depth), content: inlines(t.tokens ?? []) };
    case 'code':
      return { kind: 'code', lang: String(t.lang ?? '').trim().split(/\s+/)[0] ?? '', text: String(t.text) };
    case 'list': {
      const list = t as unknown as Tokens.List;
      const items: ListItem[] = list.items.map((it) => ({
        blocks: blocks(it.tokens),
        ...(it.task ? { checked: Boolean(it.checked) } : {}),
      }));
      const start = typeof list.start === 'number' ? list.start : 1;
      return { kind: 'list', ordered: list.ordered, start, items };
    }
    case 'blockquote':
      return { kind: 'quote', blocks: blocks(t.tokens ?? []) };
    case 'table': {
      const table = t as unknown as Tokens.Table;
      return {
        kind: 'table',
        header: table.header.map((c) => inlines(c.tokens)),
        rows: table.rows.map((r) => r.map((c) => inlines(c.tokens))),
      };
    }
    case 'hr':
      return { kind: 'rule' };
    case 'html': {
      const text = String(t.text).trim();
      return text ? { kind: 'paragraph', content: [{ kind: 'text', text }] } : null;
    }
    default:
      // space, def (link reference definitions) and unknown extensions render as nothing.
      return null;
  }
}

function inlines(tokens: Token[]): Inline[] {
  const out: Inline[] = [];
  for (const raw of tokens) {
    const t = raw as Tokens.Generic;
    switch (t.type) {
      case 'text':
        if (t.tokens && t.tokens.length) out.push(...inlines(t.tokens));
        else out.push(...textNodes(decodeEntities(String(t.text))));
        break;
      case 'escape':
        out.push({ kind: 'text', text: String(t.text) });
        break;
      case 'html':
        out.push({ kind: 'text', text: String(t.text) });
        break;
      case 'strong':
      case 'em':
      case 'del':
        out.push({ kind: t.type, children: inlines(t.tokens ?? []) });
        break;
      case 'codespan':
        out.push({ kind: 'code', text: String(t.text) });
        break;
      case 'br':
        out.push({ kind: 'break' });
        break;
      case 'link':
        out.push({ kind: 'link', href: decodeEntities(String(t.href)), children: inlines(t.tokens ?? []) });
        break;
      case 'image':
        out.push({ kind: 'image', src: decodeEntities(String(t.href)), alt: decodeEntities(String(t.text ?? '')) });
        break;
      default:
        if (typeof t.text === 'string') out.push({ kind: 'text', text: t.text });
    }
  }
  return merge(out);
}

/** Splits `||spoiler||` out of a text run; unmatched bars stay literal. */
function textNodes(text: string): Inline[] {
  const out: Inline[] = [];
  const re = /\|\|(?=\S)([^|]*?\S)\|\|/g;
  let last = 0;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    if (m.index > last) out.push({ kind: 'text', text: text.slice(last, m.index) });
    out.push({ kind: 'spoiler', children: [{ kind: 'text', text: m[1] }] });
    last = m.index + m[0].length;
  }
  if (last < text.length) out.push({ kind: 'text', text: text.slice(last) });
  return out;
}

/** Joins adjacent text nodes and drops empty ones (marked emits many ""). */
function merge(nodes: Inline[]): Inline[] {
  const out: Inline[] = [];
  for (const n of nodes) {
    if (n.kind === 'text') {
      if (!n.text) continue;
      const prev = out[out.length - 1];
      if (prev && prev.kind === 'text') {
        out[out.length - 1] = { kind: 'text', text: prev.text + n.text };
        continue;
      }
    }
    out.push(n);
  }
  return out;
}

/** Visible text of inline nodes with no markup at all (tables, alt texts, speech). */
export function inlineText(nodes: Inline[]): string {
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
      case 'image':
        s += n.alt;
        break;
      default:
        s += inlineText(n.children);
    }
  }
  return s;
}
