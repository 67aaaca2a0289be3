import { ExecutionContext, HttpCode, SetMetadata, applyDecorators, createParamDecorator } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiOperation, ApiParam, ApiQuery, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { ReferenceObject, SchemaObject } from '@nestjs/swagger/dist/interfaces/open-api-spec.interface';
import { z } from 'zod';
import { problemDetails } from '@switchboard/contracts';
import { PROBLEM_CONTENT_TYPE, PROBLEM_SLUGS, PROBLEM_TYPE_PREFIX, check } from './problem';

/**
 * One admin route, described once: its summary, the zod schemas that validate its query and body
 * (the same objects `@Checked` parses with), its success answer's schema, the errors it may answer
 * and an example. `AdminRoute` turns it into the OpenAPI operation (schemas generated with
 * `z.toJSONSchema`), so the document cannot drift from what the route accepts.
 */
export interface AdminRouteSpec {
  summary: string;
  description?: string;
  /** Path parameters: name → description. */
  params?: Record<string, string>;
  query?: z.ZodObject;
  body?: z.ZodType;
  /** Success: status (default 200), schema (none for 204), description, example. */
  response: { status?: number; schema?: z.ZodType; description: string; example?: unknown };
  /** Error statuses besides those every admin route may answer (401, 429, 503). */
  errors?: number[];
  /** A request body example. */
  example?: unknown;
}

export const ADMIN_ROUTE = 'switchboard:admin-route';
export const ADMIN_SECURITY = 'admin-token';

/** Error statuses every admin route may answer: no valid token, too many failed ones, a dependency down. */
const ALWAYS = [401, 429, 503];
const ERROR_WORDS: Record<number, string> = {
  400: 'invalid request: `errors` names every field at fault (type urn:switchboard:problem:validation), or a malformed body',
  401: 'missing, unknown or revoked admin token (WWW-Authenticate: Bearer)',
  403: 'forbidden',
  404: 'no such resource',
  409: 'conflicts with the current state; `code` says how',
  429: 'too many failed admin authentications from this address (Retry-After)',
  503: 'a store or service it needs is down; try again later (Retry-After)',
};

// ---------------------------------------------------------------------------------------------------
// zod → OpenAPI 3.0 schemas

/** Named schemas (`.meta({id})`) met so far: the document's `components.schemas`. */
const COMPONENTS = new Map<string, SchemaObject>();

