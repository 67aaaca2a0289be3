import { z } from 'zod';
import { MAX_MEMBER_ID } from '@switchboard/input-rules';
import { appView, memberView } from './admin-commands';
import { instant, rowId } from './fields';

/**
 * The admin REST API's own messages (what operators and their tools send and receive), beside the
 * admin commands it relays to auth (admin-commands.ts). The admin API validates every query and body
 * with these schemas, and its OpenAPI document (docs/openapi.json) is generated from them: one
 * definition, no hand-written copy. `.meta({id})` names a schema in the document's components.
 */

// ---------------------------------------------------------------------------------------------------
// Errors: RFC 9457 problem details

/** One field of a request that failed validation: named, its value never echoed. */
export const problemFieldError = z
  .object({
    /** The field (`name`, `allowed_networks.0`); null when the problem is the request as a whole. */
    field: z.string().nullable(),
    message: z.string(),
  })
  .strict()
  .meta({ id: 'ProblemFieldError' });

/**
 * Every admin error answer (`application/problem+json`, RFC 9457). `type` names the kind of problem
 * (`urn:switchboard:problem:<slug>`, listed in docs/admin-api.md); `instance` the request
 * (`urn:switchboard:request:<x-request-id>`), never its URL. Extensions: `errors` (validation),
 * `code` (a machine-readable reason such as `email_in_use`), `rule` (slave URL refusals),
 * `retry_after` (seconds, with 429 and 503).
 */
export const problemDetails = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.number().int().min(400).max(599),
    detail: z.string(),
    instance: z.string(),
    errors: z.array(problemFieldError).optional(),
    code: z.string().optional(),
    rule: z.string().optional(),
    retry_after: z.number().int().min(0).optional(),
  })
  .meta({ id: 'Problem', description: 'RFC 9457 problem details (application/problem+json)' });
export type ProblemDetails = z.infer<typeof problemDetails>;

// ---------------------------------------------------------------------------------------------------
// Lists: cursor pagination and filters, the same on every list

export const DEFAULT_PAGE_LIMIT = 100;
export const MAX_PAGE_LIMIT = 500;

/** Query values arrive as text: a whole number in [min, max] written plainly (no sign, no leading zero). */
export const queryInt = (min: number, max: number) =>
  z
    .string()
    .regex(/^(0|[1-9][0-9]{0,15})$/, 'must be a whole number')
    .transform(Number)
    .pipe(z.number().int().min(min, `must be at least ${min}`).max(max, `must be at most ${max}`));
/** `true` or `false`. */
export const queryBool = z.enum(['true', 'false']).transform((v) => v === 'true');
/** A row id filter (slave_id, member_id). */
export const queryId = queryInt(1, MAX_MEMBER_ID);

/** `?limit=&cursor=` of every list: `limit` 1–500 (default 100), `cursor` the `next_cursor` of the previous page. */
export const pageQuery = {
  limit: queryInt(1, MAX_PAGE_LIMIT).optional().describe(`items per page, 1–${MAX_PAGE_LIMIT} (default ${DEFAULT_PAGE_LIMIT})`),
  cursor: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,200}$/, 'must be the next_cursor of a previous page')
    .optional()
    .describe('the `next_cursor` of the previous page (opaque); absent for the first page'),
};

/** `{items, next_cursor}`: `next_cursor` is null on the last page. */
export const page = <T extends z.ZodType>(item: T) =>
  z
    .object({
      items: z.array(item),
      next_cursor: z.string().nullable().describe('pass as `cursor` for the next page; null on the last page'),
    })
    .strict();

export const membersQuery = z
  .object({ ...pageQuery, q: z.string().max(255).regex(/^[^\u0000-\u001f\u007f]*$/, 'must not contain control characters').optional().describe('name or e-mail contains this (case-insensitive)') })
  .strict();
export const lockedMembersQuery = z.object({ ...pageQuery }).strict();
export const slavesQuery = z.object({ ...pageQuery, enabled: queryBool.optional().describe('only enabled (true) or disabled (false) slaves') }).strict();
export const auditQuery = z
  .object({
    ...pageQuery,
    type: z.string().regex(/^[a-z_]{1,64}$/, 'must be an event type such as slave_registered').optional().describe('only events of this type'),
    slave_id: queryId.optional().describe('only events of this slave'),
    member_id: queryId.optional().describe('only events of this member'),
  })
  .strict();
export const DELIVERY_STATES = ['waiting', 'ready', 'parked', 'delivered', 'dead', 'superseded', 'discarded'] as const;
export const deliveriesQuery = z
  .object({
    ...pageQuery,
    status: z.enum(DELIVERY_STATES).optional().describe('only deliveries in this state'),
    slave_id: queryId.optional().describe('only deliveries to this slave'),
    member_id: queryId.optional().describe('only deliveries of this member'),
  })
  .strict();
