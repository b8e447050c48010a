/** `transcription` of an instance (media/transcription.ts): the request model and the response schema. */
import { httpUrl, model, nullable, str } from './validation/fields.js';

export const transcriptionBody = model(
  {
    url: { field: httpUrl({ description: "An OpenAI-compatible API base URL (e.g. https://api.openai.com/v1); audio is POSTed to {url}/audio/transcriptions. A new url needs its api_key again." }) },
    model: { field: str({ minLength: 1, maxLength: 200, description: 'The transcription model, e.g. whisper-1 or gpt-4o-mini-transcribe.' }) },
    language: { field: nullable(str({ minLength: 2, maxLength: 16, description: 'ISO-639-1 language hint (en, de...); null clears it.' })) },
    api_key: { field: str({ minLength: 1, maxLength: 1000, description: 'Sent as Authorization: Bearer. Write-only: stored encrypted, never returned.' }) },
  },
  { title: 'TranscriptionConfig' },
);

export const transcriptionResponse = {
  type: ['object', 'null'],
  description: 'Voice-note transcription settings (the api_key is write-only and never returned); null: voice notes are not transcribed.',
  properties: {
    url: { type: 'string' },
    model: { type: 'string' },
    language: { type: 'string' },
  },
};
