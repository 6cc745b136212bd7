/**
 * Response entries for the OpenAPI document, so every route describes its answers one way: a JSON
 * body's schema, and for an error status the codes it can carry (an enum in the document, which
 * the property test of the document holds the API to).
 */
import { z } from '@hono/zod-openapi';
import { type ApiErrorCode, errorBodySchemaFor } from '../common/protocol.js';

export const jsonResponse = <T extends z.ZodType>(description: string, schema: T) => ({
  description,
  content: { 'application/json': { schema } },
});

export type ErrorCodes = readonly [ApiErrorCode, ...ApiErrorCode[]];

export const errorResponse = (description: string, codes: ErrorCodes) =>
  jsonResponse(description, errorBodySchemaFor(codes));

/** Answers of every route behind a session token (`/api/sessions/{id}...`). */
export const sessionTokenErrors = {
  401: errorResponse('No session token, or not a valid one', [
    'session_token_required',
    'invalid_session_token',
  ]),
  403: errorResponse('The session token is for another session', ['forbidden']),
};

/** A path id too long to be a session's: refused before the store is asked. */
export const invalidIdError = errorResponse('The id is not a session id', ['invalid_request']);
export const unknownSessionError = errorResponse('Unknown session', ['session_not_found']);

/** The call page's ticket (X-Page-Ticket), on a request that opens a session without an API key. */
export const pageTicketHeader = z.object({
  // PAGE_TICKET_HEADER, as Hono hands headers to the validator: in lower case.
  'x-page-ticket': z.string().optional().openapi({
    description:
      'The call page opening a session without an API key (PAGE_SESSIONS=open): its ticket from GET /api/page',
  }),
});

/** Answers of a request that opens a session: an API key, or the call page's origin and ticket. */
export const sessionOpenerErrors = {
  401: errorResponse(
    'No API key, or not a valid one (when API_KEYS is set); or a page ticket that is not valid or has expired',
    ['api_key_required', 'invalid_api_key', 'invalid_page_ticket'],
  ),
  403: errorResponse('A page ticket from another origin than the call page', [
    'origin_not_allowed',
  ]),
};
