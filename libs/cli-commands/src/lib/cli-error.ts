import type { z } from 'zod';

/** The CLI's exit statuses (docs/cli.md). */
export const EXIT = {
  OK: 0,
  /** The admin API refused the request (problem+json), answered something unexpected, or a check failed. */
  FAILED: 1,
  /** The command line or the CLI's own settings are wrong: nothing was sent. */
  USAGE: 2,
  /** The admin API could not be reached (refused connection, no answer in time, unknown host). */
  UNREACHABLE: 3,
} as const;

/** A failure the CLI reports in plain words on stderr (never with a stack trace) and exits with. */
export class CliError extends Error {
  constructor(
    readonly exitCode: number,
    message: string,
    /** Further lines, printed indented under the message (field errors, hints). */
    readonly details: string[] = [],
    /** The admin API's HTTP status, when it refused. */
    readonly status?: number,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

export const usageError = (message: string, details: string[] = []) => new CliError(EXIT.USAGE, message, details);

/** `value` checked against the schema the admin API checks it with: a usage error naming each field otherwise. */
export function checkInput<S extends z.ZodType>(schema: S, value: unknown, names: Record<string, string> = {}): z.output<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const details = result.error.issues.map((issue) => {
    const field = issue.path.map(String).join('.');
    return field ? `${names[field] ?? field}: ${issue.message}` : issue.message;
  });
  throw usageError('invalid input (nothing was sent)', [...new Set(details)]);
}
