/**
 * @switchboard/agent — build an agent on Switchboard.
 *
 * @example
 *   import { createHandler } from '@switchboard/agent';
 *   export const POST = createHandler(({ event, reply }) => reply.text('Hello!')).fetch;
 */
export { createHandler, type AgentFunction, type Handler, type HandlerContext, type HandlerOptions } from './handler.js';
export { verify, verifyBody, VerificationError } from './verify.js';
export { reply, type Answer, type ReplyOptions, type StreamPiece, type StreamSource } from './reply.js';
export { SwitchboardClient, SwitchboardError, type ClientOptions, type ConversationsQuery, type MessagesQuery, type SendInput } from './client.js';
export { toModelMessages, type AiSdkMessage, type HistoryFormat, type ModelMessage, type OpenAIMessage } from './history.js';
export * from './types.js';
