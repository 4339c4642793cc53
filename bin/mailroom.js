#!/usr/bin/env node
// Entry point for `npx mailroom`. Runs the compiled CLI (dist/bundle/cli.js, made by `npm run build`, which
// `npm start` runs first) when it is up to date with src/; otherwise the TypeScript source through tsx's
// loader, in one Node process (a checkout that was never built, or a developer's edited tree).
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { createRequire } from 'node:module';
import path from 'node:path';
const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
// The bundle (scripts/build.mjs) starts faster; dist/app/cli.js is the same code, module by module.
const bundled = path.join(root, 'dist/bundle/cli.js');
const compiled = fs.existsSync(bundled) ? bundled : path.join(root, 'dist/app/cli.js');

let fresh = false;
if (fs.existsSync(compiled)) {
  const { serverBuildIsFresh } = await import(pathToFileURL(path.join(root, 'scripts/build.mjs')).href);
  fresh = serverBuildIsFresh(root);
  if (!fresh) process.stderr.write('mailroom: dist/ is older than src/, running the TypeScript source (npm run build compiles it again)\n');
}

if (fresh) {
  // Same process: the compiled CLI reads process.argv like any Node program.
  await import(pathToFileURL(compiled).href);
} else {
  // Resolve tsx from this checkout, so the command works from any directory.
  const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
  const r = spawnSync(process.execPath, ['--import', tsx, path.join(root, 'src/app/cli.ts'), ...process.argv.slice(2)], { stdio: 'inherit', cwd: process.cwd() });
  if (r.signal) process.kill(process.pid, r.signal);
  process.exit(r.status ?? 1);
}
