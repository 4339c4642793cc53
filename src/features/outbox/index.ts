export { queueEmail } from './commands/queueEmail.js';
export type { QueueEmailDeps } from './commands/queueEmail.js';
export { onSendOutcome } from './sender.js';
