import { BadRequestException, ConflictException, InternalServerErrorException, NotFoundException, ServiceUnavailableException } from '@nestjs/common';
import { createServer } from 'node:net';
import fastify from 'fastify';
import fc from 'fast-check';
import IORedis from 'ioredis';
import { Client } from 'pg';
import { QueryFailedError } from 'typeorm';
import { JsonBodyError, MAX_JSON_DEPTH, jsonDepthExceeds, jsonIsWellFormed } from './json-body';
import { classifyError } from './safety-net';

const { errorCodes } = fastify;

describe('classifyError: what a client sees for an error a route let escape', () => {
  it('keeps the 4xx of known client errors with fixed words, never the error text', () => {
    const cases: [Error, number][] = [
      [new errorCodes.FST_ERR_CTP_BODY_TOO_LARGE(), 413],
      [new errorCodes.FST_ERR_CTP_INVALID_JSON_BODY(), 400],
      [new errorCodes.FST_ERR_CTP_EMPTY_JSON_BODY(), 400],
      [new errorCodes.FST_ERR_CTP_INVALID_MEDIA_TYPE('text/x-secret-key=abc'), 415],
      [new errorCodes.FST_ERR_CTP_INVALID_CONTENT_LENGTH(), 400],
      [new errorCodes.FST_ERR_BAD_URL('/x?key=abc'), 400],
      [new JsonBodyError('SB_JSON_TOO_DEEP', 'deep'), 400],
      [Object.assign(new Error('Malformed part header key=abc'), { statusCode: 400 }), 400],
    ];
    for (const [err, status] of cases) {
      const answer = classifyError(err);
      expect([err.message, answer.status]).toEqual([err.message, status]);
      expect(JSON.stringify(answer.body)).not.toContain('abc');
    }
  });

  it("replaces Nest's route-not-found text, which quotes the URL and its query", () => {
    const answer = classifyError(new NotFoundException('Cannot GET /nosuch?key=0123456789abcdef'));
    expect(answer.status).toBe(404);
    expect(JSON.stringify(answer.body)).not.toContain('0123456789abcdef');
    expect(JSON.stringify(answer.body)).not.toContain('/nosuch');
    // Our own HttpExceptions keep their answer (validation messages, conflict codes).
    expect(classifyError(new BadRequestException(['name: too long'])).body).toEqual({ statusCode: 400, error: 'Bad Request', message: ['name: too long'] });
    // Readiness details (terminus' 503) go out as they are.
    const notReady = { status: 'error', info: {}, error: { redis: { status: 'down' } }, details: { redis: { status: 'down' } } };
    expect(classifyError(new ServiceUnavailableException(notReady))).toMatchObject({ status: 503, body: notReady });
    expect(classifyError(new InternalServerErrorException('pool exhausted at db.internal:5432')).body).toEqual({ statusCode: 500, error: 'Internal Server Error', message: 'Internal server error' });
    expect(classifyError(new ConflictException({ statusCode: 409, error: 'email_in_use', message: 'email in use' })).body).toEqual({ statusCode: 409, error: 'email_in_use', message: 'email in use' });
  });

  it('answers 503 with Retry-After when Redis or PostgreSQL really is down (errors from the real clients)', async () => {
    // A port nothing listens on: bound, closed, and only then connected to.
    const port = await new Promise<number>((resolve) => {
      const srv = createServer().listen(0, '127.0.0.1', () => {
        const { port: p } = srv.address() as { port: number };
        srv.close(() => resolve(p));
      });
    });
    const redis = new IORedis({ port, host: '127.0.0.1', enableOfflineQueue: false, maxRetriesPerRequest: 1, lazyConnect: true, retryStrategy: () => null });
    redis.on('error', () => undefined);
    const redisError = await redis.get('x').then(
      () => null,
      (err: Error) => err,
    );
    redis.disconnect();
    const pg = new Client({ host: '127.0.0.1', port, user: 'nobody', database: 'none', connectionTimeoutMillis: 2000 });
    const pgError = await pg.connect().then(
      () => null,
      (err: Error) => err,
    );
    for (const err of [redisError, pgError, Object.assign(new Error('auth service unreachable: fetch failed'), { name: 'AuthUnavailableError' })]) {
      expect(err?.message).toEqual(expect.any(String)); // a real failure (from another realm: no instanceof here)
      const answer = classifyError(err);
      expect([err!.message, answer.status, answer.headers?.['retry-after']]).toEqual([err!.message, 503, '5']);
    }
  }, 30_000);

  it('maps PostgreSQL data exceptions to 400 and constraint violations to 409; anything else is a bare 500', () => {
    const query = (code: string, message: string) => new QueryFailedError('SELECT 1', [], Object.assign(new Error(message), { code }));
    expect(classifyError(query('22021', 'invalid byte sequence for encoding "UTF8": 0x00')).status).toBe(400);
    expect(classifyError(query('22P05', 'unsupported Unicode escape sequence')).status).toBe(400);
    expect(classifyError(query('23505', 'duplicate key value violates unique constraint "x"')).status).toBe(409);
    const bug = classifyError(new TypeError("Cannot read properties of undefined (reading 'key=abc')"));
    expect(bug).toMatchObject({ status: 500, body: { statusCode: 500, error: 'Internal Server Error', message: 'Internal server error' }, log: 'error' });
    expect(classifyError(query('42P01', 'relation "x" does not exist')).status).toBe(500);
    // A bad argument the auth service refused keeps its 4xx; a refusal of our own call (401) is a fault.
    const rejected = (status: number) => Object.assign(new Error(`auth service answered HTTP ${status}`), { name: 'AuthRejectedError', status });
    expect(classifyError(rejected(400)).status).toBe(400);
    expect(classifyError(rejected(404)).status).toBe(404);
    expect(classifyError(rejected(401)).status).toBe(500);
  });
});

describe('JSON body checks', () => {
  it('measures nesting without recursion, skipping strings and escapes', () => {
    expect(jsonDepthExceeds('['.repeat(MAX_JSON_DEPTH) + ']'.repeat(MAX_JSON_DEPTH))).toBe(false);
    expect(jsonDepthExceeds('['.repeat(MAX_JSON_DEPTH + 1) + ']'.repeat(MAX_JSON_DEPTH + 1))).toBe(true);
    expect(jsonDepthExceeds('['.repeat(1_000_000))).toBe(true);
    expect(jsonDepthExceeds(`{"a":"${'['.repeat(100)}\\"${'{'.repeat(100)}"}`)).toBe(false);
  });

  it('agrees with the real nesting depth of any JSON value', () => {
    const depth = (v: unknown): number => (v !== null && typeof v === 'object' ? 1 + Math.max(0, ...Object.values(v as object).map(depth)) : 0);
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 40 }), (v) => jsonDepthExceeds(JSON.stringify(v), 8) === depth(v) > 8),
      { numRuns: 500 },
    );
  });

  it('refuses lone surrogates in keys and values, accepts pairs', () => {
    expect(jsonIsWellFormed(JSON.parse('{"a":["x\\ud83d\\ude00"]}'))).toBe(true);
    expect(jsonIsWellFormed(JSON.parse('{"a":["x\\ud800"]}'))).toBe(false);
    expect(jsonIsWellFormed(JSON.parse('{"\\udc00":1}'))).toBe(false);
  });
});
