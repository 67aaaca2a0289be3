import { z } from 'zod';
import { EMAIL_PATTERN, MAX_MEMBER_ID } from '@switchboard/input-rules';
import { contract } from './contract';
import { apiKey, httpUrl, instant, oneLine, rowId } from './fields';

/**
 * Admin commands: what the admin API accepts and relays to the auth service, which alone writes
 * members, slaves, settings and application keys. The admin API checks a command before relaying
 * it (a 400 names every field at once) and auth checks it again on receipt; the 2xx answers are
 * checked by both too. The same schemas describe the admin API (docs/admin-api.md).
 */

export const createMemberCommand = z
  .object({
    id: z.number().int().min(1).max(MAX_MEMBER_ID).optional(),
    name: z.string().min(1).max(255).pipe(oneLine('name')),
    email: z.string().max(150).regex(EMAIL_PATTERN, 'email must be an e-mail address').pipe(oneLine('email')),
    /** The plaintext: hashed here as a slave would ($2a$13$ bcrypt, or legacy md5 for non-22-char salts). */
    password: z.string().min(1).max(4096).optional(),
    /** Or the hash itself (imports from an existing network), with its salt. */
    pass_hash: z.string().regex(/^[\x21-\x7e]{1,255}$/, 'pass_hash must be printable ASCII').optional(),
    pass_salt: z.string().regex(/^[\x21-\x7e]{1,22}$/, 'pass_salt must be 1–22 printable ASCII characters').optional(),
    validating: z.boolean().optional(),
    revalidate_url: z.url({ protocol: /^https?$/ }).max(2048).nullable().optional(),
  })
  .strict()
  .refine((v) => (v.password === undefined) !== (v.pass_hash === undefined), {
    message: 'give either password or pass_hash (with pass_salt)',
  })
  .refine((v) => v.pass_hash === undefined || v.pass_salt !== undefined, { message: 'pass_hash needs pass_salt' });
export type CreateMemberCommand = z.infer<typeof createMemberCommand>;

export const issueSlaveKeyCommand = z
  .object({
    url: httpUrl('url '),
    /** Replace the per-slave key of a URL already registered (otherwise 409, nothing changed). */
    rotate: z.boolean().optional(),
  })
  .strict();
export type IssueSlaveKeyCommand = z.infer<typeof issueSlaveKeyCommand>;

export const settingsCommand = z.object({ global_master_key: z.boolean() }).strict();
export type SettingsCommand = z.infer<typeof settingsCommand>;

// PostgreSQL text cannot hold NUL; the other control characters have no place in these fields either
// (a description may span lines).
const appText = (max: number, min = 0) =>
  z
    .string()
    .min(min)
    .max(max)
    .refine((v) => !/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/.test(v), 'must not contain control characters');
const cidr = z.string().refine((v) => /^(\d{1,3}(\.\d{1,3}){3}|[0-9a-f:]+)(\/\d{1,3})?$/i.test(v), 'must be an IP address or CIDR range');

export const createAppCommand = z
  .object({
    title: appText(200, 1),
    description: appText(2000).default(''),
    type: z.enum(['web', 'desktop']),
    callback_url: httpUrl().optional(),
  })
  .strict()
  .refine((v) => v.type !== 'web' || v.callback_url !== undefined, { message: 'callback_url: a web application needs a callback URL' });
export type CreateAppCommand = z.infer<typeof createAppCommand>;

export const patchAppCommand = z
  .object({
    title: appText(200, 1).optional(),
    description: appText(2000).optional(),
    callback_url: httpUrl().nullable().optional(),
    always_signed: z.boolean().optional(),
    accept_order_a: z.boolean().optional(),
    signature_mode: z.enum(['md5', 'hmac-sha256']).optional(),
    enabled: z.boolean().optional(),
    allowed_networks: z.array(cidr).max(100).optional(),
    daily_quota: z.number().int().min(1).nullable().optional(),
  })
  .strict();
export type PatchAppCommand = z.infer<typeof patchAppCommand>;

