import { z } from 'zod/mini';
import { PLATFORM_ID_PATTERN, PLATFORM_ID_RULE } from '../platform-id.js';

/**
 * Every input of the operator plane, declared once: the admin API, the admin page and the CLI validate with these
 * schemas, so what one front end refuses the others refuse too, with the same message. zod/mini keeps the Worker
 * bundle small; the schemas are plain zod v4 schemas to any caller.
 */

/** Longest `reason` the audit log keeps (contract). */
export const REASON_MAX_LENGTH = 500;
/** Longest actor name (`x-canary-actor`, contract). */
export const ACTOR_MAX_LENGTH = 100;

export const PERCENT_RULE = 'must be a percentage from 0 to 100 with two decimals at most';
export const TTL_RULE = 'must be a whole number of seconds from 60 (1 min) to 86400 (24 h)';

/** A platform id (core/platform-id.ts). */
export const platformIdInput = () => z.string({ error: PLATFORM_ID_RULE }).check(z.regex(PLATFORM_ID_PATTERN, PLATFORM_ID_RULE));

/** A rollout percentage: 12.34 is 1234 basis points; 12.345 is refused rather than rounded. */
export const percentInput = () =>
  z.number({ error: PERCENT_RULE }).check(
    z.gte(0, PERCENT_RULE),
    z.lte(100, PERCENT_RULE),
    z.refine((p) => Math.abs(p * 100 - Math.round(p * 100)) < 1e-9, PERCENT_RULE),
  );

/**
 * Control characters (C0, DEL, C1) and the bidirectional overrides and isolates ("Trojan Source"): what would let a
 * value rewrite an operator's terminal or reorder what a reader sees.
 */
// eslint-disable-next-line no-control-regex -- finding control characters is the point
export const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/u;

/** Why a change was made (optional; kept in the audit log and printed to operators, so no control characters). */
export const reasonInput = () =>
  z.optional(
    z.nullable(
      z.string({ error: 'must be text' }).check(
        z.maxLength(REASON_MAX_LENGTH, `must be at most ${REASON_MAX_LENGTH} characters`),
        z.refine((text) => !CONTROL_CHARACTERS.test(text), 'must not contain control characters'),
      ),
    ),
  );

/** Who a caller says they are (`x-canary-actor`): printable, no control characters; recorded as `api:<name>`. */
export const actorInput = () =>
  z.string().check(
    z.minLength(1, `must be 1 to ${ACTOR_MAX_LENGTH} printable characters`),
    z.maxLength(ACTOR_MAX_LENGTH, `must be 1 to ${ACTOR_MAX_LENGTH} printable characters`),
    z.refine((text) => !CONTROL_CHARACTERS.test(text) && text.trim() === text, `must be 1 to ${ACTOR_MAX_LENGTH} printable characters`),
  );

/** How long a tester override lives. */
export const ttlSecondsInput = () => z.number({ error: TTL_RULE }).check(z.int(TTL_RULE), z.gte(60, TTL_RULE), z.lte(86_400, TTL_RULE));

/** Bodies of the operator commands (unknown fields are refused). */
export const SET_CHOICE_INPUT = z.strictObject({ platformId: platformIdInput(), canary: z.boolean({ error: 'must be true or false' }), reason: reasonInput() });
export const FOLLOW_INPUT = z.strictObject({ platformId: platformIdInput(), reason: reasonInput() });
export const ROLLOUT_INPUT = z.strictObject({ percent: percentInput(), reason: reasonInput() });
export const REASON_INPUT = z.strictObject({ reason: reasonInput() });
export const OVERRIDE_INPUT = z.strictObject({
  target: z.enum(['canary', 'primary'], { error: 'must be "canary" or "primary"' }),
  ttlSeconds: ttlSecondsInput(),
  platformId: z.optional(platformIdInput()),
  reason: reasonInput(),
});
export const AUDIT_QUERY_INPUT = z.object({
  limit: z._default(z.coerce.number().check(z.int(), z.gte(1), z.lte(500)), 50),
  platformId: z.optional(platformIdInput()),
  before: z.optional(z.coerce.number().check(z.int(), z.positive())),
});

export type SetChoiceInput = z.infer<typeof SET_CHOICE_INPUT>;
export type FollowInput = z.infer<typeof FOLLOW_INPUT>;
export type RolloutInput = z.infer<typeof ROLLOUT_INPUT>;
export type ReasonInput = z.infer<typeof REASON_INPUT>;
export type OverrideInput = z.infer<typeof OVERRIDE_INPUT>;
export type AuditQueryInput = z.infer<typeof AUDIT_QUERY_INPUT>;

/** The input, validated: its value, or the first problem of each field as one message (`field: what is wrong`). */
export function validateInput<T>(schema: z.ZodMiniType<T>, value: unknown, rootName = 'body'): { ok: true; value: T } | { ok: false; message: string } {
  const parsed = schema.safeParse(value);
  if (parsed.success) return { ok: true, value: parsed.data };
  const seen = new Set<string>();
  const problems: string[] = [];
  for (const issue of parsed.error.issues) {
    const field = issue.path.join('.') || rootName;
    if (seen.has(field)) continue;
    seen.add(field);
    const unknown = issue.code === 'unrecognized_keys' ? `unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.join(', ')}` : null;
    problems.push(unknown === null ? `${field}: ${issue.message}` : issue.path.length > 0 ? `${field}: ${unknown}` : unknown);
  }
  return { ok: false, message: problems.join('; ') };
}

/** A percentage typed as text (page form, CLI argument): the number it spells, validated by `percentInput`. */
export function percentFromText(text: string): number {
  const trimmed = text.trim();
  return trimmed === '' ? Number.NaN : Number(trimmed);
}
