/**
 * The agent's speeches that are not done yet, in the order they were created. Both the feed's
 * mapping and the provider-failure rules need to know which speech a word or a failure belongs
 * to: the latest one not done is the one playing (or about to).
 */

/** What the tracker needs of a framework SpeechHandle. */
export interface TrackedSpeech {
  readonly id: string;
  done(): boolean;
  addDoneCallback(callback: (speech: this) => void): void;
}

export class SpeechTracker<S extends TrackedSpeech> {
  /** A set, so forgetting a speech that is already gone cannot take another one with it. */
  readonly #speeches = new Set<S>();

  /** Tracks `speech` until it is done; `onDone` runs once it is no longer tracked. */
  add(speech: S, onDone?: (speech: S) => void): void {
    this.#speeches.add(speech);
    speech.addDoneCallback((done) => {
      this.#speeches.delete(speech);
      onDone?.(done);
    });
  }

  byId(id: string | undefined): S | undefined {
    if (id === undefined) return undefined;
    for (const speech of this.#speeches) if (speech.id === id) return speech;
    return undefined;
  }

  /** The speech being played: the latest one not yet done. */
  playing(): S | undefined {
    return [...this.#speeches].findLast((speech) => !speech.done());
  }
}
