import { z } from 'zod';
import { contract } from './contract';
import { pgText, remoteAddress, requestId, rowId } from './fields';
import { BROWSER_ACTIONS, IPS_ACTIONS, IPS_PARAM_NAMES, IPS_STATUSES, IpsStatus } from './vocabulary';

const PARAM_NAMES: ReadonlySet<string> = new Set(IPS_PARAM_NAMES);

/**
 * Decoded IPS parameters as the gateway hands them on: only the names an action reads (spec D2),
 * `null` marking an array-valued (unusable) parameter. The gateway's parser strips NUL (PHP-style);
 * PostgreSQL text cannot hold it, so a NUL here is refused.
 */
const ipsParams = z
  .record(z.string(), pgText.max(65_536).nullable())
  .refine((p) => Object.keys(p).every((k) => PARAM_NAMES.has(k)), 'only the parameter names IPS Connect actions read travel (IPS_PARAM_NAMES)');

/** The request as the gateway hands an IPS action to the auth service. */
export const ipsActionRequest = z
  .object({
    action: z.enum(IPS_ACTIONS),
    params: ipsParams,
    /** Client address as the gateway saw it (per-caller limits, audit). */
    remoteAddress,
    requestId,
  })
  .strict();
export type IpsActionRequest = z.infer<typeof ipsActionRequest>;

/** A JSON answer: `status` first, then the action's fields in protocol order. */
export type IpsAnswer = { status: IpsStatus } & Record<string, string | number | null>;
export const ipsAnswer: z.ZodType<IpsAnswer> = z.object({ status: z.enum(IPS_STATUSES) }).catchall(z.union([z.string(), z.number(), z.null()])) as z.ZodType<IpsAnswer>;

/** The first hit of a crossLogin / logout, handed to auth for its plan (spec §4, D14). */
export const chainRequest = z
  .object({
    action: z.enum(BROWSER_ACTIONS),
    params: ipsParams,
    remoteAddress,
    requestId,
  })
  .strict();
export type ChainRequest = z.infer<typeof chainRequest>;

/** What the auth service decides for the first hit of a crossLogin / logout (spec §4, D14). */
export const chainPlan = z
  .object({
    /** forbidden: the generic 403 page; straight: 303 to returnTo; chain: through `hops` first. */
    outcome: z.enum(['forbidden', 'straight', 'chain']),
    /** crossLogin: log the browser into the master as `memberId`. */
    login: z.boolean(),
    memberId: rowId.nullable(),
    sessionEpoch: z.number().int().nullable(),
    returnTo: z.string().nullable(),
    /** Each hop: the slave URL and its parameters in order, all but `returnTo` (the gateway adds it). */
    hops: z.array(z.object({ url: z.string(), params: z.array(z.tuple([z.string(), z.string()])) }).strict()),
    /** Why (for logs only; never shown to the browser). */
    reason: z.string(),
  })
  .strict();
export type ChainPlan = z.infer<typeof chainPlan>;

/** `POST /internal/ipsconnect`: an IPS action that changes members or slaves, run by auth. */
export const ipsActionContract = contract({ name: 'auth.ipsAction', service: 'auth', method: 'POST', path: '/internal/ipsconnect', request: ipsActionRequest, response: ipsAnswer });

/** `POST /internal/ipsconnect/chain`: the plan of a browser chain. */
export const chainPlanContract = contract({ name: 'auth.planChain', service: 'auth', method: 'POST', path: '/internal/ipsconnect/chain', request: chainRequest, response: chainPlan });
