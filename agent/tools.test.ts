/**
 * The filler said while a tool runs: one at a time per call, and none once the call is closing
 * (the framework's `say` throws then, from a timer: it must not take the job process down).
 */
import type { voice } from '@livekit/agents';
import { describe, expect, it } from 'vitest';
import { type Filler, sayFiller } from './tools.js';

/** A session whose `say` records the text and hands back a speech finished on `finish()`. */
function fakeSession(options: { closing?: boolean } = {}) {
  const said: string[] = [];
  const done: (() => void)[] = [];
  const session = {
    say(text: string) {
      if (options.closing) throw new Error('AgentSession is closing, cannot use say()');
      said.push(text);
      return { addDoneCallback: (callback: () => void) => done.push(callback) };
    },
  } as unknown as voice.AgentSession;
  const finish = () => {
    for (const callback of done.splice(0)) callback();
  };
  return { session, said, finish };
}

const filler = (heard: string[]): Filler => ({
  afterMs: 1500,
  text: 'One moment.',
  onSaid: (text) => heard.push(text),
});

describe('the tool filler', () => {
  it('is said once for tools running side by side, and again for a later tool', () => {
    const heard: string[] = [];
    const call = fakeSession();
    sayFiller(call.session, filler(heard));
    sayFiller(call.session, filler(heard));
    expect(call.said).toStrictEqual(['One moment.']);
    call.finish();
    expect(heard).toStrictEqual(['One moment.']);

    sayFiller(call.session, filler(heard));
    expect(call.said).toHaveLength(2);
  });

  it('is skipped, without throwing, once the call is closing', () => {
    const heard: string[] = [];
    const closing = fakeSession({ closing: true });
    expect(() => sayFiller(closing.session, filler(heard))).not.toThrow();
    expect(heard).toStrictEqual([]);
  });
});
