/**
 * A small pool of worker threads that parse MIME off the main event loop. A pathological message
 * (a 2 MB format=flowed body, thousands of parts, a nesting bomb) costs a worker some time but never
 * blocks the thread that serves HTTP, IMAP IDLE and SMTP. Each parse has a deadline: when it passes,
 * the worker is terminated and replaced, and the caller gets the header-only fallback value flagged
 * `parse_timeout` (the raw message is kept by the caller and can be re-parsed later).
 *
 * Starting a TypeScript worker: the app runs through tsx. On Node 20, ESM loader hooks (what
 * `--import tsx` installs) do not apply to a worker's entry module, so the worker is started from a
 * tiny CommonJS bootstrap that installs tsx's CommonJS hook and then requires worker.ts. This works
 * under `npx tsx`, under vitest, and from compiled JS (where worker.js is started directly).
 */
import { createRequire } from 'node:module';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { ParsedMessage } from '../message/message.js';
import { fallbackMessage } from './build.js';
import { resolveLimits, type ParseLimits } from './limits.js';
import { parseMessageInline } from './parse-inline.js';
import type { WorkerRequest } from './worker.js';

export interface ParsePoolOptions {
  /** Worker threads; default min(2, max(1, cores - 1)). */
  workers?: number;
  /** Deadline per message, from hand-off to the worker; default 20 s. */
  timeoutMs?: number;
  limits?: Partial<ParseLimits>;
  /** V8 old-generation cap per worker; a worker over it dies and the message gets `parse_error`. Default 1,024 MB. */
  maxOldGenerationSizeMb?: number;
  /** Raise the workers' nice value by this much (Linux: per thread), so parsing yields the CPU to the main loop. Default 10; 0 keeps normal priority. */
  niceIncrement?: number;
  /** The worker script; default worker.js (worker.ts under tsx) beside this module. */
  workerUrl?: URL;
}

export interface ParsePoolStats {
  workers: number;
  busy: number;
  queued: number;
  parsed: number;
  timeouts: number;
  crashes: number;
  /** Parses done in the calling thread because workers could not start. */
  inlineFallbacks: number;
}

interface Job {
  id: number;
  /** The caller's bytes, kept for the fallback value. */
  raw: Uint8Array;
  /** An exact-size private copy, handed (transferred) to the worker. */
  copy: Uint8Array | null;
  /** False while a large input is still being copied; the queue waits for its head. */
  ready: boolean;
  timeoutMs: number;
  resolve: (m: ParsedMessage) => void;
}

interface Slot {
  worker: Worker | null;
  ready: boolean;
  /**
   * Jobs handed to this worker, oldest first. The worker parses them one at a time in this order, so
   * the first is the one running; the others wait there, and the worker keeps parsing while this
   * thread is busy (a batch written to the database holds it for tens of milliseconds).
   */
  jobs: Job[];
  /** Bytes of the jobs handed over and not yet answered. */
  bytes: number;
  /** Deadline of the running (first) job. */
  timer: NodeJS.Timeout | null;
}

/** At most this many jobs, and about this many bytes, handed to one worker ahead of its answers. */
const MAX_JOBS_IN_FLIGHT = 64;
const MAX_BYTES_IN_FLIGHT = 8 * 1024 * 1024;

const require = createRequire(import.meta.url);

function startWorker(resourceLimits: { maxOldGenerationSizeMb: number }, workerData: { niceIncrement: number }, workerUrl: URL | undefined): Worker {
  if (workerUrl) return new Worker(workerUrl, { execArgv: [], resourceLimits, workerData });
  const here = import.meta.url;
  if (here.endsWith('.ts')) {
    const workerPath = fileURLToPath(new URL('./worker.ts', here));
    const tsxCjsApi = require.resolve('tsx/cjs/api');
    const bootstrap = `require(${JSON.stringify(tsxCjsApi)}).register();\nrequire(${JSON.stringify(workerPath)});`;
    return new Worker(bootstrap, { eval: true, execArgv: [], resourceLimits, workerData });
  }
  return new Worker(new URL('./worker.js', here), { execArgv: [], resourceLimits, workerData });
}

export class ParsePool {
  private readonly size: number;
  private readonly timeoutMs: number;
  private readonly limits: ParseLimits;
  private readonly memoryMb: number;
  private readonly niceIncrement: number;
  private readonly workerUrl: URL | undefined;
  private readonly slots: Slot[] = [];
  private readonly queue: Job[] = [];
  private nextId = 1;
  private closed = false;
  private bootFailures = 0;
  private readonly counters = { parsed: 0, timeouts: 0, crashes: 0, inlineFallbacks: 0 };

  constructor(opts: ParsePoolOptions = {}) {
    this.size = Math.max(1, opts.workers ?? Math.min(2, Math.max(1, os.availableParallelism() - 1)));
    this.timeoutMs = opts.timeoutMs ?? 20_000;
    this.limits = resolveLimits(opts.limits);
    this.memoryMb = opts.maxOldGenerationSizeMb ?? 1024;
    this.niceIncrement = Math.max(0, Math.min(19, opts.niceIncrement ?? 10));
    this.workerUrl = opts.workerUrl;
    for (let i = 0; i < this.size; i++) this.slots.push({ worker: null, ready: false, jobs: [], bytes: 0, timer: null });
  }

