import { ConflictException, NotFoundException } from '@nestjs/common';
import fc from 'fast-check';
import { auditQuery, createMemberCommand, problemDetails } from '@switchboard/contracts';
import { classifyError } from '@switchboard/runtime';
import { decodeCursor, encodeCursor } from './cursor';
import { ValidationProblem, check, toProblem } from './problem';

const ctx = { requestId: 'req-1' };
const problemOf = (err: unknown) => toProblem(classifyError(err), err, ctx);
const validationOf = (fn: () => unknown): ValidationProblem => {
  try {
    fn();
  } catch (err) {
    if (err instanceof ValidationProblem) return err;
    throw err;
  }
  throw new Error('no ValidationProblem');
};

describe('admin problem details (RFC 9457)', () => {
  it('names every field at fault, never a value, nor the name of an unknown field', () => {
    const marker = 'SECRET-MARKER-7f3a';
    fc.assert(
      fc.property(fc.dictionary(fc.string({ maxLength: 12 }), fc.anything()), (junk) => {
        const err = validationOf(() => check(createMemberCommand, { ...junk, [marker]: marker, name: marker.repeat(40), email: marker }));
        const p = problemOf(err);
        expect(problemDetails.safeParse(p).success).toBe(true);
        expect(p).toMatchObject({ type: 'urn:switchboard:problem:validation', status: 400, instance: 'urn:switchboard:request:req-1' });
        expect(JSON.stringify(p)).not.toContain(marker);
        expect(p.errors!.map((e) => e.field)).toEqual(expect.arrayContaining(['name', 'email', null]));
      }),
      { numRuns: 50 },
    );
    const q = validationOf(() => check(auditQuery, { limit: '0', bogus: 'x' }));
    expect(q.errors).toEqual(expect.arrayContaining([{ field: 'limit', message: 'must be at least 1' }, { field: null, message: expect.stringMatching(/^unknown parameter \(accepted: limit, cursor, type, slave_id, member_id\)$/) }]));
  });

  it('keeps machine codes and statuses of our errors and of relayed auth answers', () => {
    expect(problemOf(new ConflictException({ statusCode: 409, error: 'email_in_use', message: 'email in use' }))).toEqual({
      type: 'urn:switchboard:problem:conflict',
      title: 'Conflict',
      status: 409,
      detail: 'email in use',
      instance: 'urn:switchboard:request:req-1',
      code: 'email_in_use',
    });
    expect(problemOf(new NotFoundException('Cannot GET /admin/x?key=abc'))).toMatchObject({ status: 404, detail: 'No such route' });
    const refused = problemOf(new (class extends Error {})('x'));
    expect(refused).toMatchObject({ status: 500, type: 'urn:switchboard:problem:internal', detail: 'Internal server error' });
  });

  it('cursors are opaque, list-bound and checked', () => {
    expect(decodeCursor('members', encodeCursor('members', 42))).toBe('42');
    expect(() => decodeCursor('slaves', encodeCursor('members', 42))).toThrow(ValidationProblem);
    expect(() => decodeCursor('members', encodeCursor('members', 'x'))).toThrow(ValidationProblem);
    expect(decodeCursor('members', undefined)).toBeUndefined();
  });
});
