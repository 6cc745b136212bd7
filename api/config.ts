/** The API's configuration: LiveKit, providers (for /health and chat), HTTP and store settings. */
import { z } from 'zod';
import { livekitSchema, providersSchema } from '../common/config.js';

const list = z
  .string()
  .optional()
  .transform((value) =>
    (value ?? '')
      .split(',')
      .map((item) => item.trim())
      .filter(Boolean),
  );

export const apiConfigSchema = livekitSchema.extend(providersSchema.shape).extend({
  API_PORT: z.coerce.number().int().min(0).max(65_535).default(8000),
  API_HOST: z.string().default('127.0.0.1'),
  API_KEYS: list,
  CORS_ORIGINS: list,
  PUBLIC_URL: z.string().url().optional(),
  LOG_LEVEL: z.enum(['trace', 'debug', 'info', 'warn', 'error']).default('info'),
  /** Lifetime of a participant token; clients refresh it through /token. */
  PARTICIPANT_TOKEN_TTL_S: z.coerce.number().int().min(60).max(86_400).default(900),
  /** Lifetime of a session token (the key to a session's events, transcript and chat). */
  SESSION_TOKEN_TTL_S: z.coerce
    .number()
    .int()
    .min(60)
    .max(7 * 86_400)
    .default(4 * 3600),
});

export type ApiConfig = z.infer<typeof apiConfigSchema>;