/** A member as the admin API shows it, with the lockout that counts. */
export const memberView = z
  .object({
    id: rowId,
    name: z.string(),
    email: z.string(),
    validating: z.boolean(),
    revalidate_url: z.string().nullable(),
    banned: z.boolean(),
    locked_until: instant.nullable(),
    failed_logins: z.number().int().min(0),
    created_at: instant,
  })
  .strict()
  .meta({ id: 'Member' });
export type MemberView = z.infer<typeof memberView>;

/** An application key as the admin API shows it (never its secret, but at creation and rotation). */
export const appView = z
  .object({
    api_key: apiKey,
    title: z.string(),
    description: z.string(),
    type: z.enum(['web', 'desktop']),
    callback_url: z.string().nullable(),
    always_signed: z.boolean(),
    accept_order_a: z.boolean(),
    signature_mode: z.enum(['md5', 'hmac-sha256']),
    enabled: z.boolean(),
    allowed_networks: z.array(z.string()),
    daily_quota: z.number().int().nullable(),
    created_at: instant,
  })
  .strict()
  .meta({ id: 'App' });
export type AppView = z.infer<typeof appView>;

const settingsView = z.object({ global_master_key: z.boolean() }).strict();

export const createMemberContract = contract({ name: 'auth.admin.createMember', service: 'auth', method: 'POST', path: '/internal/admin/members', request: createMemberCommand, response: memberView.extend({ pass_salt: z.string() }).strict() });
export const lockedMembersContract = contract({ name: 'auth.admin.lockedMembers', service: 'auth', method: 'GET', path: '/internal/admin/members/locked', request: z.undefined(), response: z.array(memberView) });
export const unlockMemberContract = contract({ name: 'auth.admin.unlockMember', service: 'auth', method: 'POST', path: '/internal/admin/members/:id/unlock', request: z.undefined(), response: memberView });
export const issueSlaveKeyContract = contract({
  name: 'auth.admin.issueSlaveKey',
  service: 'auth',
  method: 'POST',
  path: '/internal/admin/slaves',
  request: issueSlaveKeyCommand,
  response: z.object({ id: rowId, url: z.string(), master_key: z.string(), created: z.boolean() }).strict(),
});
export const readSettingsContract = contract({ name: 'auth.admin.readSettings', service: 'auth', method: 'GET', path: '/internal/admin/settings', request: z.undefined(), response: settingsView });
export const putSettingsContract = contract({ name: 'auth.admin.putSettings', service: 'auth', method: 'PUT', path: '/internal/admin/settings', request: settingsCommand, response: settingsView });
export const createAppContract = contract({ name: 'auth.admin.createApp', service: 'auth', method: 'POST', path: '/internal/admin/apps', request: createAppCommand, response: appView.extend({ secret: z.string() }).strict() });
export const listAppsContract = contract({ name: 'auth.admin.listApps', service: 'auth', method: 'GET', path: '/internal/admin/apps', request: z.undefined(), response: z.array(appView) });
export const patchAppContract = contract({ name: 'auth.admin.patchApp', service: 'auth', method: 'PATCH', path: '/internal/admin/apps/:key', request: patchAppCommand, response: appView });
export const rotateAppSecretContract = contract({ name: 'auth.admin.rotateAppSecret', service: 'auth', method: 'POST', path: '/internal/admin/apps/:key/rotate-secret', request: z.undefined(), response: z.object({ api_key: apiKey, secret: z.string() }).strict() });
export const deleteAppContract = contract({ name: 'auth.admin.deleteApp', service: 'auth', method: 'DELETE', path: '/internal/admin/apps/:key', request: z.undefined(), response: z.undefined() });
export const appUsageContract = contract({
  name: 'auth.admin.appUsage',
  service: 'auth',
  method: 'GET',
  path: '/internal/admin/apps/:key/usage',
  request: z.undefined(),
  response: z.object({ api_key: apiKey, days: z.array(z.object({ day: z.string(), calls: z.number().int().min(0), errors: z.number().int().min(0) }).strict()) }).strict(),
});

/**
 * An admin's edit of a member: any of name, e-mail, password (plaintext, hashed as the slaves do) or
 * pass_hash + pass_salt; at least one. Each changed field reaches the slaves as changeName,
 * changeEmail or changePassword.
 */
