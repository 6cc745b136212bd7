/**
 * What a log line may keep. No line keeps a token (session, ingest and LiveKit tokens are all
 * JWTs) or a configured key or secret, even where a provider echoes one back in its error. Lines
 * at info and above do not keep what was said: the agents framework marks conversation text and
 * identities with `pii` keys (`lk.pii.message`, `lk.pii.user_input`, ...) and logs some of them
 * at info ("playout completed") and warn ("skipping user input"); such a value becomes its length.
 * Debug lines keep them. The framework builds its pino logger itself with no redaction option and
 * writes to stdout, so the agent redacts lines on their way out (`redactStdout`).
 */

/** pino's level number of `info`. */
const INFO = 30;
const JWT = /eyJ[\w-]+\.eyJ[\w-]+\.[\w-]+/g;
/** The framework's test for a private attribute (its telemetry drops the same ones). */
const PRIVATE_KEY = /(^|\.)pii(\.|$)/;
/** Config entries holding credentials. */
const SECRET_SETTING = /SECRET|API_KEY/;
/** Shorter values (placeholders such as `devkey`) would blank out ordinary words. */
const MIN_SECRET_LENGTH = 8;

/** The password a URL setting carries (`redis://:password@host`), if any. */
const urlPassword = (value: unknown) =>
  typeof value === 'string' && URL.canParse(value)
    ? decodeURIComponent(new URL(value).password)
    : '';

/** The credentials among a configuration's values: its keys and secrets, and URLs' passwords. */
export function logSecrets(config: Record<string, unknown>): string[] {
  return Object.entries(config)
    .flatMap(([name, value]) =>
      SECRET_SETTING.test(name) ? (Array.isArray(value) ? value : [value]) : [urlPassword(value)],
    )
    .filter((value): value is string => typeof value === 'string')
    .filter((value) => value.length >= MIN_SECRET_LENGTH);
}

/** `line` (one pino JSON line, or any other output) as the logs may keep it. */
export function redactLogLine(line: string, secrets: readonly string[]): string {
  let redacted = withoutPrivateValues(line).replace(JWT, '[token]');
  for (const secret of secrets) redacted = redacted.replaceAll(secret, '[secret]');
  return redacted;
}

/** Redacts every line this process writes to stdout from now on. */
export function redactStdout(secrets: readonly string[]): void {
  const stdout = process.stdout;
  const write = stdout.write.bind(stdout) as (chunk: unknown, ...rest: unknown[]) => boolean;
  stdout.write = ((chunk: unknown, ...rest: unknown[]) =>
    write(
      typeof chunk === 'string' ? redactLogLine(chunk, secrets) : chunk,
      ...rest,
    )) as typeof stdout.write;
}

function withoutPrivateValues(line: string): string {
  if (!line.includes('pii')) return line;
  let entry: unknown;
  try {
    entry = JSON.parse(line);
  } catch {
    return line;
  }
  if (typeof entry !== 'object' || entry === null) return line;
  const fields = entry as Record<string, unknown>;
  if (typeof fields.level !== 'number' || fields.level < INFO) return line;
  const privateKeys = Object.keys(fields).filter((key) => PRIVATE_KEY.test(key));
  if (privateKeys.length === 0) return line;
  for (const key of privateKeys) {
    const value = fields[key];
    fields[key] = typeof value === 'string' ? `[redacted: ${value.length} chars]` : '[redacted]';
  }
  return `${JSON.stringify(fields)}${line.endsWith('\n') ? '\n' : ''}`;
}
