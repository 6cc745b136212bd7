import { describe, expect, it } from 'vitest';
import { MAX_SENTENCE_CHARS, SpokenReply } from './spoken-reply.js';

const play = (...pieces: string[]) => {
  const reply = new SpokenReply();
  return { reply, words: pieces.map((piece) => reply.add(piece)) };
};

describe('SpokenReply', () => {
  it('joins its deltas into the reply so far, whitespace inside kept and around it dropped', () => {
    const { reply, words } = play('  Hi', ' there, ', ' ', 'you.', '\n');
    expect(words).toEqual([
      { delta: 'Hi', text: 'Hi' },
      { delta: ' there,', text: 'Hi there,' },
      undefined,
      { delta: '  you.', text: 'Hi there,  you.' },
      undefined,
    ]);
    expect(reply.text).toBe('Hi there,  you.');
  });

  it('starts the sentence again after an end mark or a line break', () => {
    const { words } = play('It is.', ' "Sunny?"', ' Yes', '\nand', ' warm');
    expect(words.map((w) => w?.text)).toEqual(['It is.', '"Sunny?"', 'Yes', 'and', 'and warm']);
  });

  it('finds the sentence inside a piece that holds several (text not paced to audio)', () => {
    const { words } = play('One. Two! Thr', 'ee');
    expect(words).toEqual([
      { delta: 'One. Two! Thr', text: 'Thr' },
      { delta: 'ee', text: 'Three' },
    ]);
  });

  it('cuts a sentence that never ends, so no event grows past the bound', () => {
    const { words } = play(...Array.from({ length: 300 }, () => 'blah '));
    const longest = Math.max(...words.map((w) => w?.text.length ?? 0));
    expect(longest).toBeLessThanOrEqual(MAX_SENTENCE_CHARS + 5);
  });
});
