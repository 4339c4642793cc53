/**
 * The fuzz targets (targets.ts) for a short, fixed number of runs each, with a fixed seed so the suite
 * is repeatable (FUZZ_SEED=<n> to vary it, FUZZ_RUNS_SCALE=<x> to run more). Longer runs by hand:
 * `npm run fuzz -- --minutes N`, which saves what it finds under test/fuzz/regressions/.
 */
import fc from 'fast-check';
import { describe, it } from 'vitest';
import { TARGETS, propertyOf } from './targets.js';
import { closeDefaultParsePool } from '../../src/mail/parse/index.js';

const seed = Number(process.env.FUZZ_SEED ?? 20_260_801);
const scale = Number(process.env.FUZZ_RUNS_SCALE ?? 1);

describe('fuzz targets (short, fixed runs)', () => {
  for (const target of TARGETS) {
    it(`${target.name}: never throws, right shape, flags rather than drops (${Math.round(target.suiteRuns * scale)} runs)`, async () => {
      await fc.assert(propertyOf(target), { numRuns: Math.max(1, Math.round(target.suiteRuns * scale)), seed });
    }, 60_000);
  }
  it('leaves no parse pool behind', async () => {
    await closeDefaultParsePool();
  });
});
