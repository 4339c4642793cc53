import type { JobHandler } from './worker.js';

/**
 * Every job kind this process knows, registered by the features that define them. Kept as a plain map so
 * a reader can find what runs in the background in one place.
 */
export const jobHandlers: Record<string, JobHandler> = {};

export function registerJob(kind: string, handler: JobHandler): void {
  jobHandlers[kind] = handler;
}
