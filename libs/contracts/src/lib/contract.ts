import { z } from 'zod';

/** The services that answer internal calls. */
export type InternalService = 'auth' | 'propagator';
export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/**
 * One internal HTTP route between two of our services: who answers it, where, the body it takes
 * and the body of its success answer. The caller checks what it sends and what it receives against
 * these schemas; the answering service checks what it receives and what it answers (`answer`). Error
 * answers (4xx with `{statusCode, message}`) are the runtime's, not part of a contract.
 */
export interface Contract<Req extends z.ZodType = z.ZodType, Res extends z.ZodType = z.ZodType> {
  /** A stable name for logs and errors, e.g. `auth.ipsAction`. */
  name: string;
  service: InternalService;
  method: HttpMethod;
  /** Path template; `:name` segments are filled (URI-encoded) by `pathOf`. */
  path: string;
  /** The body; `z.undefined()` for routes without one. */
  request: Req;
  /** The body of a 2xx answer; `z.undefined()` for 204. */
  response: Res;
}

export type RequestOf<C extends Contract> = z.output<C['request']>;
export type ResponseOf<C extends Contract> = z.output<C['response']>;

export function contract<Req extends z.ZodType, Res extends z.ZodType>(c: Contract<Req, Res>): Contract<Req, Res> {
  return c;
}

/** One line per problem, each naming the field (`params.email: …`). */
export function describeIssues(error: z.ZodError): string[] {
  return error.issues.map((i) => (i.path.length ? `${i.path.join('.')}: ${i.message}` : i.message));
}

/**
 * A message that breaks its contract. `side` says which: a request the caller was about to send or
 * the answering service received, or an answer the service was about to send or the caller
 * received. The issues name fields, never values (a message may carry keys).
 */
export class ContractViolation extends Error {
  constructor(
    readonly contract: string,
    readonly side: 'request' | 'response' | 'message',
    readonly issues: string[],
  ) {
    super(`${contract} ${side} breaks its contract: ${issues.slice(0, 5).join('; ')}`);
    this.name = 'ContractViolation';
  }
}

/** `value` checked against one side of `c` (parsed: defaults applied, unknown keys refused where strict). */
export function checkMessage<C extends Contract, S extends 'request' | 'response'>(c: C, side: S, value: unknown): z.output<C[S]> {
  return checkAgainst(c[side], c.name, side, value) as z.output<C[S]>;
}

/** `value` checked against `schema`; a ContractViolation naming `name` when it does not hold. */
export function checkAgainst<S extends z.ZodType>(schema: S, name: string, side: ContractViolation['side'], value: unknown): z.output<S> {
  const r = schema.safeParse(value);
  if (!r.success) throw new ContractViolation(name, side, describeIssues(r.error));
  return r.data;
}

/** The path of `c` with its `:name` segments filled from `params`, each URI-encoded. */
export function pathOf(c: Contract, params: Record<string, string | number> = {}): string {
  return c.path.replace(/:([A-Za-z]+)/g, (_, name: string) => {
    const v = params[name];
    if (v === undefined) throw new Error(`${c.name}: no value for :${name}`);
    return encodeURIComponent(String(v));
  });
}
