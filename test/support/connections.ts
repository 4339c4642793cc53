/** Moved to the one test factory (test/support/factory.ts); kept so existing imports keep working. */
export { insertConnection } from './factory.js';
