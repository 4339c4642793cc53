/**
 * Keeps a slow endpoint from taking the whole delivery worker (per process). Deliveries run on their own
 * queue (`webhooks`, a worker of its own), and an endpoint whose attempts hang (one in flight for longer
 * than `slowMs`, or one that took that long and no fast answer since) gets no more than
 * `slowEndpointAttempts` at once: further deliveries to it are parked,
 * spread out one timeout apart per `slowEndpointAttempts` (so each is looked at about once while the
 * endpoint is slow, not polled), and the other endpoints keep the rest of the worker. A fast answer
 * clears the endpoint's backlog count. Parking does not count as an attempt.
 */
export const pacingSettings = {
  /** Attempts at once to an endpoint that is slow right now. */
  slowEndpointAttempts: 2,
  /** An attempt in flight longer than this makes its endpoint slow. */
  slowMs: 1000,
};

interface EndpointState {
  /** Start times of the attempts in flight. */
  inFlight: number[];
  /** Deliveries parked since the endpoint became slow. */
  parked: number;
  /** An attempt took longer than slowMs and no fast answer came since. */
  slow: boolean;
}

const endpoints = new Map<string, EndpointState>();

/**
 * Either a slot (call `release` when the attempt is over) or how long to park the delivery.
 * `timeoutMs` is the attempt timeout: a parked delivery comes back when a slot is likely free.
 */
export function enterEndpoint(endpointId: string, timeoutMs: number, now = performance.now()): { release: (end?: number) => void } | { parkMs: number } {
  let s = endpoints.get(endpointId);
  if (!s) {
    s = { inFlight: [], parked: 0, slow: false };
    endpoints.set(endpointId, s);
  }
  const cap = pacingSettings.slowEndpointAttempts;
  if (s.inFlight.length >= cap && (s.slow || now - Math.min(...s.inFlight) > pacingSettings.slowMs)) {
    s.parked += 1;
    return { parkMs: Math.round(timeoutMs * (1 + Math.floor(s.parked / cap)) * (1 + 0.1 * Math.random())) };
  }
  const started = now;
  s.inFlight.push(started);
  const state = s;
  return {
    release: (end = performance.now()) => {
      const i = state.inFlight.indexOf(started);
      if (i >= 0) state.inFlight.splice(i, 1);
      const fast = end - started <= pacingSettings.slowMs;
      state.slow = !fast;
      if (fast) state.parked = 0;
      if (!state.inFlight.length && !state.parked && !state.slow) endpoints.delete(endpointId);
    },
  };
}
