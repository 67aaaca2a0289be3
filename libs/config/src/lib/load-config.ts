import { z } from 'zod';
import { ENV_RULES, EnvKey, SERVICE_KEYS, ServiceConfig, ServiceName } from './schema';

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(problems.join('; '));
    this.name = 'ConfigError';
  }
}

/**
 * Validates the variables a service needs. Throws a ConfigError whose `problems` are one line per
 * variable, each naming the variable, e.g. `MASTER_KEY must be at least 32 characters`.
 * Empty strings count as unset, so `MASTER_KEY=` in a .env file is reported as missing.
 */
export function parseConfig<S extends ServiceName>(
  service: S,
  env: Record<string, string | undefined>,
): ServiceConfig<S> {
  const keys = SERVICE_KEYS[service] as readonly EnvKey[];
  const shape: Record<string, z.ZodType> = {};
  const input: Record<string, string | undefined> = {};
  for (const key of keys) {
    shape[key] = ENV_RULES[key];
    const value = env[key];
    input[key] = value === '' ? undefined : value;
  }
  const result = z.object(shape).safeParse(input);
  if (!result.success) {
    const problems = result.error.issues.map((issue) => {
      const name = String(issue.path[0] ?? 'configuration');
      const missing = input[name] === undefined;
      return `${name} ${missing ? 'is required' : issue.message}`;
    });
    throw new ConfigError([...new Set(problems)]);
  }
  return result.data as ServiceConfig<S>;
}

/**
 * The one place that reads `process.env`. On invalid configuration it prints one line per problem
 * to stderr and exits with status 78 (EX_CONFIG) before anything starts.
 */
export function loadConfigOrExit<S extends ServiceName>(service: S): ServiceConfig<S> {
  try {
    return parseConfig(service, process.env);
  } catch (err) {
    if (err instanceof ConfigError) {
      for (const problem of err.problems) {
        process.stderr.write(`switchboard ${service}: configuration error: ${problem}\n`);
      }
      process.exit(78);
    }
    throw err;
  }
}