export const appsQuery = z
  .object({ ...pageQuery, enabled: queryBool.optional().describe('only enabled (true) or disabled (false) keys'), type: z.enum(['web', 'desktop']).optional().describe('only keys of this type') })
  .strict();
export const adminTokensQuery = z.object({ ...pageQuery, revoked: queryBool.optional().describe('only revoked (true) or live (false) tokens') }).strict();
export const appUsageQuery = z.object({ days: queryInt(1, 31).optional().describe('1–31 (default 7)') }).strict();
export const noQuery = z.object({}).strict();

// ---------------------------------------------------------------------------------------------------
// Views

export const slaveView = z
  .object({
    id: rowId,
    url: z.string(),
    enabled: z.boolean(),
    disabled_reason: z.string().nullable(),
    verified: z.boolean().describe('it has registered its key (verifySettings); until then it is disabled and cannot be enabled'),
    registered_at: instant,
    last_access_at: instant.nullable(),
    pending: z.number().int().min(0).describe('deliveries not final yet (waiting, ready, parked)'),
    dead: z.number().int().min(0).describe('dead letters'),
    last_success_at: instant.nullable(),
    failing_since: instant.nullable().describe('every delivery has failed since'),
  })
  .strict()
  .meta({ id: 'Slave' });

export const auditEventView = z
  .object({
    id: z.string(),
    event_id: z.string(),
    type: z.string(),
    occurred_at: instant,
    source: z.string(),
    slave_id: rowId.nullable(),
    member_id: rowId.nullable(),
    details: z.record(z.string(), z.unknown()),
  })
  .strict()
  .meta({ id: 'AuditEvent' });

export const deliveryView = z
  .object({
    id: z.string(),
    event_id: z.string(),
    slave_id: rowId,
    member_id: rowId,
    action: z.string(),
    status: z.enum(DELIVERY_STATES),
    attempts: z.number().int().min(0),
    next_attempt_at: instant.nullable(),
    last_error: z.string().nullable(),
    created_at: instant,
    finished_at: instant.nullable(),
  })
  .strict()
  .meta({ id: 'Delivery' });

export const deliveryDetailView = deliveryView
  .extend({
    attempt_log: z.array(
      z
        .object({
          at: instant,
          duration_ms: z.number().int(),
          http_status: z.number().int().nullable(),
          ips_status: z.string().nullable(),
          error: z.string().nullable(),
          outcome: z.string(),
        })
        .strict(),
    ),
  })
  .strict()
  .meta({ id: 'DeliveryWithAttempts' });

export const retriedView = z.object({ retried: z.array(z.string()) }).strict();

export const memberPage = page(memberView);
export const slavePage = page(slaveView);
export const auditPage = page(auditEventView);
export const deliveryPage = page(deliveryView);
export const appPage = page(appView);

// ---------------------------------------------------------------------------------------------------
// Admin tokens: named bearer tokens besides the bootstrap ADMIN_TOKEN

/** A token's name: what the audit log shows for everything done with it. */
export const adminTokenName = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, 'must be 1–64 letters, digits, dots, dashes or underscores, starting with a letter or digit')
  .refine((v) => v.toLowerCase() !== 'bootstrap', 'bootstrap is the name of ADMIN_TOKEN');

export const createAdminTokenCommand = z.object({ name: adminTokenName }).strict().meta({ id: 'CreateAdminToken' });
export type CreateAdminTokenCommand = z.infer<typeof createAdminTokenCommand>;

export const adminTokenView = z
  .object({
    id: rowId,
    name: z.string(),
    created_at: instant,
    created_by: z.string().describe('the name of the token that created it'),
    last_used_at: instant.nullable().describe('to the minute'),
    revoked_at: instant.nullable(),
    revoked_by: z.string().nullable(),
  })
  .strict()
  .meta({ id: 'AdminToken', description: 'a named admin token (never the token itself, which is shown once at creation)' });

export const adminTokenCreated = adminTokenView
  .extend({ token: z.string().describe('the bearer token: shown only in this answer, stored as its SHA-256 digest') })
  .strict()
  .meta({ id: 'AdminTokenCreated' });
export const adminTokenPage = page(adminTokenView);

/** Audit event types the admin service records itself (beside the domain events it copies in). */
export const ADMIN_AUDIT_TYPES = ['admin_action', 'admin_authn_fail', 'admin_authn_rate_limited', 'admin_csrf_refused', 'admin_token_created', 'admin_token_revoked'] as const;
