/**
 * The page's calls to the session API. Every failure becomes an `ApiFailure` carrying the API's
 * stable error code, so callers decide by code and show the API's own (plain, safe) message.
 */
import { PAGE_TICKET_HEADER } from '../../../common/call-page';
import type {
  CreateSessionResponse,
  ErrorBody,
  PageConfigResponse,
  ParticipantTokenResponse,
  SessionResponse,
} from '../../../common/protocol';

/** What the page keeps of a session: enough to follow it, chat in it and join its call. */
export interface SessionKeys {
  sessionId: string;
  sessionToken: string;
  eventsUrl: string;
}

export class ApiFailure extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** Codes that mean the session is over: the page starts a new conversation next time. */
export const isSessionGone = (error: unknown) =>
  error instanceof ApiFailure &&
  ['session_ended', 'session_expired', 'session_not_found'].includes(error.code);

async function failureFrom(response: Response): Promise<ApiFailure> {
  const body = (await response.json().catch(() => undefined)) as ErrorBody | undefined;
  return new ApiFailure(
    response.status,
    body?.error?.code ?? `http_${response.status}`,
    body?.error?.message ?? `The server answered ${response.status}.`,
  );
}

/** fetch, with a network failure turned into an ApiFailure like any other. */
export async function callApi(path: string, init: RequestInit = {}): Promise<Response> {
  const response = await fetch(path, init).catch(() => {
    throw new ApiFailure(0, 'api_unreachable', 'The API server could not be reached.');
  });
  if (!response.ok) throw await failureFrom(response);
  return response;
}

export const withToken = (keys: SessionKeys, headers: Record<string, string> = {}) => ({
  ...headers,
  authorization: `Bearer ${keys.sessionToken}`,
});

/** The page ticket's header, when the page has a ticket (PAGE_SESSIONS=open). */
export const withPageTicket = (ticket: string | undefined, headers: Record<string, string> = {}) =>
  ticket === undefined ? headers : { ...headers, [PAGE_TICKET_HEADER]: ticket };

const eventsUrlOf = (sessionId: string) => `/api/sessions/${sessionId}/events`;

/** The keys of a session handed to the page (its id and token), as the page keeps them. */
export const keysOf = (sessionId: string, sessionToken: string): SessionKeys => ({
  sessionId,
  sessionToken,
  eventsUrl: eventsUrlOf(sessionId),
});

export async function getPageConfig(): Promise<PageConfigResponse> {
  return (await callApi('/api/page', { cache: 'no-store' })).json();
}

export async function createSession(ticket: string | undefined): Promise<CreateSessionResponse> {
  const response = await callApi('/api/sessions', {
    method: 'POST',
    headers: withPageTicket(ticket, { 'content-type': 'application/json' }),
    body: '{}',
  });
  return response.json();
}

/** A participant token for the session's call; starts the call of a session opened by chat. */
export async function joinSession(keys: SessionKeys): Promise<ParticipantTokenResponse> {
  const path = `/api/sessions/${keys.sessionId}/token`;
  return (await callApi(path, { method: 'POST', headers: withToken(keys) })).json();
}

export async function endSession(keys: SessionKeys): Promise<void> {
  await callApi(`/api/sessions/${keys.sessionId}`, { method: 'DELETE', headers: withToken(keys) });
}

export async function getSession(keys: SessionKeys): Promise<SessionResponse> {
  return (await callApi(`/api/sessions/${keys.sessionId}`, { headers: withToken(keys) })).json();
}
