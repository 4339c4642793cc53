/**
 * System programs that some tests need (Dovecot, Chromium, swaks), and the one rule about them:
 * on a developer machine a test whose program is missing is skipped (with one note on stderr), but
 * under CI (`CI` set, and not `0`/`false`) it FAILS, naming the missing program and the install
 * command. A CI run that quietly skipped the browser or IMAP tests would be green for the wrong reason.
 *
 * Tests that need PostgreSQL use it because DATABASE_URL is set (test/support/db.ts): an unreachable
 * PostgreSQL fails them; nothing skips. swaks is run directly by the tests that need it: a missing swaks
 * fails them (ENOENT); nothing skips either. Listed here for `findTestProgram` callers and the message.
 */
import { existsSync } from 'node:fs';

export const INSTALL_COMMAND = 'bash scripts/install-test-deps.sh';

export interface TestProgram {
  /** What the test needs, as a person would say it: "Chromium", "Dovecot". */
  name: string;
  /** Where it may be installed; the first that exists is used. */
  paths: readonly string[];
  /** The Debian package(s) that provide it. */
  packages: string;
}

export const DOVECOT: TestProgram = { name: 'Dovecot (IMAP server)', paths: ['/usr/sbin/dovecot', '/usr/local/sbin/dovecot'], packages: 'dovecot-imapd dovecot-lmtpd' };
export const CHROMIUM: TestProgram = {
  name: 'Chromium (headless browser)',
  paths: [process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'],
  packages: 'chromium',
};
export const SWAKS: TestProgram = { name: 'swaks (SMTP client)', paths: ['/usr/bin/swaks', '/usr/local/bin/swaks'], packages: 'swaks' };

/** True when running under CI: `CI` is set to anything but an empty string, `0` or `false`. */
export function isCi(env: NodeJS.ProcessEnv = process.env): boolean {
  const v = (env.CI ?? '').trim().toLowerCase();
  return v !== '' && v !== '0' && v !== 'false';
}

export class MissingTestProgramError extends Error {
  constructor(program: TestProgram) {
    super(
      `${program.name} is missing (looked for ${program.paths.join(', ')}). Under CI a test that needs it fails instead of skipping. ` +
        `Install the test dependencies as root: ${INSTALL_COMMAND} (Debian packages: ${program.packages}).`,
    );
    this.name = 'MissingTestProgramError';
  }
}

const noted = new Set<string>();

/**
 * The path of `program`, or null when it is not installed and we are not under CI (the caller skips its
 * tests). Under CI a missing program throws MissingTestProgramError, so the test file fails.
 * `exists` and `env` are parameters for the guard's own test.
 */
export function findTestProgram(program: TestProgram, env: NodeJS.ProcessEnv = process.env, exists: (p: string) => boolean = existsSync): string | null {
  const found = program.paths.find((p) => exists(p));
  if (found) return found;
  if (isCi(env)) throw new MissingTestProgramError(program);
  if (!noted.has(program.name)) {
    noted.add(program.name);
    process.stderr.write(`note: ${program.name} not found (${program.paths.join(', ')}): the tests that need it are skipped. Install: ${INSTALL_COMMAND}\n`);
  }
  return null;
}

/** `findTestProgram(program) !== null`: for `describe.skipIf(!has...)`. Throws under CI when missing. */
export function hasTestProgram(program: TestProgram, env: NodeJS.ProcessEnv = process.env, exists: (p: string) => boolean = existsSync): boolean {
  return findTestProgram(program, env, exists) !== null;
}
