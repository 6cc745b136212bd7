/**
 * Taps the agent's reply text in step with its audio. The room output's transcription
 * synchronizer paces reply text to playout and hands it, word by word, to the next text output in
 * its chain; the tap listens there. The synchronizer is not part of the framework's public API,
 * so when the chain is not as expected the tap falls back to the session's transcription output
 * (text as generated rather than as spoken), and says so.
 */
import { voice } from '@livekit/agents';

type TextOutput = NonNullable<voice.AgentSession['output']['transcription']>;

export interface SpokenTextListener {
  onText(text: string): void;
  /** The reply's text is complete (or was cut off): what follows belongs to another reply. */
  onSegmentEnd(): void;
}

export function tapSpokenText(
  session: voice.AgentSession,
  listener: SpokenTextListener,
  log: { warn(msg: string): void },
): void {
  const output = session.output.transcription;
  if (!output) {
    log.warn('no transcription output: agent_speaking events are off');
    return;
  }
  const paced = (output as unknown as { nextInChain?: TextOutput }).nextInChain;
  if (!paced) log.warn('transcription is not synchronized: agent_speaking follows generation');
  const target = paced ?? output;
  const captureText = target.captureText.bind(target);
  const flush = target.flush.bind(target);
  target.captureText = (text: Parameters<TextOutput['captureText']>[0]) => {
    listener.onText(voice.isTimedString(text) ? text.text : text);
    return captureText(text);
  };
  target.flush = () => {
    listener.onSegmentEnd();
    flush();
  };
}
