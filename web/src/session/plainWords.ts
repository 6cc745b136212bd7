/** What to tell a person when something fails: what happened, in plain words, and what to do. */
import { ApiFailure } from './api';

/** The page may not open sessions itself here: what the site's owner can do about it. */
const NO_SESSIONS_FROM_PAGE =
  'This page cannot start conversations on this server by itself. Open it from your own site, ' +
  'whose backend starts the session with its API key and hands it to the page (README: "The call ' +
  'page in production"), or set PAGE_SESSIONS=open on the server to let the page start them.';

const ADVICE: Record<string, string> = {
  api_unreachable: 'The voice agent server is not answering. Check that it is running (npm start).',
  livekit_unavailable:
    'The call server (LiveKit) cannot be reached. Start it with npm start, or check LIVEKIT_URL.',
  llm_unavailable:
    'The language model is not answering. Check LLM_BASE_URL, LLM_MODEL and OPENAI_API_KEY.',
  llm_request_rejected: 'The language model refused the request. Check LLM_MODEL and your key.',
  provider_not_configured:
    'No language model is configured. Set OPENAI_API_KEY or LLM_BASE_URL in .env.',
  api_key_required: NO_SESSIONS_FROM_PAGE,
  invalid_api_key: NO_SESSIONS_FROM_PAGE,
  invalid_page_ticket:
    "This page's permission to start conversations was refused or has run out. Reload the page.",
  origin_not_allowed:
    "This page may start conversations only at its own address (the server's PUBLIC_URL). Open it there.",
  session_ended: 'This conversation has ended. Start a call or type to begin a new one.',
  session_expired: 'This conversation expired after being idle. Start a new one.',
  session_not_found: 'This conversation no longer exists on the server. Start a new one.',
  agent_timeout: 'The agent did not answer in time. Try again.',
};

export function describeFailure(error: unknown): string {
  if (error instanceof ApiFailure) return ADVICE[error.code] ?? error.message;
  return 'Something went wrong. Try again.';
}

const END_REASONS: Record<string, string> = {
  ended_by_client: 'The call has ended.',
  participant_disconnected: 'The call was disconnected.',
  idle_timeout: 'The conversation expired after being idle.',
  livekit_unavailable: 'The call server (LiveKit) could not be reached.',
  error: 'The agent stopped after an error.',
  session_not_found: 'This conversation no longer exists on the server.',
};

export const describeEnd = (reason: string) =>
  `${END_REASONS[reason] ?? 'The conversation has ended.'} Start a call or type a message to begin a new one.`;
