// Shapes of the public API the dashboard reads (see docs/api.md). Type-only: never served.

export interface Capabilities {
  format: string;
  max_text_length: number | null;
  max_attachments: number | null;
  drafts: boolean;
  typing: boolean;
  edit: boolean;
  customer_care_window_hours: number | null;
}

/** One entry of GET /v1/providers. */
export interface Provider {
  name: string;
  display_name: string;
  channel_types: string[];
  secret_names: { required: string[]; optional: string[] };
  verify_secret_name: string | null;
  routing_config_keys: string[];
  capabilities: Capabilities;
}

export interface Instance {
  id: string;
  name: string;
  agent_url: string | null;
  created_at: string;
  updated_at: string;
  signing_secret?: string;
}

export interface Channel {
  id: string;
  instance_id: string;
  channel_type: string;
  provider: string;
  external_identifier: string;
  status: string;
  enabled: boolean;
  error_message: string | null;
  last_event_at: string | null;
  webhook_url: string;
  config: Record<string, unknown>;
  connection_id: string | null;
}

export interface Contact {
  id: string | null;
  name: string | null;
  [k: string]: unknown;
}

export interface Conversation {
  id: string;
  instance_id: string;
  channel_id: string;
  status: 'open' | 'closed';
  mode: 'agent' | 'human';
  assignee: string | null;
  contact: Contact;
  created_at: string;
  updated_at: string;
  last_message_at: string | null;
  /** Why the mode last changed: a handoff's reason, `operator_message`, `idle`... */
  mode_reason?: string | null;
  /** Present when the API embeds it; otherwise the list fetches it. */
  last_message?: Message | null;
}

export interface Author {
  kind: 'contact' | 'agent' | 'operator' | 'system';
  id?: string | null;
  name?: string | null;
}

export interface MediaItem {
  id: string;
  kind: 'image' | 'audio' | 'voice' | 'video' | 'document' | 'sticker';
  mime_type: string;
  size: number;
  sha256?: string;
  file_name?: string | null;
  caption?: string | null;
  status: 'ready' | 'failed' | 'too_large';
  url: string;
  transcript?: string | null;
}

export interface Message {
  id: string;
  conversation_id: string;
  direction: 'inbound' | 'outbound';
  author: Author;
  text: string | null;
  attachments: MediaItem[];
  in_reply_to: string | null;
  status: string;
  status_reason?: string | null;
  created_at: string;
  sent_at?: string | null;
}

/** One 422 issue, as the API reports them (loc ['body', field, ...]). */
export interface Issue {
  loc: (string | number)[];
  msg: string;
  type?: string;
}

export interface FeedEvent {
  id: string;
  cursor: number;
  type: string;
  created_at: string;
  conversation_id?: string;
  conversation?: { id: string; status: string; mode: string };
  channel?: { id?: string; type: string; external_identifier: string };
  data?: Record<string, any>;
}

/** What h() accepts as children (nested arrays are flattened; null/undefined/false are skipped). */
export type Child = Node | string | number | null | undefined | false | Child[];
