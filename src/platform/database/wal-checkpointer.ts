/**
 * WAL checkpoints off the main thread. SQLite's automatic checkpoint runs inside whichever COMMIT
 * crosses the WAL size limit, on the thread that committed: for Mailroom that is the main event loop,
 * which then copies megabytes into the database file and fsyncs it (several milliseconds per ingest
 * batch). Here a worker thread with its own connection runs a PASSIVE checkpoint every half second
 * (passive: it never blocks readers or the writer). The main connection keeps a high automatic limit
 * as a safety net, should the worker ever stop.
 */
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

const require = createRequire(import.meta.url);

const CODE = `
const { workerData, parentPort } = require('node:worker_threads');
const SQLite = require(workerData.driver);
const db = new SQLite(workerData.file);
db.pragma('busy_timeout = 1000');
let stopped = false;
parentPort.on('message', (m) => { if (m === 'stop') { stopped = true; clearInterval(timer); try { db.close(); } catch {} process.exit(0); } });
const timer = setInterval(() => {
  if (stopped) return;
  try { db.pragma('wal_checkpoint(PASSIVE)'); } catch { /* busy or closing: next time */ }
}, workerData.intervalMs);
`;

export interface WalCheckpointer {
  stop(): Promise<void>;
}

export function startWalCheckpointer(file: string, intervalMs = 500): WalCheckpointer | null {
  let worker: Worker;
  try {
    worker = new Worker(CODE, { eval: true, workerData: { file, intervalMs, driver: require.resolve('better-sqlite3') } });
  } catch {
    return null; // checkpoints stay automatic, on the committing thread
  }
  worker.unref();
  worker.on('error', () => {
    /* the main connection's automatic checkpoint takes over */
  });
  return {
    async stop() {
      // Keep the process alive until the worker has closed its connection (both it and the timer are
      // otherwise unref'd: a process with nothing else to do would end in the middle of this await).
      worker.ref();
      const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
      worker.postMessage('stop');
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([exited, new Promise<void>((resolve) => (timer = setTimeout(resolve, 2000)))]);
      clearTimeout(timer);
      await worker.terminate().catch(() => undefined);
    },
  };
}
