/**
 * Tests talk to mail servers on 127.0.0.1, which the SSRF guard refuses unless the operator allows it.
 * Call once at the top of a test file: allows loopback for the file and restores the setting after.
 */
import { afterAll, beforeAll } from 'vitest';

export function allowLocalMailServers(): void {
  let previous: string | undefined;
  beforeAll(() => {
    previous = process.env.MAILROOM_ALLOW_PRIVATE_HOSTS;
    process.env.MAILROOM_ALLOW_PRIVATE_HOSTS = '127.0.0.1';
  });
  afterAll(() => {
    if (previous === undefined) delete process.env.MAILROOM_ALLOW_PRIVATE_HOSTS;
    else process.env.MAILROOM_ALLOW_PRIVATE_HOSTS = previous;
  });
}
