/**
 * One reply's words as they are played, turned into `agent_speaking` fields: `delta`, the text
 * added since the previous event (a turn's deltas joined give the reply so far), and `text`, the
 * sentence being spoken so far. Repeating the whole reply on every word would make a reply's
 * events grow with the square of its length; a sentence keeps each event small and still readable
 * on its own. Pure: the words in, the fields out.
 */

/** A sentence that runs on without an end mark is cut here, so an event stays bounded anyway. */
export const MAX_SENTENCE_CHARS = 400;

/** Ends a sentence: an end mark, maybe followed by closing quotes or brackets. */
const END_MARK = '[.!?…。！？]["\'”’»)\\]]*';
const ENDS_SENTENCE = new RegExp(`${END_MARK}$`);
/** Where a new sentence starts inside a piece: after an end mark and space, or a line break. */
const SENTENCE_STARTS = new RegExp(`(?:${END_MARK}\\s+|\\n\\s*)(?=\\S)`, 'g');

export interface SpokenWords {
  delta: string;
  /** The sentence being spoken so far. */
  text: string;
}

export class SpokenReply {
  #spoken = '';
  /** Whitespace after the last word: it belongs to the next delta, if any word follows. */
  #pending = '';
  #sentence = '';
  #sentenceEnded = true;

  /** The reply so far, without surrounding whitespace. */
  get text(): string {
    return this.#spoken;
  }

  /**
   * A piece of the reply as played: a word with the whitespace around it when paced to the audio,
   * any run of text otherwise. Nothing to report for a blank piece.
   */
  add(piece: string): SpokenWords | undefined {
    const joined = this.#spoken ? this.#pending + piece : piece.trimStart();
    const delta = joined.trimEnd();
    this.#pending = joined.slice(delta.length);
    if (!delta) return undefined;
    this.#spoken += delta;
    const sentenceStart = lastSentenceStart(delta);
    if (sentenceStart !== undefined) this.#sentence = delta.slice(sentenceStart);
    else this.#sentence = this.#sentenceEnded ? delta.trimStart() : this.#sentence + delta;
    this.#sentenceEnded = ENDS_SENTENCE.test(delta) || this.#sentence.length >= MAX_SENTENCE_CHARS;
    return { delta, text: this.#sentence };
  }
}

function lastSentenceStart(text: string): number | undefined {
  let start: number | undefined;
  for (const match of text.matchAll(SENTENCE_STARTS)) start = match.index + match[0].length;
  return start;
}
