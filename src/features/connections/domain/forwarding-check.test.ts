import { describe, expect, it } from 'vitest';
import { forwardingCheck, FORWARDING_TEST_WAIT_MS, forwardingTestToken } from './forwarding-check.js';
import { readHeaderBlock } from '../../../mail/message/header-block.js';

const c = { address: 'support@acme.test', forwardingAddress: 'fw-1@in.mailroom.test', requestedAt: null, sentAt: null, verifiedAt: null, error: null };
const now = 10_000_000;

describe('forwardingCheck', () => {
  it.each([
    ['never checked', {}, 'never', /Not checked yet. Set up forwarding of support@acme.test to fw-1@in.mailroom.test/],
    ['requested, not sent yet', { requestedAt: now - 1000 }, 'sending', /Sending/],
    ['sent, waiting', { requestedAt: now - 5000, sentAt: now - 4000 }, 'waiting', /waiting for it to be forwarded to fw-1@in/],
    ['sent long ago', { requestedAt: now - FORWARDING_TEST_WAIT_MS - 2, sentAt: now - FORWARDING_TEST_WAIT_MS - 1 }, 'not_received', /has not come back after 10 minutes/],
    ['verified', { requestedAt: now - 5000, sentAt: now - 4000, verifiedAt: now - 1000 }, 'verified', /Forwarding works/],
    ['verified before, a new test waits', { sentAt: now - 1000, verifiedAt: now - 50_000 }, 'waiting', /waiting/],
    ['send failed', { requestedAt: now - 5000, error: 'Authentication failed.' }, 'send_failed', /could not be sent .*Authentication failed. Check the SMTP settings/],
  ] as const)('%s', (_what, over, state, message) => {
    const r = forwardingCheck({ ...c, ...over }, now);
    expect(r.state).toBe(state);
    expect(r.message).toMatch(message);
  });
});

describe('forwardingTestToken', () => {
  const head = 'From: a@b\r\nX-Mailroom-Forwarding-Test: ft_abc123\r\nSubject: x\r\n';
  it.each([
    [head, 'ft_abc123'],
    [head.replace('X-Mailroom', 'x-mailroom'), 'ft_abc123'],
    ['X-Mailroom-Forwarding-Test: ft_abc1234\r\n', 'ft_abc1234'],
    ['From: a@b\r\nSubject: x\r\n', null],
    ['Subject: X-Mailroom-Forwarding-Test: ft_abc123\r\n', null],
    ['X-Mailroom-Forwarding-Test: ft_\r\n', null],
    ['X-Mailroom-Forwarding-Test: something else\r\n', null],
  ])('%j: %s', (h, expected) => {
    expect(forwardingTestToken(readHeaderBlock(h).fields)).toBe(expected);
  });
});
