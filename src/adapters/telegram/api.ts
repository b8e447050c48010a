/**
 * Telegram Bot API client. Built per call from the channel's bot token; holds nothing between calls.
 *
 * Example:
 *   const tg = telegramApi({ botToken, baseUrl: ctx.apiBaseUrl });
 *   const msg = await tg.sendMessage({ chat_id: 42, text: '<b>hi</b>', parse_mode: 'HTML' });
 */
import { ProviderError, kindForStatus } from '../shared/provider-error.js';
import { asRecord, httpRequest, joinUrl, num, str } from '../shared/http.js';
import type { ApiClientOptions, HttpResponse } from '../shared/http.js';

export const TELEGRAM_API_BASE_URL = 'https://api.telegram.org';
const PROVIDER = 'telegram';

export interface TelegramApiOptions extends ApiClientOptions {
  botToken: string;
}

export type ChatId = number | string;
export type ParseMode = 'HTML' | 'MarkdownV2' | 'Markdown';

export interface TelegramUser {
  id: number;
  is_bot: boolean;
  first_name: string;
  username?: string;
}

export interface TelegramMessage {
  message_id: number;
  date: number;
  chat: { id: number | string; type: string };
  text?: string;
  caption?: string;
}

export interface WebhookInfo {
  url: string;
  has_custom_certificate: boolean;
  pending_update_count: number;
  last_error_date?: number;
  last_error_message?: string;
  max_connections?: number;
  allowed_updates?: string[];
}

export interface TelegramFile {
  file_id: string;
  file_unique_id: string;
  file_size?: number;
  file_path?: string;
}

export interface ReplyParameters {
  message_id: number;
  chat_id?: ChatId;
  allow_sending_without_reply?: boolean;
}

export interface LinkPreviewOptions {
  is_disabled?: boolean;
  url?: string;
  prefer_small_media?: boolean;
  prefer_large_media?: boolean;
  show_above_text?: boolean;
}

export interface SendMessageParams {
  chat_id: ChatId;
  text: string;
  parse_mode?: ParseMode;
  reply_parameters?: ReplyParameters;
  link_preview_options?: LinkPreviewOptions;
  message_thread_id?: number;
  disable_notification?: boolean;
}

export interface EditMessageTextParams {
  chat_id: ChatId;
  message_id: number;
  text: string;
  parse_mode?: ParseMode;
  link_preview_options?: LinkPreviewOptions;
}

export interface SendMessageDraftParams {
  chat_id: number;
  /** Non-zero; the same id updates the same draft. */
  draft_id: number;
  text: string;
  parse_mode?: ParseMode;
  message_thread_id?: number;
}

export interface SetWebhookParams {
  url: string;
  /** 1-256 chars of A-Za-z0-9_-; Telegram echoes it in X-Telegram-Bot-Api-Secret-Token. */
  secret_token?: string;
  allowed_updates?: string[];
  drop_pending_updates?: boolean;
  max_connections?: number;
}

export type ChatAction =
  | 'typing'
  | 'upload_photo'
  | 'record_video'
  | 'upload_video'
  | 'record_voice'
  | 'upload_voice'
  | 'upload_document'
  | 'choose_sticker'
  | 'find_location'
  | 'record_video_note'
  | 'upload_video_note';

export interface SendMediaParams {
  chat_id: ChatId;
  /** An HTTPS URL Telegram downloads itself, or a file_id already on Telegram. */
  url: string;
  caption?: string;
  parse_mode?: ParseMode;
  reply_parameters?: ReplyParameters;
}

/** One item of an album (sendMediaGroup): a file uploaded with the request, or a URL/file_id. */
export interface AlbumItem {
  type: 'photo' | 'video' | 'document' | 'audio';
  file?: UploadFile;
  url?: string;
  caption?: string;
  parse_mode?: ParseMode;
}

/** A file uploaded with the request (multipart/form-data), as Telegram takes new files. */
export interface UploadFile {
  bytes: Buffer;
  fileName: string;
  mimeType: string;
}

export type UploadMethod = 'sendPhoto' | 'sendDocument' | 'sendVoice' | 'sendAudio' | 'sendVideo';

