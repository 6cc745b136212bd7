import { describe, expect, it } from 'vitest';
import { SpeechTracker } from './speech-tracker.js';

/** A speech whose end can be announced more than once, as a stray second callback would. */
class FakeSpeech {
  #done = false;
  #callbacks: ((speech: this) => void)[] = [];
  constructor(readonly id: string) {}
  done() {
    return this.#done;
  }
  addDoneCallback(callback: (speech: this) => void) {
    this.#callbacks.push(callback);
  }
  finish() {
    this.#done = true;
    for (const callback of this.#callbacks) callback(this);
  }
}

describe('SpeechTracker', () => {
  it('knows the speech playing (the latest not done) and finds speeches by id', () => {
    const speeches = new SpeechTracker<FakeSpeech>();
    const first = new FakeSpeech('a');
    const second = new FakeSpeech('b');
    speeches.add(first);
    speeches.add(second);
    expect(speeches.playing()).toBe(second);
    expect(speeches.byId('a')).toBe(first);
    second.finish();
    expect(speeches.playing()).toBe(first);
    expect(speeches.byId('b')).toBeUndefined();
    expect(speeches.byId(undefined)).toBeUndefined();
  });

  it('forgets a speech once, and only that speech, however often its end is announced', () => {
    const speeches = new SpeechTracker<FakeSpeech>();
    const ended: string[] = [];
    const first = new FakeSpeech('a');
    const second = new FakeSpeech('b');
    speeches.add(first, (speech) => ended.push(speech.id));
    first.finish();
    speeches.add(second);
    first.finish();
    expect(speeches.byId('b')).toBe(second);
    expect(speeches.playing()).toBe(second);
    expect(ended).toEqual(['a', 'a']);
  });
});
