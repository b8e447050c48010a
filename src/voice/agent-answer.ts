/** The agent answer reader lives with the other channels' (core/outbound/agent-stream.ts). */
export { answerParts, type AnswerPart } from '../core/outbound/agent-stream.js';
