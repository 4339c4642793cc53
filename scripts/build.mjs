#!/usr/bin/env node
/**
 * The production build, run by `npm run build` and before `npm start` (prestart):
 *
 *   server   src/ compiled by tsc (tsconfig.build.json) to dist/ (dist/app/cli.js is the CLI), then the CLI
 *            and the parse worker bundled by esbuild into dist/bundle/ (what bin/mailroom.js and `npm start`
 *            run: see bundleServer below)
 *   web      the browser app built by Vite to web/dist/
 *
 * Each part is rebuilt only when its inputs changed: a SHA-256 of every input file (path and bytes) is
 * kept beside the output (dist/.build-stamp, web/dist/.build-stamp), so `npm start` on an unchanged
 * checkout starts at once, and after a `git pull` it rebuilds what the pull changed. `--force` rebuilds both.
 * The stamp also keeps a fingerprint of the inputs' paths, sizes and modification times: when it still
 * matches, the inputs are not read again (every `mailroom` command asks; reading and hashing src/ cost
 * ~20 ms of each start); when it does not (an edit, a fresh clone, a checkout that touched files), the
 * bytes decide as before.
 *
 * Plain JavaScript (no tsx) so that it runs before anything is compiled; bin/mailroom.js imports
 * `serverBuildIsFresh` to decide whether dist/ may be run.
 */
import { spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.dirname(path.dirname(fileURLToPath(import.meta.url)));

/** What each part is built from, relative to the checkout. Folders are walked; test files are not inputs. */
export const PARTS = {
  server: { inputs: ['src', 'tsconfig.json', 'tsconfig.build.json', 'package-lock.json', 'scripts/build.mjs'], out: 'dist', skip: /\.test\.tsx?$/ },
  web: { inputs: ['web', 'src/shared', 'package-lock.json'], out: 'web/dist', skip: /^web\/dist(\/|$)|\.test\.tsx?$/ },
};

function walk(root, rel, skip, files) {
  const abs = path.join(root, rel);
  let st;
  try {
    st = fs.statSync(abs);
  } catch {
    return;
  }
  if (skip.test(rel) || rel.split('/').includes('node_modules')) return;
  if (st.isDirectory()) {
    for (const name of fs.readdirSync(abs).sort()) walk(root, `${rel}/${name}`, skip, files);
  } else if (st.isFile()) {
    files.push({ rel, size: st.size, mtimeMs: st.mtimeMs });
  }
}

/** SHA-256 over the input files of one part (their paths and bytes),. */
function inputFiles(part, root) {
  const { inputs, skip } = PARTS[part];
  const files = [];
  for (const i of inputs) walk(root, i, skip, files);
  return files;
}

/** SHA-256 of every input file's path and bytes: what decides whether a build is up to date. */
export function inputHash(part, root = ROOT, files = inputFiles(part, root)) {
  const h = crypto.createHash('sha256');
  for (const f of files) {
    h.update(`${f.rel}\0`);
    h.update(fs.readFileSync(path.join(root, f.rel)));
    h.update('\0');
  }
  return h.digest('hex');
}

/** SHA-256 of the inputs' paths, sizes and modification times (no file is read). */
function inputFingerprint(files) {
  const h = crypto.createHash('sha256');
  for (const f of files) h.update(`${f.rel}\0${f.size}\0${f.mtimeMs}\0`);
  return h.digest('hex');
}

function stampPath(part, root) {
  return path.join(root, PARTS[part].out, '.build-stamp');
}

/** The stamp: the inputs' hash, then their fingerprint (a stamp of an older build has only the hash). */
export function isFresh(part, root = ROOT, files = inputFiles(part, root)) {
  let stamp;
  try {
    stamp = fs.readFileSync(stampPath(part, root), 'utf8').trim().split('\n');
  } catch {
    return false;
  }
  if (stamp[1] && stamp[1] === inputFingerprint(files)) return true;
  return stamp[0] === inputHash(part, root, files);
}

export const serverBuildIsFresh = (root = ROOT) => isFresh('server', root);

function run(cmd, args) {
  const r = spawnSync(cmd, args, { cwd: ROOT, stdio: 'inherit' });
  if (r.status !== 0) {
    process.stderr.write(`build: ${cmd} ${args.join(' ')} failed (exit ${r.status ?? r.signal})\n`);
    process.exit(r.status ?? 1);
  }
}

function bin(name) {
  return path.join(ROOT, 'node_modules', '.bin', name);
}

/**
 * The packages bundled with our own code: pure ESM, made of many small modules (Kysely alone is ~260
 * files), which Node would otherwise resolve, read and compile one by one at every start of the
 * command (0.2 s of CPU, a third of `mailroom import`'s start-up). Every other dependency stays an
 * ordinary import from node_modules: native modules, CommonJS packages, and packages that find their
 * own files at run time (worker scripts, templates) work unchanged. punycode is CommonJS but one file
 * with no require() of its own: bundled, Node need not start its CommonJS lexer for it at every start (an
 * ESM import of a CommonJS module has its source lexed for export names); commander and better-sqlite3
 * are loaded with require() for the same reason (src/app/cli.ts, src/platform/database/database.ts).
 */
const BUNDLED_PACKAGES = ['kysely', 'postal-mime', 'csv-parse', 'punycode'];

/**
 * dist/bundle/: the CLI and the parse worker, each an entry, with the code they share in chunks (the
 * CLI's lazily imported parts stay lazy). All files sit in one folder, two levels below the checkout
 * like dist/app/, so what the code finds next to itself at run time still resolves: the parse pool's
 * `./worker.js`, the web app's `../../web/dist`.
 */
async function bundleServer(root) {
  const { build: esbuild } = await import('esbuild');
  const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
  const external = Object.keys({ ...pkg.dependencies, ...pkg.optionalDependencies }).filter((d) => !BUNDLED_PACKAGES.includes(d));
  await esbuild({
    absWorkingDir: root,
    entryPoints: { cli: 'dist/app/cli.js', worker: 'dist/mail/parse/worker.js' },
    outdir: 'dist/bundle',
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    // A dependency's subpath (`pino/file`) is external like the dependency itself.
    external: external.flatMap((d) => [d, `${d}/*`]),
    sourcemap: 'linked',
    logLevel: 'warning',
  });
}

async function build(part, force) {
  // Taken before building: an input edited during the build no longer matches, so the next run rebuilds.
  const files = inputFiles(part, ROOT);
  if (!force && isFresh(part, ROOT, files)) {
    process.stdout.write(`build: ${part} is up to date (${PARTS[part].out}/)\n`);
    return;
  }
  const hash = inputHash(part, ROOT, files);
  const fingerprint = inputFingerprint(files);
  const started = Date.now();
  const out = path.join(ROOT, PARTS[part].out);
  // A stale tree could keep modules whose source was deleted: start from an empty folder.
  fs.rmSync(out, { recursive: true, force: true });
  if (part === 'server') {
    run(bin('tsc'), ['-p', 'tsconfig.build.json']);
    await bundleServer(ROOT);
  } else run(bin('vite'), ['build', '--config', 'web/vite.config.ts', '--logLevel', 'warn']);
  fs.writeFileSync(stampPath(part, ROOT), `${hash}\n${fingerprint}\n`);
  process.stdout.write(`build: ${part} built to ${PARTS[part].out}/ in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const force = args.includes('--force');
  const parts = args.filter((a) => !a.startsWith('--'));
  for (const p of parts.length ? parts : ['server', 'web']) {
    if (!(p in PARTS)) {
      process.stderr.write(`build: unknown part ${p} (server, web)\n`);
      process.exit(2);
    }
    await build(p, force);
  }
}