/** The form field each upload method takes its file in. */
export const UPLOAD_FIELD: Record<UploadMethod, string> = { sendPhoto: 'photo', sendDocument: 'document', sendVoice: 'voice', sendAudio: 'audio', sendVideo: 'video' };

export interface TelegramApi {
  getMe(): Promise<TelegramUser>;
  setWebhook(params: SetWebhookParams): Promise<true>;
  deleteWebhook(params?: { drop_pending_updates?: boolean }): Promise<true>;
  getWebhookInfo(): Promise<WebhookInfo>;
  sendMessage(params: SendMessageParams): Promise<TelegramMessage>;
  editMessageText(params: EditMessageTextParams): Promise<TelegramMessage>;
  /** Streams an ephemeral preview in a private chat; finish it with a real sendMessage. */
  sendMessageDraft(params: SendMessageDraftParams): Promise<true>;
  sendChatAction(params: { chat_id: ChatId; action: ChatAction; message_thread_id?: number }): Promise<true>;
  sendPhoto(params: SendMediaParams): Promise<TelegramMessage>;
  sendDocument(params: SendMediaParams): Promise<TelegramMessage>;
  getFile(fileId: string): Promise<TelegramFile>;
  /** Uploads a file with one of the send methods (multipart/form-data). */
  sendUpload(method: UploadMethod, params: { chat_id: ChatId; caption?: string; parse_mode?: ParseMode; reply_parameters?: ReplyParameters }, file: UploadFile): Promise<TelegramMessage>;
  /** An album of 2-10 items (multipart: each uploaded file is a part named by `attach://<name>`). */
  sendMediaGroup(params: { chat_id: ChatId; reply_parameters?: ReplyParameters }, items: AlbumItem[]): Promise<TelegramMessage[]>;
  /**
   * The download URL of a file from getFile. It contains the bot token: fetch it, never log it
   * or hand it to anyone.
   */
  fileDownloadUrl(filePath: string): string;
  /** Downloads a file by its `file_path` (max 20 MB on the real API). */
  downloadFile(filePath: string): Promise<Uint8Array>;
}

// Methods that only read or set state to a given value: repeating them has no second effect.
const IDEMPOTENT_METHODS = new Set(['getMe', 'getWebhookInfo', 'getFile', 'setWebhook', 'deleteWebhook', 'sendChatAction', 'sendMessageDraft']);

