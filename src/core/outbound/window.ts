/**
 * WhatsApp's customer-service window as the provider last told us: when a free-form send is
 * refused as outside the window (Meta 131047, Twilio 63016), the conversation remembers it
 * (`state.window_closed_at`) and later free-form sends answer 409 up front, until the person
 * writes again (which moves `last_inbound_at` past it and reopens the window).
 */
import type { ConversationRow } from '../../store/repos/inbox.js';

export function windowClosedByProvider(conv: Pick<ConversationRow, 'state' | 'last_inbound_at'>): boolean {
  let closedAt: unknown;
  try {
    closedAt = (JSON.parse(conv.state || '{}') as { window_closed_at?: unknown }).window_closed_at;
  } catch {
    return false;
  }
  if (typeof closedAt !== 'string') return false;
  return !conv.last_inbound_at || conv.last_inbound_at <= closedAt;
}
