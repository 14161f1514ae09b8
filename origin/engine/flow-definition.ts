import { z } from 'zod';

/** Longest `delay` step a definition may ask for, so a run cannot pin a worker slot indefinitely. */
export const MAX_DELAY_MS = 60_000;

const path = z.string().min(1).max(200);

/** One step of a flow. Steps run in order against a copy of the webhook payload. */
export const StepSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('set'), path, value: z.json() }),
  z.object({ type: z.literal('template'), path, template: z.string().max(10_000) }),
  z.object({ type: z.literal('uppercase'), path }),
  z.object({ type: z.literal('delay'), ms: z.number().int().min(0).max(MAX_DELAY_MS) }),
  z.object({ type: z.literal('fail'), message: z.string().max(1_000).default('step failed') }),
]);

/** A flow definition as stored in `flow.definition`: `{ "steps": [...] }`. */
export const FlowDefinitionSchema = z.object({ steps: z.array(StepSchema).max(100) });

export type Step = z.infer<typeof StepSchema>;
export type FlowDefinition = z.infer<typeof FlowDefinitionSchema>;
