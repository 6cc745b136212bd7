/**
 * Voice turns through the real stack: a caller speaks over WebRTC through livekit-server, the
 * agent transcribes (Deepgram protocol), asks the LLM (OpenAI protocol) and answers with speech.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { messageText } from '../providers/openai.js';
import { ScriptedCaller } from '../support/caller.js';
import { startTestStack, type TestStack } from '../support/harness.js';

const INSTRUCTIONS = 'You are a geography tutor. Answer in one short sentence.';
const FIRST_QUESTION = 'What is the capital of France?';
const SECOND_QUESTION = 'And how many people live there?';
// No commas: the Deepgram test server, like Deepgram, ends an utterance at a pause.
const INTERRUPTION = 'Please tell me about Lyon instead.';
const LONG_REPLY = Array.from(
  { length: 12 },
  (_, i) => `Paris has many old quarters, and this is sentence number ${i + 1} about them.`,
).join(' ');

describe('voice turns through a real LiveKit server', () => {
  let stack: TestStack;
  let caller: ScriptedCaller;

  beforeAll(async () => {
    stack = await startTestStack();
    caller = await ScriptedCaller.join(stack.apiUrl, { instructions: INSTRUCTIONS });
    await caller.waitForTurnState('idle', 0, 30_000);
  });

  afterAll(async () => {
    await caller?.leave();
    await stack?.stop();
  });

  it('answers a spoken question with speech, prompted by the session instructions', async () => {
    stack.deepgram.scriptTranscripts([FIRST_QUESTION]);
    const spokenAt = Date.now();
    const speechEnd = await caller.say(FIRST_QUESTION);
    const firstAudio = await caller.waitForAgentSpeech(speechEnd);
    await caller.waitForTurnState('idle', firstAudio);

    const [request] = stack.openai.chatRequests();
    expect(request?.messages[0]?.role).toBe('system');
    expect(messageText(request?.messages[0])).toContain(INSTRUCTIONS);
    expect(messageText(request?.messages.at(-1))).toBe(FIRST_QUESTION);

    // The attribute may be published again unchanged (once the agent has joined): count changes.
    const states = caller.turnStates
      .map((s) => s.value)
      .filter((state, i, all) => state !== all[i - 1]);
    expect(states).toEqual(['idle', 'userSpeaking', 'processing', 'agentSpeaking', 'idle']);
    expect(caller.turnStates.find((s) => s.value === 'userSpeaking')?.at).toBeGreaterThan(spokenAt);
  });

  it('keeps the context of the first exchange in the second turn', async () => {
    stack.deepgram.scriptTranscripts([SECOND_QUESTION]);
    const speechEnd = await caller.say(SECOND_QUESTION);
    const firstAudio = await caller.waitForAgentSpeech(speechEnd);
    await caller.waitForTurnState('idle', firstAudio);

    const requests = stack.openai.chatRequests();
    expect(requests).toHaveLength(2);
    const conversation = requests[1]?.messages.map((m) => [m.role, messageText(m)]);
    expect(conversation).toContainEqual(['user', FIRST_QUESTION]);
    expect(conversation).toContainEqual(['assistant', expect.stringContaining(FIRST_QUESTION)]);
    expect(conversation?.at(-1)).toEqual(['user', SECOND_QUESTION]);
  });

  it('stops speaking when the caller talks over it, and answers the new utterance', async () => {
    stack.openai.setReply((messages) =>
      messageText(messages.at(-1)).includes('Lyon') ? 'Lyon is known for its food.' : LONG_REPLY,
    );
    stack.deepgram.scriptTranscripts(['Tell me about Paris.', INTERRUPTION]);
    const questionEnd = await caller.say('Tell me about Paris.');
    const answerStart = await caller.waitForAgentSpeech(questionEnd);
    // Let the long answer run past the agent's echo-cancellation warm-up before talking over it.
    await new Promise((resolve) => setTimeout(resolve, 2500));
    const bargeInStart = Date.now();
    const bargeInEnd = await caller.say(INTERRUPTION);

    // The long answer lasts well over 20 s; barge-in must cut it while the caller speaks.
    const stoppedAt = await caller.waitForAgentSilence(700, 15_000);
    expect(stoppedAt).toBeGreaterThan(answerStart);
    expect(stoppedAt).toBeLessThan(bargeInEnd + 500);
    expect(caller.turnStates.filter((s) => s.at >= bargeInStart).map((s) => s.value)[0]).toBe(
      'userSpeaking',
    );

    // What follows is the short answer to the interruption, not the rest of the long one.
    const reply = await caller.waitForAgentSpeech(stoppedAt);
    const replyEnd = await caller.waitForAgentSilence(1500, 15_000);
    expect(replyEnd - reply).toBeLessThan(5000);
    // Under load the test STT may hear a stall inside the utterance as a second one.
    expect(messageText(stack.openai.chatRequests().at(-1)?.messages.at(-1))).toMatch(
      /^Please tell me about Lyon instead\./,
    );
  });
});
