/** The media item kinds of the public shape, and how other words map onto them. */
import type { MediaKind } from '../core/events.js';

export type ItemKind = 'image' | 'audio' | 'voice' | 'video' | 'document' | 'sticker';

export function itemKind(kind: MediaKind | string | undefined, mimeType?: string | null): ItemKind {
  switch (kind) {
    case 'image':
    case 'audio':
    case 'voice':
    case 'video':
    case 'document':
    case 'sticker':
      return kind;
    case 'photo':
      return 'image';
    case 'animation':
      return 'video';
  }
  return kindOfMime(mimeType);
}

export function kindOfMime(mimeType?: string | null): ItemKind {
  const t = (mimeType ?? '').toLowerCase();
  if (t.startsWith('image/')) return 'image';
  if (t.startsWith('audio/')) return 'audio';
  if (t.startsWith('video/')) return 'video';
  return 'document';
}

/** A bare MIME type (`image/png` out of `image/png; charset=...`), or undefined when it is not one. */
export function cleanMime(v: string | undefined | null): string | undefined {
  const t = (v ?? '').split(';')[0].trim().toLowerCase();
  return /^[a-z0-9][a-z0-9!#$&^_.+-]*\/[a-z0-9][a-z0-9!#$&^_.+-]*$/.test(t) && t.length <= 255 ? t : undefined;
}

/** Types a browser may show inline from our origin; anything else is served as an attachment. */
export function inlineSafe(mimeType: string): boolean {
  return /^(image\/(png|jpeg|gif|webp|avif)|audio\/|video\/|application\/pdf$)/.test(mimeType) && !mimeType.includes('svg');
}
