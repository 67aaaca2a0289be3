import { z } from 'zod';
import { contract } from './contract';
import { apiKey, instant, pairs, rowId, version } from './fields';
import { AREAS, Area, EXECUTED_IN_AUTH_METHODS, LEVELS, Level } from './vocabulary';

/**
 * A response tree of the application API (spec §4, A7): rendered as XML or JSON by the gateway.
 * `list`: render as a JSON array even with one child.
 */
export interface ApiNode {
  tag: string;
  attrs?: Record<string, string | number | boolean>;
  text?: string | number;
  children?: ApiNode[];
  list?: boolean;
}
export const apiNode: z.ZodType<ApiNode> = z.lazy(() =>
  z
    .object({
      tag: z.string().min(1),
      attrs: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).optional(),
      text: z.union([z.string(), z.number()]).optional(),
      children: z.array(apiNode).optional(),
      list: z.boolean().optional(),
    })
    .strict(),
);

/** Granted permissions: a level per area (absent: none). */
export type Grant = Partial<Record<Area, Level>>;
export const grant: z.ZodType<Grant> = z.partialRecord(z.enum(AREAS), z.enum(LEVELS));

/** The answer of a method: its payload, or an API error (with Retry-After seconds for 112/113/503). */
export const apiResult = z.discriminatedUnion('ok', [
  z.object({ ok: z.literal(true), payload: z.array(apiNode) }).strict(),
  z.object({ ok: z.literal(false), code: z.number().int(), message: z.string(), retryAfter: z.number().int().positive().optional() }).strict(),
]);
export type ApiResult = z.infer<typeof apiResult>;

const EXECUTED: ReadonlySet<string> = new Set(EXECUTED_IN_AUTH_METHODS);

/**
 * An application API call the gateway has checked, handed to the auth service to execute: the
 * key, the grant and member behind the token (none for getFrob / getToken), and the parameters the
 * method reads.
 */
export const apiExecution = z
  .object({
    method: z.string().refine((m) => EXECUTED.has(m), 'must be a method the auth service executes'),
    apiKey,
    grantId: rowId.nullable(),
    memberId: rowId.nullable(),
    params: pairs(1000),
  })
  .strict();
export type ApiExecution = z.infer<typeof apiExecution>;

/** What the gateway needs of an application key to check a call (A2–A4, A10); secret unsealed. */
export const appKeyMaterial = z
  .object({
    apiKey,
    secret: z.string().min(1),
    enabled: z.boolean(),
    signatureMode: z.enum(['md5', 'hmac-sha256']),
    acceptOrderA: z.boolean(),
    alwaysSigned: z.boolean(),
    allowedNetworks: z.array(z.string()),
    dailyQuota: z.number().int().positive().nullable(),
  })
  .strict();
export type AppKeyMaterial = z.infer<typeof appKeyMaterial>;

/** Every application key at one keyring version. */
export const appKeysSnapshot = z.object({ version, keys: z.array(appKeyMaterial) }).strict();
export type AppKeysSnapshot = z.infer<typeof appKeysSnapshot>;

/** A signed authorization link's parameters (consent page, A9). */
export const linkRequest = z.object({ params: pairs(200) }).strict();

/** What auth says of an authorization link. */
export const linkCheck = z.discriminatedUnion('ok', [
  z
    .object({
      ok: z.literal(true),
      app: z.object({ apiKey, title: z.string(), description: z.string(), type: z.string(), callbackUrl: z.string().nullable() }).strict(),
      grant,
      sentences: z.array(z.string()),
      frob: z.string().nullable(),
    })
    .strict(),
  z.object({ ok: z.literal(false), error: z.string() }).strict(),
]);
export type LinkCheck = z.infer<typeof linkCheck>;

export const approveRequest = z.object({ params: pairs(200), memberId: rowId }).strict();
export const approveAnswer = z.discriminatedUnion('ok', [z.object({ ok: z.literal(true), redirect: z.string().nullable() }).strict(), z.object({ ok: z.literal(false), error: z.string() }).strict()]);
export type ApproveAnswer = z.infer<typeof approveAnswer>;

/** A member's grants as the consent page lists them. */
export const memberGrants = z.array(z.object({ id: rowId, api_key: apiKey, title: z.string(), permissions: z.record(z.string(), z.string()), since: instant }).strict());
export type MemberGrants = z.infer<typeof memberGrants>;

export const apiExecuteContract = contract({ name: 'auth.apiExecute', service: 'auth', method: 'POST', path: '/internal/api/execute', request: apiExecution, response: apiResult });
export const appKeysContract = contract({ name: 'auth.appKeys', service: 'auth', method: 'GET', path: '/internal/app-keys', request: z.undefined(), response: appKeysSnapshot });
export const checkLinkContract = contract({ name: 'auth.checkLink', service: 'auth', method: 'POST', path: '/internal/api/authorize/check', request: linkRequest, response: linkCheck });
export const approveContract = contract({ name: 'auth.approve', service: 'auth', method: 'POST', path: '/internal/api/authorize/approve', request: approveRequest, response: approveAnswer });
export const memberGrantsContract = contract({ name: 'auth.memberGrants', service: 'auth', method: 'GET', path: '/internal/api/grants/:member', request: z.undefined(), response: memberGrants });
/** 200 `{revoked}`; 404 when the member has no such grant. */
export const revokeGrantContract = contract({ name: 'auth.revokeGrant', service: 'auth', method: 'POST', path: '/internal/api/grants/:member/:grant/revoke', request: z.undefined(), response: z.object({ revoked: rowId }).strict() });
