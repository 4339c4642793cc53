/**
 * Dependency rules of the Mailroom tree, enforced in CI by `npm run deps`
 * (`depcruise src web/src --config .dependency-cruiser.cjs`). The README's "Dependency rules (enforced in CI)"
 * section says the same in prose; change both together.
 *
 * Layers, bottom up:  src/platform  <  src/mail  <  src/features/<feature>  <  src/app
 * and web/src beside them, talking to the server over HTTP only.
 *
 * Type-only imports count (tsPreCompilationDeps): a type is a dependency too.
 */

// Node builtins a pure domain/ module may use: string, URL and buffer work, no I/O, no clock, no randomness.
// Deliberately absent: fs, net, http(s), tls, dns, child_process, worker_threads, crypto, os, path, process, timers.
const PURE_BUILTINS = ['assert', 'buffer', 'punycode', 'querystring', 'string_decoder', 'url', 'util'];

// depcruise exits with the NUMBER of errors as its status, and a process status is 8 bits: 256 violations would
// exit 0 and pass CI. This config runs inside the depcruise process, so cap the status at 255 on the way out.
process.once('exit', () => {
  const code = Number(process.exitCode ?? 0);
  if (code > 255) process.exitCode = 255;
});

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'platform-is-the-floor',
      comment:
        'src/platform (database, jobs, security, http plumbing, errors, context) is the bottom layer: it imports no feature, ' +
        'no app module and no mail adapter. A feature that needs platform code to call it back registers itself through src/app wiring.',
      severity: 'error',
      from: { path: '^src/platform/', pathNot: '^src/platform/database/schema\\.ts$' },
      to: { path: '^src/(features|app|mail)/' },
    },
    {
      name: 'schema-names-feature-types-only',
      comment:
        'src/platform/database/schema.ts types the tables the features own: it may name the value unions of features\' ' +
        'domain/ modules and of the mail message value (type-only imports, erased at run time), and import nothing else above platform.',
      severity: 'error',
      from: { path: '^src/platform/database/schema\\.ts$' },
      to: { path: '^src/(features|app|mail)/', dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'schema-names-domain-types',
      comment: 'See schema-names-feature-types-only: the types come from domain/ modules (or the mail port), never from commands or queries.',
      severity: 'error',
      from: { path: '^src/platform/database/schema\\.ts$' },
      to: { path: '^src/(features|app|mail)/', pathNot: ['^src/features/[^/]+/domain/', '^src/mail/ingest-port\\.ts$', '^src/mail/message/'] },
    },
    {
      name: 'mail-imports-no-feature',
      comment:
        'src/mail (IMAP, SMTP in, MIME parsing, the message value, blob store) knows protocols, not features: it imports ' +
        'src/platform only. It hands messages to a feature through a callback or port that src/app wires.',
      severity: 'error',
      from: { path: '^src/mail/' },
      to: { path: '^src/(features|app)/' },
    },
    {
      name: 'feature-through-index',
      comment:
        'A feature imports another feature only through that feature\'s door, src/features/<other>/index.ts. ' +
        '(Pure domain/ modules are the one exception: see domain-to-domain.)',
      severity: 'error',
      from: { path: '^src/features/([^/]+)/', pathNot: '^src/features/[^/]+/domain/' },
      to: { path: '^src/features/[^/]+/', pathNot: ['^src/features/$1/', '^src/features/[^/]+/index\\.ts$'] },
    },
    {
      name: 'domain-to-domain',
      comment:
        'A domain/ module may import another feature\'s domain/ modules directly (going through that feature\'s index.ts would ' +
        'drag its commands and database code into a pure module); anything else of another feature is off limits.',
      severity: 'error',
      from: { path: '^src/features/([^/]+)/domain/' },
      to: { path: '^src/features/[^/]+/', pathNot: ['^src/features/$1/', '^src/features/[^/]+/index\\.ts$', '^src/features/[^/]+/domain/'] },
    },
    {
      name: 'app-is-the-top',
      comment: 'src/app (config, runtime, HTTP app, CLI, engine wiring) assembles the rest; nothing else under src/ imports it.',
      severity: 'error',
      from: { path: '^src/', pathNot: '^src/app/' },
      to: { path: '^src/app/' },
    },
    {
      name: 'web-is-a-client',
      comment:
        'web/src is a browser app: it talks to the server over HTTP and never imports server code under src/, except the ' +
        'pure modules both sides share in src/shared (fonts, the HTML allow-list).',
      severity: 'error',
      from: { path: '^web/src/' },
      to: { path: '^src/', pathNot: '^src/shared/' },
    },
    {
      name: 'shared-is-pure',
      comment: 'src/shared is imported by the server and the browser: it imports nothing but other src/shared modules.',
      severity: 'error',
      from: { path: '^src/shared/' },
      to: { pathNot: '^src/shared/' },
    },
    {
      name: 'domain-is-pure',
      comment:
        'src/features/*/domain holds pure rules: it imports only domain/ modules (of any feature), the message value in ' +
        'src/mail/message, and pure Node builtins (' + PURE_BUILTINS.join(', ') + '). No npm package, no database, no I/O. ' +
        'Tests beside domain code (*.test.ts) may import what they need to build inputs.',
      severity: 'error',
      from: { path: '^src/features/[^/]+/domain/', pathNot: '\\.test\\.tsx?$' },
      to: {
        dependencyTypesNot: ['core'],
        // address-ranges.ts is pure IP arithmetic (node:net only for isIPv4/isIPv6); csv-parse is a pure parser; punycode (the npm package) pure string conversion;
        // luxon is pure time-zone arithmetic (IANA rules through Intl; domain code never asks it for the current time),
        // reached through src/platform/luxon.ts, which only loads it at its first use.
        pathNot: ['^src/features/[^/]+/domain/', '^src/mail/message/', '^src/shared/', '^src/platform/errors\\.ts$', '^src/platform/database/json\\.ts$', '^src/platform/security/address-ranges\\.ts$', '^src/platform/luxon\\.ts$', 'node_modules/csv-parse/', 'node_modules/punycode/', 'node_modules/luxon/'],
      },
    },
    {
      name: 'domain-uses-pure-builtins-only',
      comment: 'See domain-is-pure: of the Node builtins, domain/ code may use only ' + PURE_BUILTINS.join(', ') + '.',
      severity: 'error',
      from: { path: '^src/features/[^/]+/domain/', pathNot: '\\.test\\.tsx?$' },
      to: { dependencyTypes: ['core'], pathNot: `^(node:)?(${PURE_BUILTINS.join('|')})(/|$)` },
    },
    {
      name: 'resolvable',
      comment:
        'Every import must resolve, or the rules above cannot judge it (a misconfigured resolver would pass everything silently).',
      severity: 'error',
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    // The server's tsconfig (NodeNext: `./x.js` specifiers resolve to `./x.ts`); web/src uses relative imports only.
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      extensions: ['.ts', '.tsx', '.js', '.jsx', '.d.ts', '.json'],
      mainFields: ['module', 'main', 'types', 'typings'],
    },
    reporterOptions: {
      text: { highlightFocused: true },
    },
  },
};