export const updateMemberCommand = z
  .object({
    name: z.string().min(1).max(255).pipe(oneLine('name')).optional(),
    email: z.string().max(150).regex(EMAIL_PATTERN, 'email must be an e-mail address').pipe(oneLine('email')).optional(),
    password: z.string().min(1).max(4096).optional(),
    pass_hash: z.string().regex(/^[\x21-\x7e]{1,255}$/, 'pass_hash must be printable ASCII').optional(),
    pass_salt: z.string().regex(/^[\x21-\x7e]{1,22}$/, 'pass_salt must be 1–22 printable ASCII characters').optional(),
  })
  .strict()
  .refine((v) => Object.keys(v).length > 0, { message: 'give at least one of name, email, password, pass_hash (with pass_salt)' })
  .refine((v) => v.password === undefined || v.pass_hash === undefined, { message: 'give either password or pass_hash (with pass_salt), not both' })
  .refine((v) => (v.pass_hash === undefined) === (v.pass_salt === undefined) || v.password !== undefined, { message: 'pass_hash and pass_salt go together' });
export type UpdateMemberCommand = z.infer<typeof updateMemberCommand>;

/** Merge `remove` into the member of the path (IPS `merge`): `remove` is deleted on every site. */
export const mergeMemberCommand = z.object({ remove: rowId }).strict();
export type MergeMemberCommand = z.infer<typeof mergeMemberCommand>;

const memberAction = (name: string, path: string) =>
  contract({ name: `auth.admin.${name}`, service: 'auth', method: 'POST', path: `/internal/admin/members/:id/${path}`, request: z.undefined(), response: memberView });

export const updateMemberContract = contract({ name: 'auth.admin.updateMember', service: 'auth', method: 'PATCH', path: '/internal/admin/members/:id', request: updateMemberCommand, response: memberView });
export const banMemberContract = memberAction('banMember', 'ban');
export const unbanMemberContract = memberAction('unbanMember', 'unban');
export const validateMemberContract = memberAction('validateMember', 'validate');
export const logoutMemberContract = memberAction('logoutMember', 'logout');
export const mergeMemberContract = contract({ name: 'auth.admin.mergeMember', service: 'auth', method: 'POST', path: '/internal/admin/members/:id/merge', request: mergeMemberCommand, response: memberView });
export const deleteMemberContract = contract({ name: 'auth.admin.deleteMember', service: 'auth', method: 'DELETE', path: '/internal/admin/members/:id', request: z.undefined(), response: z.undefined() });

/** A slave's state as the lifecycle actions answer it. */
export const slaveState = z
  .object({ id: rowId, url: z.string(), enabled: z.boolean(), disabled_reason: z.string().nullable(), verified: z.boolean() })
  .strict();
export type SlaveState = z.infer<typeof slaveState>;

export const disableSlaveCommand = z.object({ reason: oneLine('reason').min(1).max(200).optional() }).strict();
export const updateSlaveCommand = z.object({ url: httpUrl('url ') }).strict();

/** Disables a slave (the one disable path, as `disableSlave`, DISABLED answers and auto-disable): its pending deliveries are parked. */
export const disableSlaveAdminContract = contract({ name: 'auth.admin.disableSlave', service: 'auth', method: 'POST', path: '/internal/admin/slaves/:id/disable', request: disableSlaveCommand, response: slaveState });
/** Enables a disabled slave that has registered its key; 409 `{error: not_verified}` otherwise. */
export const enableSlaveContract = contract({ name: 'auth.admin.enableSlave', service: 'auth', method: 'POST', path: '/internal/admin/slaves/:id/enable', request: z.undefined(), response: slaveState });
/** Deletes a slave: its pending deliveries are discarded, its audit history kept; 204, 404. */
export const deleteSlaveContract = contract({ name: 'auth.admin.deleteSlave', service: 'auth', method: 'DELETE', path: '/internal/admin/slaves/:id', request: z.undefined(), response: z.undefined() });
/** Points a slave at another URL, checked under the outbound policy; 409 `{error: url_in_use}`. */
export const updateSlaveContract = contract({ name: 'auth.admin.updateSlave', service: 'auth', method: 'PATCH', path: '/internal/admin/slaves/:id', request: updateSlaveCommand, response: slaveState });