  /** Parses one message. Never rejects; the value carries `malformed` flags instead. */
  parse(raw: Uint8Array, opts: { timeoutMs?: number } = {}): Promise<ParsedMessage> {
    if (this.closed) return Promise.resolve(fallbackMessage(raw, 'parse_error'));
    // An exact-size private copy that is transferred, not cloned: cloning a view into a larger buffer
    // copies the whole underlying buffer, and cloning at all costs main-thread time per megabyte.
    return new Promise<ParsedMessage>((resolve) => {
      const job: Job = { id: this.nextId++, raw, copy: null, ready: false, timeoutMs: opts.timeoutMs ?? this.timeoutMs, resolve };
      this.queue.push(job);
      this.makeCopy(job);
      if (job.ready) this.dispatch();
    });
  }

  /**
   * Gives the job its private copy: at once for a small input (the job is ready on return), else one
   * slice per turn of the event loop, dispatching when done.
   */
  private makeCopy(job: Job): void {
    job.ready = false;
    job.copy = null;
    if (job.raw.byteLength <= COPY_SLICE) {
      job.copy = new Uint8Array(job.raw.byteLength);
      job.copy.set(job.raw);
      job.ready = true;
      return;
    }
    void copyInSlices(job.raw).then((copy) => {
      job.copy = copy;
      job.ready = true;
      if (!this.closed) this.dispatch();
    });
  }

  /** Starts the workers and waits until each has loaded its code (the first load under tsx takes a moment). */
  async warm(): Promise<void> {
    await Promise.all(
      this.slots.map(
        (slot) =>
          new Promise<void>((resolve) => {
            const w = this.ensureWorker(slot);
            if (!w || slot.ready) return resolve();
            const onMsg = (m: { ready?: boolean }) => {
              if (m && m.ready) done();
            };
            const done = () => {
              w.off('message', onMsg);
              w.off('exit', done);
              resolve();
            };
            w.on('message', onMsg);
            w.on('exit', done);
          }),
      ),
    );
  }

