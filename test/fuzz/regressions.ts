/** Saved counterexamples: test/fuzz/regressions/<target>/<digest>.json, replayed by regressions.test.ts. */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FuzzTarget } from './targets.js';

export const REGRESSIONS_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), 'regressions');

export interface SavedCounterexample {
  target: string;
  /** The failing input, as the target encodes it. */
  input: unknown;
  error: string;
  foundAt: string;
  seed?: number;
  note?: string;
}

/** Saves a counterexample (once per distinct input); returns the file written, or null when already saved. */
export function saveCounterexample(target: FuzzTarget<any>, input: unknown, error: string, extra: { seed?: number; note?: string } = {}): string | null {
  const encoded = target.encode(input);
  const digest = crypto.createHash('sha256').update(JSON.stringify(encoded)).digest('hex').slice(0, 16);
  const dir = path.join(REGRESSIONS_DIR, target.name);
  const file = path.join(dir, `${digest}.json`);
  if (fs.existsSync(file)) return null;
  fs.mkdirSync(dir, { recursive: true });
  const saved: SavedCounterexample = { target: target.name, input: encoded, error: error.slice(0, 2000), foundAt: new Date().toISOString(), ...extra };
  fs.writeFileSync(file, `${JSON.stringify(saved, null, 2)}\n`);
  return file;
}

export function loadCounterexamples(): Array<{ file: string; saved: SavedCounterexample }> {
  if (!fs.existsSync(REGRESSIONS_DIR)) return [];
  const out: Array<{ file: string; saved: SavedCounterexample }> = [];
  for (const t of fs.readdirSync(REGRESSIONS_DIR).sort()) {
    const dir = path.join(REGRESSIONS_DIR, t);
    if (!fs.statSync(dir).isDirectory()) continue;
    for (const f of fs.readdirSync(dir).filter((x) => x.endsWith('.json')).sort()) {
      const file = path.join(dir, f);
      out.push({ file: path.relative(REGRESSIONS_DIR, file), saved: JSON.parse(fs.readFileSync(file, 'utf8')) as SavedCounterexample });
    }
  }
  return out;
}
