import type { AuditEntry, ChangeMeta, RolloutRecord } from '../../../core/membership/index.js';
import type { ControlPort } from '../../../core/operator/operator-commands.js';

/**
 * The operator plane's state in memory (a stand-in for CanaryControl over Postgres, whose SQL is tested against the
 * real database in core/ and edge-integration/): enough for the admin routes and the page to run on `app.request`.
 */
export interface MemoryControl extends ControlPort {
  platforms: Set<string>;
  choices: Map<string, 'in' | 'out'>;
  entries: AuditEntry[];
  state: { basisPoints: number; paused: boolean; revokedBeforeMs: number };
}

export function memoryControl(): MemoryControl {
  const platforms = new Set<string>();
  const choices = new Map<string, 'in' | 'out'>();
  const entries: AuditEntry[] = [];
  const state = { basisPoints: 0, paused: false, revokedBeforeMs: 0 };
  const record = (meta: ChangeMeta, action: string, platformId: string | null, after: unknown): void => {
    entries.unshift({ id: entries.length + 1, at: new Date().toISOString(), actor: meta.actor, action, platformId, before: null, after, reason: meta.reason });
  };
  const rollout = (): RolloutRecord => ({ basisPoints: state.basisPoints, salt: 'memory', paused: state.paused, updatedAt: new Date(0).toISOString(), updatedBy: 'memory' });
  const sorted = (choice: 'in' | 'out'): string[] => [...choices].filter(([, c]) => c === choice).map(([id]) => id).sort();
  return {
    platforms,
    choices,
    entries,
    state,
    async setChoice(platformId, canary, meta, action = canary ? 'pin' : 'exclude') {
      if (!platforms.has(platformId)) return null;
      choices.set(platformId, canary ? 'in' : 'out');
      record(meta, action, platformId, { canary });
      return { value: { platformId, canary }, invalidated: true };
    },
    async clearChoice(platformId, meta, action = 'follow') {
      if (!platforms.has(platformId)) return null;
      choices.delete(platformId);
      record(meta, action, platformId, { canary: false });
      return { value: { platformId, canary: false, source: 'default' }, invalidated: true };
    },
    async setRollout(basisPoints, meta) {
      state.basisPoints = basisPoints;
      record(meta, 'rollout', null, { percent: basisPoints / 100 });
      return { value: rollout(), invalidated: true };
    },
    async setPaused(paused, meta) {
      const changed = state.paused !== paused;
      state.paused = paused;
      record(meta, paused ? 'pause' : 'resume', null, { paused });
      return { value: { paused, changed }, invalidated: true };
    },
    async revokeOverrides(meta) {
      state.revokedBeforeMs = Date.now();
      record(meta, 'revoke-overrides', null, { revokedBefore: new Date(state.revokedBeforeMs).toISOString() });
      return { value: { revokedBefore: new Date(state.revokedBeforeMs).toISOString() }, invalidated: true };
    },
    async recordEvent(action, platformId, after, meta) {
      record(meta, action, platformId, after);
    },
    rollout: async () => rollout(),
    overview: async () => ({ pinned: sorted('in'), excluded: sorted('out'), rollout: rollout() }),
    async status(platformId) {
      if (!platforms.has(platformId)) return null;
      const choice = choices.get(platformId);
      return { platformId, canary: !state.paused && choice === 'in', source: state.paused ? 'paused' : choice === undefined ? 'default' : 'explicit' };
    },
    audit: async ({ limit }) => entries.slice(0, limit),
    async quarantined() {
      return [...choices]
        .filter(([id, c]) => c === 'out' && entries.find((e) => e.platformId === id)?.action === 'quarantine')
        .map(([platformId]) => ({ platformId, at: new Date(0).toISOString(), reason: null }));
    },
  };
}