  stats(): ParsePoolStats {
    return {
      workers: this.slots.filter((s) => s.worker).length,
      busy: this.slots.filter((s) => s.jobs.length > 0).length,
      queued: this.queue.length,
      ...this.counters,
    };
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const job of this.queue.splice(0)) job.resolve(fallbackMessage(job.raw, 'parse_error'));
    await Promise.all(
      this.slots.map(async (slot) => {
        const w = slot.worker;
        slot.worker = null;
        for (const job of slot.jobs.splice(0)) job.resolve(fallbackMessage(job.raw, 'parse_error'));
        if (slot.timer) clearTimeout(slot.timer);
        slot.timer = null;
        slot.bytes = 0;
        if (w) await w.terminate();
      }),
    );
  }

  private ensureWorker(slot: Slot): Worker | null {
    if (slot.worker) return slot.worker;
    let w: Worker;
    try {
      w = startWorker({ maxOldGenerationSizeMb: this.memoryMb }, { niceIncrement: this.niceIncrement }, this.workerUrl);
    } catch {
      this.bootFailures++;
      return null;
    }
    slot.worker = w;
    slot.ready = false;
    w.unref();
    w.on('message', (msg: { ready?: boolean; id?: number; value?: ParsedMessage }) => {
      if (slot.worker !== w) return;
      if (msg.ready) {
        slot.ready = true;
        this.bootFailures = 0;
        return;
      }
      if (slot.jobs[0] && msg.id === slot.jobs[0].id && msg.value) {
        this.counters.parsed++;
        this.finish(slot, revive(msg.value));
      }
    });
    w.on('error', () => {
      /* the exit handler below does the work */
    });
    w.on('exit', () => {
      if (slot.worker !== w) return; // terminated on purpose
      slot.worker = null;
      if (!slot.ready) {
        // It never started (a missing or broken worker file): the jobs handed to it were never parsed,
        // so they go back to the queue (after three such failures they are parsed in this thread),
        // rather than each becoming a parse_error.
        this.bootFailures++;
        const handed = slot.jobs.splice(0);
        slot.bytes = 0;
        this.arm(slot);
        this.requeue(handed);
      } else if (slot.jobs.length) {
        // The running job took the worker down; the ones waiting behind it go back to the queue.
        this.counters.crashes++;
        const waiting = slot.jobs.splice(1);
        this.finish(slot, fallbackMessage(slot.jobs[0]!.raw, 'parse_error'));
        slot.bytes = 0;
        this.requeue(waiting);
      }
      this.dispatch();
    });
    return w;
  }

  private dispatch(): void {
    for (;;) {
      if (this.queue.length === 0 || !this.queue[0]!.ready) return;
      // Workers that cannot even start (a broken install) must not turn every message into a
      // parse_error: parse in this thread instead, and say so in stats().
      if (this.bootFailures >= 3) {
        const job = this.queue.shift()!;
        job.copy = null;
        this.counters.inlineFallbacks++;
        void parseMessageInline(job.raw, this.limits).then(job.resolve);
        continue;
      }
      // The least loaded worker that can take one more job.
      const job = this.queue[0]!;
      let slot: Slot | null = null;
      for (const s of this.slots) {
        if (s.jobs.length >= MAX_JOBS_IN_FLIGHT) continue;
        if (s.jobs.length > 0 && s.bytes + job.raw.byteLength > MAX_BYTES_IN_FLIGHT) continue;
        if (!slot || s.jobs.length < slot.jobs.length) slot = s;
      }
      if (!slot) return;
      const w = this.ensureWorker(slot);
      if (!w) {
        if (this.slots.every((s) => !s.worker && !s.jobs.length) && this.bootFailures < 3) {
          // every spawn failed synchronously; try again shortly rather than spinning
          setTimeout(() => this.dispatch(), 100).unref();
        }
        return;
      }
      this.queue.shift();
      slot.jobs.push(job);
      slot.bytes += job.raw.byteLength;
      w.ref();
      if (slot.jobs.length === 1) this.arm(slot);
      const copy = job.copy!;
      job.copy = null;
      const request: WorkerRequest = { id: job.id, raw: copy, limits: this.limits };
      w.postMessage(request, [copy.buffer as ArrayBuffer]);
    }
  }

  /** Starts the deadline of the slot's running job (the worker starts the next one as it answers one). */
  private arm(slot: Slot): void {
    if (slot.timer) clearTimeout(slot.timer);
    const job = slot.jobs[0];
    slot.timer = job ? setTimeout(() => this.timeout(slot, job), job.timeoutMs) : null;
  }

  private timeout(slot: Slot, job: Job): void {
    if (slot.jobs[0] !== job) return;
    this.counters.timeouts++;
    const w = slot.worker;
    slot.worker = null;
    slot.ready = false;
    const waiting = slot.jobs.splice(1);
    this.finish(slot, fallbackMessage(job.raw, 'parse_timeout'));
    slot.bytes = 0;
    this.requeue(waiting);
    if (w) void w.terminate();
    this.dispatch();
  }

  /** Answers the slot's running job. */
  private finish(slot: Slot, value: ParsedMessage): void {
    const job = slot.jobs.shift();
    if (!job) return;
    slot.bytes = Math.max(0, slot.bytes - job.raw.byteLength);
    this.arm(slot);
    if (slot.worker && slot.jobs.length === 0) slot.worker.unref();
    job.resolve(value);
    if (!this.closed) queueMicrotask(() => this.dispatch());
  }

  /** Jobs a lost worker had not started: back to the front of the queue, with fresh copies (theirs went to the worker). */
  private requeue(jobs: Job[]): void {
    for (const job of jobs) this.makeCopy(job);
    this.queue.unshift(...jobs);
  }
}

const COPY_SLICE = 1024 * 1024;

/**
 * An exact-size copy of a large input, one slice per turn of the event loop: touching tens of fresh
 * megabytes at once (page faults) can hold the main loop for a few hundred milliseconds.
 */
async function copyInSlices(raw: Uint8Array): Promise<Uint8Array> {
  const copy = new Uint8Array(raw.byteLength);
  for (let at = 0; at < raw.byteLength; at += COPY_SLICE) {
    copy.set(raw.subarray(at, Math.min(at + COPY_SLICE, raw.byteLength)), at);
    if (at + COPY_SLICE < raw.byteLength) await new Promise<void>((resolve) => setImmediate(resolve));
  }
  return copy;
}

/** Structured clone turns Buffers into plain Uint8Arrays; make them Buffers again. */
function revive(value: ParsedMessage): ParsedMessage {
  for (const a of value.attachments) {
    const c = a.content as Uint8Array;
    if (!Buffer.isBuffer(c)) a.content = Buffer.from(c.buffer, c.byteOffset, c.byteLength);
  }
  return value;
}

let defaultPool: ParsePool | null = null;
let defaultOptions: ParsePoolOptions = {};

/** Options for the shared pool behind `parseMessage`; call before the first parse (or after closing it). */
export function configureDefaultParsePool(opts: ParsePoolOptions): void {
  defaultOptions = { ...opts };
}

export function getDefaultParsePool(): ParsePool {
  if (!defaultPool) defaultPool = new ParsePool(defaultOptions);
  return defaultPool;
}

export async function closeDefaultParsePool(): Promise<void> {
  const pool = defaultPool;
  defaultPool = null;
  if (pool) await pool.close();
}

/**
 * THE way to parse a raw message: in a worker thread, bounded, with a deadline. Never rejects and
 * never loses the message: failures come back as a header-only value flagged `parse_error` or
 * `parse_timeout`.
 */
export function parseMessage(raw: Uint8Array, opts: { timeoutMs?: number } = {}): Promise<ParsedMessage> {
  return getDefaultParsePool().parse(raw, opts);
}