export function telegramApi(opts: TelegramApiOptions): TelegramApi {
  const base = opts.baseUrl ?? TELEGRAM_API_BASE_URL;

  async function call<T>(method: string, params?: object): Promise<T> {
    const res = await httpRequest({
      provider: PROVIDER,
      method: 'POST',
      url: joinUrl(base, `bot${opts.botToken}/${method}`),
      json: params ?? {},
      idempotent: IDEMPOTENT_METHODS.has(method),
      fetch: opts.fetch,
      timeoutMs: opts.timeoutMs,
    });
    const body = asRecord(res.body);
    if (res.status === 200 && body.ok === true) return body.result as T;
    throw telegramError(res, method);
  }

  async function upload(method: UploadMethod, params: Record<string, unknown>, file: UploadFile): Promise<TelegramMessage> {
    const form = new FormData();
    for (const [k, v] of Object.entries(params)) if (v !== undefined) form.append(k, typeof v === 'object' ? JSON.stringify(v) : String(v));
    form.append(UPLOAD_FIELD[method], new Blob([new Uint8Array(file.bytes)], { type: file.mimeType }), file.fileName);
    const res = await httpRequest({ provider: PROVIDER, method: 'POST', url: joinUrl(base, `bot${opts.botToken}/${method}`), formData: form, idempotent: false, fetch: opts.fetch, timeoutMs: opts.timeoutMs });
    const body = asRecord(res.body);
    if (res.status === 200 && body.ok === true) return body.result as TelegramMessage;
    throw telegramError(res, method);
  }

  async function album(params: { chat_id: ChatId; reply_parameters?: ReplyParameters }, items: AlbumItem[]): Promise<TelegramMessage[]> {
    const form = new FormData();
    form.append('chat_id', String(params.chat_id));
    if (params.reply_parameters) form.append('reply_parameters', JSON.stringify(params.reply_parameters));
    const media = items.map((it, i) => {
      if (it.file) form.append(`file${i}`, new Blob([new Uint8Array(it.file.bytes)], { type: it.file.mimeType }), it.file.fileName);
      return { type: it.type, media: it.file ? `attach://file${i}` : it.url, ...(it.caption ? { caption: it.caption, parse_mode: it.parse_mode } : {}) };
    });
    form.append('media', JSON.stringify(media));
    const res = await httpRequest({ provider: PROVIDER, method: 'POST', url: joinUrl(base, `bot${opts.botToken}/sendMediaGroup`), formData: form, idempotent: false, fetch: opts.fetch, timeoutMs: opts.timeoutMs });
    const body = asRecord(res.body);
    if (res.status === 200 && body.ok === true && Array.isArray(body.result)) return body.result as TelegramMessage[];
    throw telegramError(res, 'sendMediaGroup');
  }

  const fileDownloadUrl = (filePath: string): string => joinUrl(base, `file/bot${opts.botToken}/${filePath}`);

  return {
    getMe: () => call<TelegramUser>('getMe'),
    setWebhook: (params) => call<true>('setWebhook', params),
    deleteWebhook: (params) => call<true>('deleteWebhook', params ?? {}),
    getWebhookInfo: () => call<WebhookInfo>('getWebhookInfo'),
    sendMessage: (params) => call<TelegramMessage>('sendMessage', params),
    editMessageText: (params) => call<TelegramMessage>('editMessageText', params),
    sendMessageDraft: (params) => call<true>('sendMessageDraft', params),
    sendChatAction: (params) => call<true>('sendChatAction', params),
    sendPhoto: ({ url, ...rest }) => call<TelegramMessage>('sendPhoto', { ...rest, photo: url }),
    sendDocument: ({ url, ...rest }) => call<TelegramMessage>('sendDocument', { ...rest, document: url }),
    getFile: (fileId) => call<TelegramFile>('getFile', { file_id: fileId }),
    sendUpload: (method, params, file) => upload(method, params, file),
    sendMediaGroup: (params, items) => album(params, items),
    fileDownloadUrl,
    async downloadFile(filePath) {
      const res = await httpRequest({
        provider: PROVIDER,
        method: 'GET',
        url: fileDownloadUrl(filePath),
        binary: true,
        idempotent: true,
        fetch: opts.fetch,
        timeoutMs: opts.timeoutMs,
      });
      if (res.status === 200 && res.bytes) return res.bytes;
      throw telegramError(res, 'file download');
    },
  };
}

/** Maps a Telegram `{ok:false, error_code, description, parameters}` answer to a ProviderError. */
export function telegramError(res: HttpResponse, method: string): ProviderError {
  const body = asRecord(res.body);
  const status = num(body.error_code) ?? res.status;
  const description = str(body.description) ?? `HTTP ${res.status}`;
  const retryAfter = num(asRecord(body.parameters).retry_after);
  // "group chat was upgraded to a supergroup chat": nothing was sent; the new chat id is given.
  const migrateTo = num(asRecord(body.parameters).migrate_to_chat_id);
  let kind = kindForStatus(status);
  // 403 is "bot was blocked by the user" / "kicked from the group": about the chat, not our token.
  if (status === 403) kind = 'permanent';
  if (status === 400 && /not found/i.test(description)) kind = 'not_found';
  // Any status with retry_after is flood control, whatever the code says.
  if (retryAfter !== undefined) kind = 'rate_limited';
  return new ProviderError({
    provider: PROVIDER,
    kind,
    code: String(status),
    httpStatus: res.status,
    retryAfterMs: retryAfter !== undefined ? retryAfter * 1000 : kind === 'rate_limited' ? 1000 : undefined,
    message: `Telegram ${method} failed: ${description}`,
    ...(migrateTo !== undefined ? { movedTo: String(migrateTo) } : {}),
  });
}
