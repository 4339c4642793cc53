/**
 * Every counterexample the fuzzer ever saved (test/fuzz/regressions/<target>/*.json) is replayed
 * against its target: once fixed, a crash stays fixed.
 */
import { describe, expect, it } from 'vitest';
import { loadCounterexamples } from './regressions.js';
import { targetByName } from './targets.js';

const saved = loadCounterexamples();

describe('fuzz regressions', () => {
  it('every saved counterexample names a known target', () => {
    for (const { file, saved: s } of saved) expect(targetByName(s.target), file).toBeDefined();
  });
  it.each(saved.map((s) => [s.file, s.saved] as const))('%s', async (_file, s) => {
    const target = targetByName(s.target)!;
    await target.check(target.decode(s.input));
  });
});
