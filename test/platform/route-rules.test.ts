/**
 * The rules of the HTTP layer, checked on the source:
 *   - routes never touch the database: reads go through a feature's queries.ts, writes through commands;
 *   - handlers get typed body, query and params from their schemas (src/platform/http/typed.ts), never a cast.
 * Files checked: every feature's routes (src/features/<feature>/routes.ts or routes/**), src/platform/http
 * and src/app/http.ts.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const root = path.resolve('src');

function filesUnder(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  if (fs.statSync(dir).isFile()) return [dir];
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? filesUnder(path.join(dir, e.name)) : e.name.endsWith('.ts') ? [path.join(dir, e.name)] : []));
}

function httpFiles(): string[] {
  const features = path.join(root, 'features');
  const routeFiles = fs
    .readdirSync(features)
    .flatMap((f) => fs.readdirSync(path.join(features, f)).filter((name) => name.startsWith('routes')).flatMap((name) => filesUnder(path.join(features, f, name))));
  return [...routeFiles, ...filesUnder(path.join(root, 'platform/http')), path.join(root, 'app/http.ts')];
}

const DATABASE_ACCESS = ['.selectFrom(', '.insertInto(', '.updateTable(', '.deleteFrom(', 'sql`'];
const CASTS = [/\bas \{\s*\w+\??:/, /\b(?:req|request)\.(?:body|query|params) as\b/];

describe('the HTTP layer', () => {
  const files = httpFiles();

  it('finds the route files', () => {
    const rel = files.map((f) => path.relative(root, f));
    expect(rel).toContain('features/connections/routes.ts');
    expect(rel).toContain('features/inbox/routes/conversations.ts');
    expect(rel).toContain('platform/http/auth.ts');
    expect(rel).toContain('app/http.ts');
    expect(files.length).toBeGreaterThan(20);
  });

  it('never touches the database (reads: the feature\'s queries.ts; writes: a command)', () => {
    const found: string[] = [];
    for (const file of files) {
      const text = fs.readFileSync(file, 'utf8');
      for (const needle of DATABASE_ACCESS) if (text.includes(needle)) found.push(`${path.relative(root, file)}: ${needle}`);
    }
    expect(found).toEqual([]);
  });

  it('reads requests through their schemas\' types, without casts', () => {
    const found: string[] = [];
    for (const file of files) {
      if (!/[/\\]routes/.test(path.relative(root, file)) && !file.endsWith('-routes.ts')) continue;
      const lines = fs.readFileSync(file, 'utf8').split('\n');
      lines.forEach((line, i) => {
        for (const re of CASTS) if (re.test(line)) found.push(`${path.relative(root, file)}:${i + 1}: ${line.trim()}`);
      });
    }
    expect(found).toEqual([]);
  });
});