function rewriteRefs(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(rewriteRefs);
  if (!value || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    if (k === '$ref' && typeof v === 'string') out[k] = v.replace(/^#\/(\$defs|definitions)\//, '#/components/schemas/');
    else if (k === '$schema' || k === '$id') continue;
    else out[k] = rewriteRefs(v);
  }
  return out;
}

/**
 * The OpenAPI 3.0 schema of `schema` as a request (`input`: what may be sent) or an answer
 * (`output`). Named sub-schemas become components (`#/components/schemas/<id>`); the same name
 * must always mean the same schema.
 */
export function openApiSchema(schema: z.ZodType, io: 'input' | 'output'): SchemaObject | ReferenceObject {
  const json = z.toJSONSchema(schema, { target: 'openapi-3.0', io, unrepresentable: 'any', reused: 'inline' }) as Record<string, unknown>;
  const defs = { ...((json['definitions'] as Record<string, unknown>) ?? {}), ...((json['$defs'] as Record<string, unknown>) ?? {}) };
  for (const [name, def] of Object.entries(defs)) {
    const rewritten = rewriteRefs(def) as SchemaObject;
    const known = COMPONENTS.get(name);
    if (known && JSON.stringify(known) !== JSON.stringify(rewritten)) {
      throw new Error(`OpenAPI component ${name} is generated two ways (${io}); give the ${io} variant its own id`);
    }
    COMPONENTS.set(name, rewritten);
  }
  // A named root comes back as a reference to its definition.
  const { definitions: _d, $defs: _s, ...rest } = json;
  return rewriteRefs(rest) as SchemaObject;
}

/** Every named schema met by the routes, and the problem schema. */
export function openApiComponents(): Record<string, SchemaObject> {
  openApiSchema(problemDetails, 'output');
  return Object.fromEntries([...COMPONENTS.entries()].sort(([a], [b]) => a.localeCompare(b)));
}

// ---------------------------------------------------------------------------------------------------
// Decorators

const problemExample = (status: number) => ({
  type: PROBLEM_TYPE_PREFIX + (status === 400 ? 'validation' : (PROBLEM_SLUGS[status] ?? `http-${status}`)),
  title: { 400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 409: 'Conflict', 429: 'Too Many Requests', 503: 'Service Unavailable' }[status] ?? 'Error',
  status,
  detail: status === 400 ? 'name: Too big: expected string to have <=255 characters' : (ERROR_WORDS[status] ?? 'error').split(/[:(]/)[0].trim(),
  instance: 'urn:switchboard:request:4bf92f35-77b3-4da6-a3ce-929d0e0e4736',
  ...(status === 400 ? { errors: [{ field: 'name', message: 'Too big: expected string to have <=255 characters' }] } : {}),
  ...(status === 429 || status === 503 ? { retry_after: status === 429 ? 60 : 5 } : {}),
});

/** The admin route described by `spec`: OpenAPI operation, success and error answers, and its schemas for `@Checked`. */
export function AdminRoute(spec: AdminRouteSpec): MethodDecorator {
  const status = spec.response.status ?? 200;
  const decorators: (MethodDecorator | ClassDecorator)[] = [
    SetMetadata(ADMIN_ROUTE, spec),
    HttpCode(status),
    ApiOperation({ summary: spec.summary, ...(spec.description ? { description: spec.description } : {}) }),
  ];
  for (const [name, description] of Object.entries(spec.params ?? {})) decorators.push(ApiParam({ name, description, schema: { type: 'string' } }));
  if (spec.query) {
    for (const [name, field] of Object.entries(spec.query.shape)) {
      const fieldSchema = openApiSchema(field as z.ZodType, 'input') as SchemaObject;
      const optional = (field as z.ZodType).safeParse(undefined).success;
      const { description, ...schema } = fieldSchema as SchemaObject & { description?: string };
      decorators.push(ApiQuery({ name, required: !optional, schema, ...(description ? { description } : {}) }));
    }
  }
  if (spec.body) {
    decorators.push(ApiBody({ schema: openApiSchema(spec.body, 'input'), ...(spec.example !== undefined ? { examples: { example: { value: spec.example } } } : {}) }));
  }
  const ok = spec.response;
  decorators.push(
    ApiResponse({
      status,
      description: ok.description,
      ...(ok.schema ? { content: { 'application/json': { schema: openApiSchema(ok.schema, 'output'), ...(ok.example !== undefined ? { example: ok.example } : {}) } } } : {}),
    }),
  );
  const errors = [...new Set([...(spec.body || spec.query ? [400] : []), ...(spec.errors ?? []), ...ALWAYS])].sort();
  for (const code of errors) {
    decorators.push(
      ApiResponse({
        status: code,
        description: ERROR_WORDS[code] ?? 'error',
        content: { [PROBLEM_CONTENT_TYPE]: { schema: { $ref: '#/components/schemas/Problem' }, example: problemExample(code) } },
      }),
    );
  }
  return applyDecorators(...decorators);
}

/** Tags, security and guard metadata shared by an admin controller. */
export function AdminController(tag: string): ClassDecorator {
  return applyDecorators(ApiTags(tag), ApiBearerAuth(ADMIN_SECURITY));
}

/** The request's query or body, parsed with the route's own schema (AdminRoute): 400 problem naming every field otherwise. */
export const Checked = createParamDecorator((where: 'query' | 'body', ctx: ExecutionContext) => {
  const spec = Reflect.getMetadata(ADMIN_ROUTE, ctx.getHandler()) as AdminRouteSpec | undefined;
  const schema = spec?.[where];
  if (!schema) throw new Error(`@Checked('${where}') on a route without an AdminRoute ${where} schema`);
  const req = ctx.switchToHttp().getRequest<{ query?: unknown; body?: unknown }>();
  const raw = where === 'query' ? { ...((req.query as object) ?? {}) } : (req.body ?? {});
  return check(schema, raw);
});
