/**
 * How replies from a team address are signed. The rules are shared with the browser (the sender-name
 * preview in Settings → Inboxes and the reply composer show exactly what the server will send), so they
 * live in src/shared/sender-name.ts.
 */
export * from '../../../shared/sender-name.js';
