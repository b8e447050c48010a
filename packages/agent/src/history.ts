/**
 * A conversation's history as the messages a chat model takes. Who said what: the person is the
 * `user`; the agent is the `assistant`; a human operator's message is an assistant turn prefixed
 * with who wrote it (so the model knows a person spoke for it); system notes are left out.
 */
import type { HistoryMessage } from './types.js';

export type HistoryFormat = 'ai-sdk' | 'openai';

type TextPart = { type: 'text'; text: string };
/** The AI SDK's message shape (`streamText({ messages })`). */
export type AiSdkMessage = { role: 'user'; content: string | (TextPart | { type: 'image'; image: string; mediaType?: string })[] } | { role: 'assistant'; content: string };
/** Chat Completions' message shape (`openai.chat.completions.create({ messages })`). */
export type OpenAIMessage = { role: 'user'; content: string | (TextPart | { type: 'image_url'; image_url: { url: string } })[] } | { role: 'assistant'; content: string };
export type ModelMessage = AiSdkMessage | OpenAIMessage;
type Part = TextPart | { type: 'image'; image: string; mediaType?: string } | { type: 'image_url'; image_url: { url: string } };

export function toModelMessages(messages: HistoryMessage[], format?: 'ai-sdk'): AiSdkMessage[];
export function toModelMessages(messages: HistoryMessage[], format: 'openai'): OpenAIMessage[];
export function toModelMessages(messages: HistoryMessage[], format?: HistoryFormat): ModelMessage[];
export function toModelMessages(messages: HistoryMessage[], format: HistoryFormat = 'ai-sdk'): ModelMessage[] {
  const out: { role: 'user' | 'assistant'; content: string | Part[] }[] = [];
  for (const m of messages) {
    const kind = m.author?.kind ?? ((m.direction as string) === 'inbound' || (m.direction as string) === 'in' ? 'contact' : 'agent');
    if (kind === 'system') continue;
    if (m.status === 'suppressed' || m.status === 'failed') continue; // never reached the person
    const role = kind === 'contact' ? 'user' : 'assistant';
    let text = m.text ?? '';
    if (kind === 'operator') text = `[${m.author.name ? `${m.author.name}, a human operator` : 'a human operator'}] ${text}`;
    // Only the person's images are shown to the model (models take images in user turns only).
    const images = role === 'user' ? (m.attachments ?? []).filter((a) => a.kind === 'image' && a.status === 'ready' && a.url) : [];
    if (!images.length) {
      if (text) out.push({ role, content: text });
      continue;
    }
    const parts: Part[] = text ? [{ type: 'text', text }] : [];
    for (const a of images) parts.push(format === 'openai' ? { type: 'image_url', image_url: { url: a.url } } : { type: 'image', image: a.url, mediaType: a.mime_type });
    out.push({ role, content: parts });
  }
  return out as ModelMessage[];
}
