import type { Block, Inline, ListItem } from './ast.js';
import { inlineText } from './parse.js';
import { displayWidth } from './text-utils.js';

/**
 * What differs between the line-oriented dialects (Telegram HTML, WhatsApp, plain text).
 * The block structure (blank line between blocks, list markers, indentation) is shared so
 * every channel lays a message out the same way.
 */
export interface Dialect {
  inline(nodes: Inline[]): string;
  heading(text: string, depth: number): string;
  code(text: string, lang: string): string;
  quote(inner: string): string;
  /** Receives the table already laid out as aligned monospace lines. */
  table(grid: string): string;
  rule: string;
  bullet: string;
  /** Marker for GFM task items; the bullet is used when undefined. */
  task?(checked: boolean): string;
}

export function layoutBlocks(blocks: Block[], d: Dialect): string {
  return blocks
    .map((b) => layoutBlock(b, d))
    .filter((s) => s.length > 0)
    .join('\n\n');
}

function layoutBlock(b: Block, d: Dialect): string {
  switch (b.kind) {
    case 'paragraph':
      return d.inline(b.content).trim();
    case 'heading':
      return d.heading(d.inline(b.content).trim(), b.depth);
    case 'code':
      return d.code(b.text.replace(/\n+$/, ''), b.lang);
    case 'quote':
      return d.quote(layoutBlocks(b.blocks, d));
    case 'table':
      return d.table(tableGrid(b.header, b.rows));
    case 'rule':
      return d.rule;
    case 'list':
      return b.items.map((it, i) => layoutItem(it, b.ordered ? `${b.start + i}. ` : itemBullet(it, d), d)).join('\n');
  }
}

function itemBullet(it: ListItem, d: Dialect): string {
  return it.checked !== undefined && d.task ? d.task(it.checked) : d.bullet;
}

function layoutItem(it: ListItem, marker: string, d: Dialect): string {
  const pad = ' '.repeat(Math.min(displayWidth(marker), 4));
  const lines: string[] = [];
  for (const b of it.blocks) {
    const text = layoutBlock(b, d);
    if (!text) continue;
    // Indenting a code block or table would change its content; it stands on its own lines.
    const verbatim = b.kind === 'code' || b.kind === 'table';
    text.split('\n').forEach((line, i) => {
      if (lines.length === 0) lines.push(marker + line);
      else if (verbatim && i > 0) lines.push(line);
      else lines.push(line ? pad + line : line);
    });
  }
  // Items are tight on chat channels: blank lines inside a list waste vertical space.
  return lines.length ? lines.join('\n') : marker.trimEnd();
}

/** Lays a table out as space-padded columns; cells lose their formatting (monospace has none). */
export function tableGrid(header: Inline[][], rows: Inline[][][]): string {
  const cells = [header, ...rows].map((r) => r.map((c) => inlineText(c).replace(/\s+/g, ' ').trim()));
  const cols = Math.max(...cells.map((r) => r.length));
  const widths = Array.from({ length: cols }, (_, i) => Math.max(...cells.map((r) => displayWidth(r[i] ?? ''))));
  const line = (r: string[]): string =>
    widths
      .map((w, i) => (r[i] ?? '') + ' '.repeat(w - displayWidth(r[i] ?? '')))
      .join(' | ')
      .trimEnd();
  const sep = widths.map((w) => '-'.repeat(Math.max(w, 1))).join('-+-');
  return [line(cells[0]), sep, ...cells.slice(1).map(line)].join('\n');
}
