import { z } from 'zod';
import { MAX_MEMBER_ID, MAX_URL } from '@switchboard/input-rules';

/** A row id: a positive int4. */
export const rowId = z.number().int().min(1).max(MAX_MEMBER_ID);
/** A version counter (keyring_version). */
export const version = z.number().int().min(0);
/** Text PostgreSQL can store: no NUL. */
export const pgText = z.string().refine((v) => !v.includes('\u0000'), 'must not contain NUL');
/** Text of one line: no control characters at all. */
export const oneLine = (what: string) => z.string().refine((v) => !/[\u0000-\u001f\u007f]/.test(v), `${what} must not contain control characters`);
/** An ordered list of name/value pairs, as signed parameters and slave calls keep them. */
export const pairs = (max: number) => z.array(z.tuple([z.string(), z.string()])).max(max);
/** A request id as the runtime issues or accepts it. */
export const requestId = z.string().max(200).nullable();
/** A client address as Fastify saw it. */
export const remoteAddress = z.string().max(100).nullable();
/** An ISO-8601 instant. */
export const instant = z.string().refine((v) => !Number.isNaN(Date.parse(v)), 'must be an ISO-8601 date-time');
/** An http(s) URL of printable ASCII. */
export const httpUrl = (prefix = '') => z.url({ protocol: /^https?$/ }).max(MAX_URL).regex(/^[\x21-\x7e]+$/, `${prefix}must be printable ASCII (percent-encode the rest)`);
/** An application key as issued: 32 lowercase hex characters. */
export const apiKey = z.string().regex(/^[0-9a-f]{32}$/, 'must be 32 lowercase hex characters');
