/**
 * The CI guard of test/harness/requirements.ts: under CI a test that needs a missing program (Dovecot,
 * Chromium) fails, naming the program and the install command; off CI it is skipped.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { CHROMIUM, DOVECOT, INSTALL_COMMAND, MissingTestProgramError, findTestProgram, hasTestProgram, isCi } from './requirements.js';

const missing = { name: 'Nothing at all (test program)', paths: ['/nonexistent/mailroom-test/nothing'], packages: 'nothing' };
const nowhere = () => false;

describe('isCi', () => {
  it.each([
    [{ CI: 'true' }, true],
    [{ CI: '1' }, true],
    [{ CI: 'yes' }, true],
    [{ CI: 'TRUE' }, true],
    [{}, false],
    [{ CI: '' }, false],
    [{ CI: '0' }, false],
    [{ CI: 'false' }, false],
  ])('%j → %s', (env, expected) => {
    expect(isCi(env)).toBe(expected);
  });
});

describe('findTestProgram', () => {
  it('under CI=true, a missing program throws, naming it and the install command', () => {
    expect(() => findTestProgram(missing, { CI: 'true' })).toThrow(MissingTestProgramError);
    expect(() => findTestProgram(missing, { CI: 'true' })).toThrow(/Nothing at all \(test program\) is missing \(looked for \/nonexistent\/mailroom-test\/nothing\)/);
    expect(() => findTestProgram(missing, { CI: 'true' })).toThrow(INSTALL_COMMAND);
    expect(INSTALL_COMMAND).toBe('bash scripts/install-test-deps.sh');
  });

  it('names Dovecot and Chromium with their Debian packages when they are missing under CI', () => {
    expect(() => hasTestProgram(DOVECOT, { CI: 'true' }, nowhere)).toThrow(/Dovecot.*bash scripts\/install-test-deps\.sh.*dovecot-imapd/);
    expect(() => hasTestProgram(CHROMIUM, { CI: 'true' }, nowhere)).toThrow(/Chromium.*bash scripts\/install-test-deps\.sh.*chromium/);
  });

  it('off CI, a missing program means "skip": null, no throw', () => {
    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      expect(findTestProgram(missing, {})).toBeNull();
      expect(hasTestProgram(missing, { CI: 'false' })).toBe(false);
    } finally {
      stderr.mockRestore();
    }
  });

  it('a present program is found, under CI or not; the first existing path wins', () => {
    const program = { name: 'Two places', paths: ['/a/prog', '/b/prog'], packages: 'prog' };
    expect(findTestProgram(program, { CI: 'true' }, (p) => p === '/b/prog')).toBe('/b/prog');
    expect(findTestProgram(program, {}, () => true)).toBe('/a/prog');
    expect(hasTestProgram(program, { CI: 'true' }, () => true)).toBe(true);
  });
});

describe('the browser tests are wired to the guard', () => {
  afterEach(() => {
    vi.unstubAllEnvs();
    vi.resetModules();
  });

  it('with CI=true and no Chromium at CHROMIUM_PATH, loading test/web/support.ts (which every browser test imports) fails', async () => {
    vi.stubEnv('CI', 'true');
    vi.stubEnv('CHROMIUM_PATH', '/nonexistent/mailroom-test/chromium');
    vi.resetModules();
    await expect(import('../web/support.js')).rejects.toThrow(/Chromium \(headless browser\) is missing \(looked for \/nonexistent\/mailroom-test\/chromium\).*bash scripts\/install-test-deps\.sh/);
  });
});
