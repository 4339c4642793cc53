/**
 * Main event-loop stall measurement for the hardening tests and benchmarks.
 *
 * `monitorEventLoopDelay` (perf_hooks) measures how late the loop runs, whatever the cause. On a
 * machine shared with other work (CI runners, several test processes on two cores) a thread that is
 * ready to run can wait hundreds of milliseconds for a CPU while doing nothing wrong. So a second,
 * own figure is kept: each 10 ms tick's lateness minus the time the main thread spent waiting in the
 * kernel run queue during that tick (Linux `/proc/thread-self/schedstat`). What remains is time the
 * thread was busy or blocked: the stall our own code causes. Where schedstat is not readable the
 * own figure equals the raw one.
 */
import fs from 'node:fs';
import { createHistogram, monitorEventLoopDelay, type RecordableHistogram } from 'node:perf_hooks';

export interface StallFigures {
  /** monitorEventLoopDelay, ms. */
  p50: number;
  p99: number;
  max: number;
  /** Lateness not explained by waiting for a CPU, ms. */
  ownP99: number;
  ownMax: number;
  /** Whether the run-queue correction was available. */
  corrected: boolean;
}

export interface LoopWatch {
  /** Worst own stall (ms) since the previous mark (or the start), and the raw worst over the same span. */
  mark(): { ownMax: number; max: number };
  stop(): StallFigures;
}

const SCHEDSTAT = '/proc/thread-self/schedstat';

function runQueueNs(): number | null {
  try {
    const [, waiting] = fs.readFileSync(SCHEDSTAT, 'latin1').trim().split(/\s+/);
    const n = Number(waiting);
    return Number.isFinite(n) ? n : null;
  } catch {
    return null;
  }
}

const round = (ms: number) => Math.round(ms * 10) / 10;

/** Starts watching the main event loop (call from the main thread). */
export function watchEventLoop(resolutionMs = 10): LoopWatch {
  const eld = monitorEventLoopDelay({ resolution: resolutionMs });
  eld.enable();
  const own: RecordableHistogram = createHistogram();
  const corrected = runQueueNs() !== null;
  let last = performance.now();
  let lastRq = runQueueNs() ?? 0;
  let markOwn = 0;
  let markRaw = 0;
  const tick = () => {
    const now = performance.now();
    const rq = corrected ? (runQueueNs() ?? lastRq) : 0;
    const late = Math.max(0, now - last - resolutionMs);
    const waited = corrected ? Math.max(0, (rq - lastRq) / 1e6) : 0;
    const mine = Math.max(0, late - waited);
    own.record(Math.max(1, Math.round(mine * 1e6)));
    markOwn = Math.max(markOwn, mine);
    markRaw = Math.max(markRaw, late);
    last = now;
    lastRq = rq;
  };
  const timer = setInterval(tick, resolutionMs);
  return {
    mark() {
      tick(); // close the current span
      const r = { ownMax: round(markOwn), max: round(markRaw) };
      markOwn = 0;
      markRaw = 0;
      return r;
    },
    stop() {
      clearInterval(timer);
      tick();
      eld.disable();
      return {
        p50: round(eld.percentile(50) / 1e6),
        p99: round(eld.percentile(99) / 1e6),
        max: round(eld.max / 1e6),
        ownP99: round(own.percentile(99) / 1e6),
        ownMax: round(own.max / 1e6),
        corrected,
      };
    },
  };
}
