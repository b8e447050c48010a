/**
 * Checks a message's files against what its provider accepts, when the message is accepted (a
 * clear 422 up front instead of a failed send later). The figures are each adapter's
 * (`attachmentLimits`, `channelAttachmentLimits` in adapters/<p>/index.ts).
 */
import type { ValidationIssue } from '../errors.js';
import type { MediaRow } from '../store/repos/media.js';
import { getProvider } from '../adapters/registry.js';
import type { ChannelType } from '../adapters/contract.js';

/** Issues for the uploaded items of one message to `provider` (their positions in `attachments`). */
export function attachmentIssues(provider: string, items: { index: number; row: MediaRow }[], totalCount: number, channelType?: string): ValidationIssue[] {
  const adapter = getProvider(provider);
  const l = (channelType !== undefined ? adapter?.channelAttachmentLimits?.[channelType as ChannelType] : undefined) ?? adapter?.attachmentLimits;
  if (!l) return [];
  const issues: ValidationIssue[] = [];
  if (l.maxCount === 0 && totalCount > 0) {
    return [{ type: 'too_long', loc: ['body', 'attachments'], msg: `List should have at most 0 items after validation, not ${totalCount}: ${provider} ${channelType ?? ''} channels cannot carry attachments`.replace('  ', ' '), ctx: { field_type: 'List', max_length: 0, actual_length: totalCount } }];
  }
  if (totalCount > l.maxCount) {
    issues.push({ type: 'too_long', loc: ['body', 'attachments'], msg: `List should have at most ${l.maxCount} items after validation, not ${totalCount} (${provider} limit)`, ctx: { field_type: 'List', max_length: l.maxCount, actual_length: totalCount } });
  }
  let total = 0;
  for (const { index, row } of items) {
    const size = Number(row.size ?? 0);
    total += size;
    const max = l.perFile(row.kind, row.mime_type ?? '');
    if (size > max) {
      issues.push({ type: 'value_error', loc: ['body', 'attachments', index, 'media_id'], msg: `Value error, the file is ${size} bytes; ${provider} accepts at most ${max} bytes for a ${row.kind} (${row.mime_type})`, input: row.id, ctx: { error: `${provider} size limit` } });
    }
  }
  if (l.total !== undefined && total > l.total) {
    issues.push({ type: 'value_error', loc: ['body', 'attachments'], msg: `Value error, the files add up to ${total} bytes; ${provider} accepts at most ${l.total} bytes per message`, ctx: { error: `${provider} size limit` } });
  }
  return issues;
}
