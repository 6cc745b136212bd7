/**
 * What the assistant is told when a session brings no instructions of its own. One text for the
 * voice agent and for text chat answered by the API, so both sound like the same assistant.
 */
export const DEFAULT_INSTRUCTIONS =
  'You are a helpful voice assistant. Answer in one to three short spoken sentences, ' +
  'in plain words without markdown, lists or emoji.';
