// Fake Deepgram prerecorded transcription (HTTP POST /v1/listen): the whole file in the body,
// one scripted transcript back in the shape of Deepgram's prerecorded answer.
import { createHash, randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { decodeWav } from '../support/speech.js';
import type { DeepgramFault } from './deepgram.js';

export interface RecordedPrerecordedRequest {
  /** Repeated parameters are joined with commas. */
  query: Record<string, string>;
  contentType: string | undefined;
  bytes: number;
  status?: number;
}

export interface PrerecordedDeps {
  requests: RecordedPrerecordedRequest[];
  nextTranscript: () => string;
  takeFault: () => DeepgramFault | undefined;
}

export async function answerPrerecorded(
  req: IncomingMessage,
  res: ServerResponse,
  query: Record<string, string>,
  deps: PrerecordedDeps,
): Promise<void> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const audio = Buffer.concat(chunks);
  const record: RecordedPrerecordedRequest = {
    query,
    contentType: req.headers['content-type'],
    bytes: audio.length,
  };
  deps.requests.push(record);
  const send = (status: number, body: object) => {
    record.status = status;
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };
  const requestId = randomUUID();
  if (!/^Token\s+\S/.test(req.headers.authorization ?? '')) {
    return send(401, {
      err_code: 'INVALID_AUTH',
      err_msg: 'Invalid credentials.',
      request_id: requestId,
    });
  }
  if (audio.length === 0) {
    return send(400, {
      err_code: 'Bad Request',
      err_msg: 'No audio in the body.',
      request_id: requestId,
    });
  }
  const fault = deps.takeFault();
  if (fault?.kind === 'reject') {
    return send(fault.status, {
      err_code: 'INJECTED_FAULT',
      err_msg: 'Injected fault',
      request_id: requestId,
    });
  }
  if (fault?.kind === 'drop') return void req.socket.destroy();

  const transcript = deps.nextTranscript();
  const model = query.model ?? 'nova-3';
  const modelId = randomUUID();
  send(200, {
    metadata: {
      transaction_key: 'deprecated',
      request_id: requestId,
      sha256: createHash('sha256').update(audio).digest('hex'),
      created: new Date().toISOString(),
      duration: wavSeconds(audio),
      channels: 1,
      models: [modelId],
      model_info: { [modelId]: { name: `general-${model}`, version: 'fake', arch: model } },
    },
    results: {
      channels: [{ alternatives: [{ transcript, confidence: 0.99, words: words(transcript) }] }],
    },
  });
}

/** Words a quarter second apart: the timing is not measured, only the shape matters. */
function words(transcript: string) {
  return transcript
    .split(/\s+/)
    .filter(Boolean)
    .map((token, index) => ({
      word: token.toLowerCase().replace(/[^\p{L}\p{N}']/gu, ''),
      start: index * 0.25,
      end: (index + 1) * 0.25,
      confidence: 0.99,
      punctuated_word: token,
    }));
}

/** The length of WAV audio; 0 for other formats, which this fake does not decode. */
function wavSeconds(audio: Buffer): number {
  try {
    const wav = decodeWav(audio);
    return wav.samples.length / wav.channels / wav.sampleRate;
  } catch {
    return 0;
  }
}
