/**
 * Worker-thread entry of the parse pool. Loaded either as compiled JS or, under tsx, through the
 * CommonJS register hook (see pool.ts), so this module and everything it imports must not use
 * `import.meta` or top-level await.
 */
import os from 'node:os';
import { parentPort, workerData } from 'node:worker_threads';
import { parseMessageInline } from './parse-inline.js';
import { installJoiningBlob } from './fast-blob.js';
import type { ParseLimits } from './limits.js';

export interface WorkerRequest {
  id: number;
  raw: Uint8Array;
  limits: Partial<ParseLimits>;
}

const port = parentPort;
if (port) {
  // This thread only parses: postal-mime's joins of decoded lines take one copy (fast-blob.ts).
  installJoiningBlob();
  // Parse at a lower CPU priority than the thread that serves HTTP, IMAP and SMTP: under CPU
  // contention the main event loop stays responsive and parsing waits. On Linux a nice value is
  // per thread, so this touches only this worker.
  const increment = Number((workerData as { niceIncrement?: number } | null)?.niceIncrement ?? 0);
  if (increment > 0) {
    try {
      os.setPriority(0, Math.min(19, os.getPriority(0) + increment));
    } catch {
      /* not permitted or not supported: parse at normal priority */
    }
  }
  // The pool may hand over several messages ahead; they are parsed one at a time, in order of arrival
  // (the pool's deadline applies to the first one it has not had an answer for).
  const waiting: WorkerRequest[] = [];
  let running = false;
  const next = (): void => {
    const msg = waiting.shift();
    if (!msg) {
      running = false;
      return;
    }
    running = true;
    void parseMessageInline(msg.raw, msg.limits).then((value) => {
      // Hand large attachment buffers over instead of copying them. Only buffers that own their
      // whole ArrayBuffer and are larger than Node's Buffer pool slab can be transferred safely.
      const transfer = new Set<ArrayBuffer>();
      for (const a of value.attachments) {
        const ab = a.content.buffer as ArrayBuffer;
        if (a.content.length > 8192 && a.content.byteOffset === 0 && ab.byteLength === a.content.length && !transfer.has(ab)) {
          transfer.add(ab);
        }
      }
      port.postMessage({ id: msg.id, value }, [...transfer]);
      next();
    });
  };
  port.on('message', (msg: WorkerRequest) => {
    waiting.push(msg);
    if (!running) next();
  });
  port.postMessage({ ready: true });
}
