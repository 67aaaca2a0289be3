import { z } from 'zod';

/**
 * Every environment variable Switchboard reads, with its rule. Each service picks the fragment it
 * needs (see `SERVICE_KEYS`), so a service never fails on a variable it does not use.
 * `.env.example` documents each of them; keep the two in step.
 */

const port = (fallback: number) =>
  z.coerce
    .number({ error: 'must be a port number' })
    .int('must be a whole number')
    .min(1, 'must be between 1 and 65535')
    .max(65535, 'must be between 1 and 65535')
    .default(fallback);

const url = (protocols: string[], what: string) =>
  z
    .string({ error: 'is required' })
    .min(1, 'is required')
    .refine((v) => {
      try {
        return protocols.includes(new URL(v).protocol);
      } catch {
        return false;
      }
    }, `must be a ${what} URL (${protocols.join(' or ')})`);

const secret = (min: number) =>
  z
    .string({ error: 'is required' })
    .min(min, `must be at least ${min} characters`)
    .refine((v) => v.trim() === v, 'must not start or end with white space');

export const ENV_RULES = {
  NODE_ENV: z.enum(['development', 'production', 'test']).default('production'),
  HOST: z.string().min(1).default('127.0.0.1'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  DATABASE_URL: url(['postgres:', 'postgresql:'], 'PostgreSQL'),
  REDIS_URL: url(['redis:', 'rediss:'], 'Redis'),
  PUBLIC_URL: url(['http:', 'https:'], 'http(s)').transform((v) => v.replace(/\/+$/, '')),
  MASTER_KEY: secret(32),
  SECRETS_KEY: secret(32),
  ADMIN_TOKEN: secret(32),
  INTERNAL_TOKEN: secret(32),
  AUTH_URL: url(['http:', 'https:'], 'http(s)')
    .default('http://127.0.0.1:3001')
    .transform((v) => v.replace(/\/+$/, '')),
  GATEWAY_PORT: port(3000),
  AUTH_PORT: port(3001),
  ADMIN_PORT: port(3002),
  PROPAGATOR_PORT: port(3003),
} as const;

export type EnvKey = keyof typeof ENV_RULES;

const COMMON = ['NODE_ENV', 'HOST', 'LOG_LEVEL', 'REDIS_URL'] as const;

export const SERVICE_KEYS = {
  gateway: [...COMMON, 'PUBLIC_URL', 'INTERNAL_TOKEN', 'AUTH_URL', 'GATEWAY_PORT'],
  auth: [...COMMON, 'DATABASE_URL', 'PUBLIC_URL', 'MASTER_KEY', 'SECRETS_KEY', 'INTERNAL_TOKEN', 'AUTH_PORT'],
  admin: [...COMMON, 'DATABASE_URL', 'ADMIN_TOKEN', 'INTERNAL_TOKEN', 'AUTH_URL', 'ADMIN_PORT'],
  propagator: [...COMMON, 'DATABASE_URL', 'SECRETS_KEY', 'PROPAGATOR_PORT'],
  migrator: ['NODE_ENV', 'LOG_LEVEL', 'DATABASE_URL'],
} as const satisfies Record<string, readonly EnvKey[]>;

export type ServiceName = keyof typeof SERVICE_KEYS;

type Rules = typeof ENV_RULES;
export type ServiceConfig<S extends ServiceName> = {
  [K in (typeof SERVICE_KEYS)[S][number]]: z.output<Rules[K]>;
};

/** The full configuration of every service together (used when they run in one process). */
export type SwitchboardConfig = { [K in EnvKey]: z.output<Rules[K]> };
