import type { ExplicitChoice, RolloutState } from './effective.js';

/** The lookup script's reply (scripts.ts LOOKUP_SCRIPT), decoded by name. */
export type LookupReply =
  | {
      kind: 'hit';
      platformId: string;
      explicit: ExplicitChoice;
      rollout: RolloutState;
      overridesRevokedBeforeMs: number;
      /** Build pins of the platform issued before this instant (epoch ms) no longer hold; null: none cut. */
      pinCutoffMs: number | null;
      refreshGeneration: string | null;
    }
  | { kind: 'negative' }
  | { kind: 'resolver-miss'; locked: boolean }
  | { kind: 'miss'; platformId: string; generation: string; locked: boolean };

/** The fields each reply carries after its tag, in order (a trailing `?` marks an optional field). */
const FIELDS = {
  hit: ['platformId', 'explicit', 'basisPoints', 'salt', 'paused', 'overridesRevokedBeforeMs', 'pinCutoffMs', 'refreshGeneration'],
  negative: [],
  'resolver-miss': ['locked'],
  miss: ['platformId', 'generation', 'locked'],
} as const;

type Tag = keyof typeof FIELDS;

function isTag(value: unknown): value is Tag {
  return typeof value === 'string' && Object.hasOwn(FIELDS, value);
}

/** The reply's fields by name; throws on a reply of another shape (an old script, a proxy's garbage). */
function named(raw: unknown): { tag: Tag; get(name: string): string | null } {
  if (!Array.isArray(raw)) throw new Error(`unexpected lookup reply: ${typeof raw}`);
  const [tag, ...values] = raw as unknown[];
  if (!isTag(tag)) throw new Error(`unexpected lookup reply tag: ${String(tag)}`);
  const fields: readonly string[] = FIELDS[tag];
  const required = fields.filter((f) => !f.endsWith('?')).length;
  if (values.length < required || values.length > fields.length) throw new Error(`lookup reply '${tag}' has ${values.length} fields, expected ${required}..${fields.length}`);
  const byName = new Map<string, string | null>();
  fields.forEach((field, i) => byName.set(field.replace(/\?$/, ''), values[i] === undefined || values[i] === null ? null : String(values[i])));
  return { tag, get: (name) => byName.get(name) ?? null };
}

function explicitOf(value: string | null): ExplicitChoice {
  return value === 'in' ? 'in' : value === 'out' ? 'out' : null;
}

/** Decodes the lookup script's reply. */
export function decodeLookupReply(raw: unknown): LookupReply {
  const reply = named(raw);
  switch (reply.tag) {
    case 'hit':
      return {
        kind: 'hit',
        platformId: reply.get('platformId') ?? '',
        explicit: explicitOf(reply.get('explicit')),
        rollout: { basisPoints: Number(reply.get('basisPoints')), salt: reply.get('salt') ?? '', paused: reply.get('paused') !== '0' },
        overridesRevokedBeforeMs: Number(reply.get('overridesRevokedBeforeMs')) || 0,
        pinCutoffMs: Number(reply.get('pinCutoffMs')) || null,
        refreshGeneration: reply.get('refreshGeneration') || null,
      };
    case 'negative':
      return { kind: 'negative' };
    case 'resolver-miss':
      return { kind: 'resolver-miss', locked: reply.get('locked') === '1' };
    case 'miss':
      return { kind: 'miss', platformId: reply.get('platformId') ?? '', generation: reply.get('generation') ?? '', locked: reply.get('locked') === '1' };
  }
}
