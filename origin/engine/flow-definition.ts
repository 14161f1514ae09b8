import { z } from 'zod';

/** Longest `delay` step a definition may ask for, so a run cannot pin a worker slot indefinitely. */
export const MAX_DELAY_MS = 60_000;
/** Longest text one `template` step may produce; a template repeating a large value cannot exhaust a worker. */
export const MAX_TEMPLATE_OUTPUT_CHARS = 64 * 1024;
/** Deepest path a step may write. */
export const MAX_PATH_SEGMENTS = 20;

// Names that reach an object's prototype (or its constructor) through ordinary property access. A write to one of
// them would change every object of the worker process, i.e. every other tenant's runs on it.
const FORBIDDEN_SEGMENTS = new Set(['__proto__', 'constructor', 'prototype']);

/** Why a dotted path is refused, or null when every segment is a plain own-property name. */
export function pathProblem(path: string): string | null {
  const segments = path.split('.');
  if (segments.length > MAX_PATH_SEGMENTS) return `has more than ${MAX_PATH_SEGMENTS} segments`;
  for (const segment of segments) {
    if (segment === '') return 'has an empty segment';
    if (FORBIDDEN_SEGMENTS.has(segment)) return `segment "${segment}" is not allowed`;
  }
  return null;
}

const path = z
  .string()
  .min(1)
  .max(200)
  .superRefine((value, ctx) => {
    const problem = pathProblem(value);
    if (problem !== null) ctx.addIssue({ code: 'custom', message: `path "${value}" ${problem}` });
  });

/** One step of a flow. Steps run in order against a copy of the webhook payload. */
export const StepSchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('set'), path, value: z.json() }),
  z.strictObject({ type: z.literal('template'), path, template: z.string().max(10_000) }),
  z.strictObject({ type: z.literal('uppercase'), path }),
  z.strictObject({ type: z.literal('delay'), ms: z.number().int().min(0).max(MAX_DELAY_MS) }),
  z.strictObject({ type: z.literal('fail'), message: z.string().max(1_000).default('step failed') }),
]);

/** A flow definition as stored in `flow.definition`: `{ "steps": [...] }`. */
export const FlowDefinitionSchema = z.strictObject({ steps: z.array(StepSchema).max(100) });

export type Step = z.infer<typeof StepSchema>;
export type FlowDefinition = z.infer<typeof FlowDefinitionSchema>;

/** The first problem of an invalid definition, as one line naming where it is (`steps.0.path: …`). */
export function describeDefinitionError(error: z.ZodError): string {
  const issue = error.issues[0];
  if (issue === undefined) return 'invalid definition';
  const where = issue.path.length > 0 ? `${issue.path.join('.')}: ` : '';
  return `${where}${issue.message}`;
}
