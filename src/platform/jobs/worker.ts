/**
 * Runs queued jobs: claims batches, runs each handler, completes or retries. Stops gracefully: no new
 * claims, waits for running handlers (up to a deadline), leaves unfinished jobs to expire and be retried.
 */
import crypto from 'node:crypto';
import os from 'node:os';
import type { Logger } from 'pino';
import type { CommandEnv } from '../context.js';
import type { JobsTable } from '../database/schema.js';
import { claimJobs, completeJob, failJob, requeueJob } from './queue.js';
import { metrics } from '../metrics.js';
import { json, readJson } from '../database/json.js';

export interface JobContext {
  env: CommandEnv;
  job: JobsTable;
  workerId: string;
  log: Logger;
  signal: AbortSignal;
}

/** Throw this from a handler to retry after a specific delay without counting it as a crash. */
export class RetryLater extends Error {
  constructor(message: string, readonly delayMs: number) {
    super(message);
  }
}

/**
 * Throw this from a handler whose work is a loop by nature (mailbox sync): the job goes back to the queue
 * to run again after `delayMs`, keeping its dedupe key, without counting as a failed attempt.
 */
export class RunAgain extends Error {
  constructor(readonly delayMs: number) {
    super('run again');
  }
}

export type JobHandler = (payload: any, ctx: JobContext) => Promise<void>;

export interface WorkerOptions {
  env: CommandEnv;
  handlers: Record<string, JobHandler>;
  queues?: string[];
  concurrency?: number;
  pollMs?: number;
  lockMs?: number;
  log: Logger;
}

/** Keeps a long-running job's lock alive so no other worker takes it while this one is healthy. */
export async function extendJobLock(ctx: JobContext, lockMs: number): Promise<void> {
  await ctx.env.db.updateTable('jobs').set({ locked_until: ctx.env.now() + lockMs }).where('id', '=', ctx.job.id).where('locked_by', '=', ctx.workerId).execute();
}

export class JobWorker {
  readonly id = `${os.hostname()}:${process.pid}:${crypto.randomBytes(3).toString('hex')}`;
  private running = new Set<Promise<void>>();
  private stopped = false;
  private timer: NodeJS.Timeout | null = null;
  private abort = new AbortController();
  private wake: (() => void) | null = null;

  constructor(private readonly o: WorkerOptions) {}

  start(): void {
    void this.loop();
  }

  /** Ask the loop to look for work now (after enqueueing in the same process). */
  poke(): void {
    this.wake?.();
  }

  private async loop(): Promise<void> {
    const concurrency = this.o.concurrency ?? 4;
    while (!this.stopped) {
      const free = concurrency - this.running.size;
      let claimed: JobsTable[] = [];
      if (free > 0) {
        try {
          claimed = await claimJobs(this.o.env.db, this.o.env.dialect, {
            queues: this.o.queues ?? ['default'],
            workerId: this.id,
            lockMs: this.o.lockMs ?? 5 * 60_000,
            limit: free,
            now: this.o.env.now(),
          });
        } catch (err) {
          if (this.stopped) break;
          this.o.log.warn({ err }, 'claiming jobs failed; retrying');
        }
      }
      for (const job of claimed) {
        const p = this.run(job).finally(() => this.running.delete(p));
        this.running.add(p);
      }
      if (claimed.length === 0 || this.running.size >= concurrency) {
        await new Promise<void>((resolve) => {
          this.wake = resolve;
          this.timer = setTimeout(resolve, this.o.pollMs ?? 500);
          if (this.running.size >= concurrency) Promise.race(this.running).then(resolve, resolve);
        });
        if (this.timer) clearTimeout(this.timer);
        this.wake = null;
      }
    }
  }

  private async run(job: JobsTable): Promise<void> {
    const handler = this.o.handlers[job.kind];
    const env = this.o.env;
    const log = this.o.log.child({ job: job.id, kind: job.kind });
    if (!handler) {
      await failJob(env.db, job, this.id, env.now(), `No handler for job kind "${job.kind}" in this process.`);
      return;
    }
    try {
      await handler(readJson('jobs.payload', job.payload, json.record), { env, job, workerId: this.id, log, signal: this.abort.signal });
      await completeJob(env.db, job.id, this.id, env.now());
      metrics.jobsProcessed.inc({ kind: job.kind, outcome: 'done' });
    } catch (err) {
      if (err instanceof RunAgain) {
        await requeueJob(env.db, job, this.id, env.now() + err.delayMs);
        return;
      }
      const e = err as Error;
      const outcome = await failJob(env.db, job, this.id, env.now(), e.message ?? String(e), err instanceof RetryLater ? err.delayMs : undefined).catch(() => 'retry' as const);
      metrics.jobsProcessed.inc({ kind: job.kind, outcome });
      if (!(err instanceof RetryLater)) log.warn({ err: { message: e.message }, outcome }, 'job failed');
    }
  }

  async stop(deadlineMs = 10_000): Promise<void> {
    this.stopped = true;
    this.wake?.();
    const all = Promise.allSettled([...this.running]);
    const timeout = new Promise((r) => setTimeout(r, deadlineMs).unref());
    await Promise.race([all, timeout]);
    this.abort.abort();
  }
}
