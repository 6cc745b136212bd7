/**
 * Speech to text for voice messages, the whole recording at once: an OpenAI-compatible
 * transcription server when STT_BASE_URL is set, else Deepgram's prerecorded API (the same choice
 * the agent makes for live calls).
 */
import { z } from 'zod';
import { openaiApiKey, type ProvidersConfig } from '../../common/config.js';
import { apiError } from '../errors.js';
import { createProviderCall, type ProviderClientOptions, readJson } from '../providers/http.js';
import { type AudioFormat, audioMimeTypes } from './audio-check.js';

export interface Transcriber {
  /** The words spoken in `audio`, '' when there are none. */
  transcribe(audio: Uint8Array, mimeType: string, signal?: AbortSignal): Promise<string>;
}

const openaiAnswerSchema = z.object({ text: z.string() });
/** The part of Deepgram's prerecorded answer that is read. */
const deepgramAnswerSchema = z.object({
  results: z.object({
    channels: z.array(z.object({ alternatives: z.array(z.object({ transcript: z.string() })) })),
  }),
});
const DEEPGRAM_QUERY = 'model=nova-3&smart_format=true&punctuate=true';

export function createTranscriber(
  config: ProvidersConfig,
  options: ProviderClientOptions = {},
): Transcriber {
  const call = createProviderCall('stt', options);
  const baseUrl = config.STT_BASE_URL;
  if (baseUrl) {
    const url = `${baseUrl.replace(/\/+$/, '')}/audio/transcriptions`;
    const authorization = `Bearer ${openaiApiKey(config)}`;
    const read = readJson('stt', openaiAnswerSchema);
    return {
      async transcribe(audio, mimeType, signal) {
        const form = new FormData();
        // Transcription servers tell the format by the file name's extension.
        const file = new Blob([audio], { type: mimeType });
        form.append('file', file, `voice-message.${extensionFor(mimeType)}`);
        form.append('model', config.STT_MODEL);
        form.append('response_format', 'json');
        const init = { method: 'POST', headers: { authorization }, body: form };
        const { text } = await call(url, init, read, signal);
        return text.trim();
      },
    };
  }
  // The live API's base URL (ws, wss) also serves the prerecorded one over http, https.
  const origin = config.DEEPGRAM_BASE_URL.replace(/\/+$/, '').replace(/^ws/, 'http');
  const url = `${origin}/v1/listen?${DEEPGRAM_QUERY}`;
  const read = readJson('stt', deepgramAnswerSchema);
  return {
    async transcribe(audio, mimeType, signal) {
      if (!config.DEEPGRAM_API_KEY) {
        throw apiError(
          503,
          'provider_not_configured',
          'No speech-to-text configured: set DEEPGRAM_API_KEY or STT_BASE_URL.',
        );
      }
      const headers = {
        authorization: `Token ${config.DEEPGRAM_API_KEY}`,
        'content-type': mimeType,
      };
      const init = { method: 'POST', headers, body: audio };
      const answer = await call(url, init, read, signal);
      return answer.results.channels[0]?.alternatives[0]?.transcript.trim() ?? '';
    },
  };
}

function extensionFor(mimeType: string): string {
  const essence = mimeType.split(';')[0]?.trim().toLowerCase();
  const formats = Object.keys(audioMimeTypes) as AudioFormat[];
  return formats.find((format) => audioMimeTypes[format] === essence) ?? 'bin';
}
