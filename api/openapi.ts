/**
 * Response entries for the OpenAPI document, so every route describes its answers one way: a JSON
 * body's schema, and for an error status the codes it can carry (an enum in the document, which
 * the property test of the document holds the API to).
 */
import type { z } from '@hono/zod-openapi';
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
