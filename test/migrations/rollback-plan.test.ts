import { describe, expect, it } from 'vitest';
import { computeRollbackPlan, type LedgerEntry } from '../../tools/migrations/index.js';

function ledger(...names: string[]): LedgerEntry[] {
  return names.map((name, i) => ({
    name,
    ordinal: i + 1,
    release: '0.1.0',
    breaking: name.includes('breaking'),
    checksum: 'x',
    downSql: 'SELECT 1',
    appliedAt: new Date(0),
  }));
}

describe('computeRollbackPlan', () => {
  it('undoes the applied migrations absent from the target, newest first', () => {
    const plan = computeRollbackPlan(ledger('0001_a', '0002_b', '0003_c', '0004_d'), { target: ['0001_a', '0002_b'] });
    expect(plan.kind).toBe('ready');
    expect(plan.kind === 'ready' && plan.undo.map((e) => e.name)).toEqual(['0004_d', '0003_c']);
  });

  it('has nothing to do when the target lists every applied migration', () => {
    expect(computeRollbackPlan(ledger('0001_a'), { target: ['0001_a', '0002_b'] })).toEqual({ kind: 'nothing-to-do', notApplied: ['0002_b'] });
  });

  it('refuses when the absent migrations are not the most recent ones', () => {
    const plan = computeRollbackPlan(ledger('0001_a', '0002_b', '0003_c'), { target: ['0001_a', '0003_c'] });
    expect(plan.kind).toBe('refused-out-of-order');
    expect(plan.kind === 'refused-out-of-order' && plan.blockers.map((e) => e.name)).toEqual(['0003_c']);
  });

  it('follows ledger order, not migration numbers', () => {
    // 0002 was applied last (e.g. merged late), so rolling back to [0001, 0003] is a clean suffix.
    const entries = ledger('0001_a', '0003_c', '0002_b');
    expect(computeRollbackPlan(entries, { target: ['0001_a', '0003_c'] }).kind).toBe('ready');
  });

  it('refuses breaking migrations unless forced', () => {
    const entries = ledger('0001_a', '0002_breaking', '0003_c');
    const refused = computeRollbackPlan(entries, { target: ['0001_a'] });
    expect(refused.kind).toBe('refused-breaking');
    expect(refused.kind === 'refused-breaking' && refused.breaking.map((e) => e.name)).toEqual(['0002_breaking']);
    expect(computeRollbackPlan(entries, { target: ['0001_a'], force: true }).kind).toBe('ready');
  });

  it('checks order before breaking-ness, since --force must never allow an out-of-order rollback', () => {
    const plan = computeRollbackPlan(ledger('0001_a', '0002_breaking', '0003_c'), { target: ['0001_a', '0003_c'], force: true });
    expect(plan.kind).toBe('refused-out-of-order');
  });
});
