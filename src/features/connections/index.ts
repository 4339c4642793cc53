export { refusalError } from './commands/connectEmail.js';
export { disconnectEmail } from './commands/disconnectEmail.js';
export { addressKey } from './domain/address-key.js';
export { checkCreateInbox } from './domain/connection-rules.js';
