import { BadRequestException } from '@nestjs/common';
import { z } from 'zod';
import { EMAIL_PATTERN, MAX_MEMBER_ID } from '@switchboard/input-rules';

/**
 * Admin commands that change what the auth service owns; validated with these schemas on both
 * sides (admin API input, auth internal endpoint).
 */
const noControl = (what: string) => (v: string) => !/[\u0000-\u001f\u007f]/.test(v) || `${what} must not contain control characters`;

export const createMemberSchema = z
  .object({
    id: z.number().int().min(1).max(MAX_MEMBER_ID).optional(),
    name: z.string().min(1).max(255).refine((v) => noControl('name')(v) === true, 'name must not contain control characters'),
    email: z
      .string()
      .max(150)
      .regex(EMAIL_PATTERN, 'email must be an e-mail address')
      .refine((v) => noControl('email')(v) === true, 'email must not contain control characters'),
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
export type CreateMemberCommand = z.infer<typeof createMemberSchema>;

export const issueSlaveKeySchema = z
  .object({ url: z.url({ protocol: /^https?$/ }).max(2048).regex(/^[\x21-\x7e]+$/, 'url must be printable ASCII (percent-encode the rest)') })
  .strict();
export type IssueSlaveKeyCommand = z.infer<typeof issueSlaveKeySchema>;

export const settingsSchema = z.object({ global_master_key: z.boolean() }).strict();
export type SettingsCommand = z.infer<typeof settingsSchema>;

/** Parses `body` with `schema`, or answers 400 with one message per problem. */
export function parseOrBadRequest<T>(schema: z.ZodType<T>, body: unknown): T {
  const r = schema.safeParse(body);
  if (!r.success) throw new BadRequestException(describeZodError(r.error));
  return r.data;
}

/** One line per problem, each naming the field. */
export function describeZodError(error: z.ZodError): string[] {
  return error.issues.map((i) => (i.path.length ? `${i.path.join('.')}: ${i.message}` : i.message));
}
