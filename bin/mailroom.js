#!/usr/bin/env node
// Entry point for `npx mailroom`: runs the TypeScript CLI in one Node process with tsx's loader.
import { spawnSync } from 'node:child_process';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { createRequire } from 'node:module';
import path from 'node:path';
const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
// Resolve tsx from this checkout, so the command works from any directory.
const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
const r = spawnSync(process.execPath, ['--import', tsx, path.join(root, 'src/app/cli.ts'), ...process.argv.slice(2)], { stdio: 'inherit', cwd: process.cwd() });
if (r.signal) process.kill(process.pid, r.signal);
process.exit(r.status ?? 1);
