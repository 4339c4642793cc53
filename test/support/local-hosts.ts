/**
 * Tests talk to mail servers on 127.0.0.1, which the SSRF guard refuses unless the operator allows it
 * (MAILROOM_ALLOW_PRIVATE_HOSTS, parsed by the config and set for the process at startup; in a test
 * process nothing sets it, so it starts empty). Call once at the top of a test file: allows loopback
 * for the file and restores the setting after.
 */
import { afterAll, beforeAll } from 'vitest';
import { allowPrivateHosts, setAllowPrivateHosts } from '../../src/platform/security/host-guard.js';

/** Sets the process's allow-list; returns a function that puts the previous one back. */
export function setPrivateHostsForTest(entries: string[]): () => void {
  const previous = allowPrivateHosts();
  setAllowPrivateHosts(entries);
  return () => setAllowPrivateHosts(previous);
}

export function allowLocalMailServers(): void {
  let restore: (() => void) | undefined;
  beforeAll(() => {
    restore = setPrivateHostsForTest(['127.0.0.1']);
  });
  afterAll(() => restore?.());
}
