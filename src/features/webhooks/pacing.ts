/**
 * Keeps a slow endpoint from taking the whole delivery worker (per process). Deliveries run on their own
 * queue (`webhooks`, a worker of its own). An endpoint is slow while one of its attempts has been in
 * flight longer than half the timeout (at least `minSlowMs`), or since an attempt took that long and no
 * fast answer came after it. A slow endpoint gets `slowEndpointAttempts` attempts at once; its other
 * deliveries are parked (not counted as attempts), spread out by the slow attempts' duration per free
 * place in the queue of parked ones, so each is looked at about once while the endpoint stays slow
 * instead of polling it. The first fast answer lets the parked deliveries go at once (`release` returns
 * their ids; the caller makes their jobs due now).
 */
export const pacingSettings = {
  /** Attempts at once to an endpoint that is slow right now. */
  slowEndpointAttempts: 2,
  /** An attempt slower than max(this, timeout / 2) makes its endpoint slow. */
  minSlowMs: 1000,
};

interface EndpointState {
  /** Start times of the attempts in flight. */
  inFlight: number[];
  /** Deliveries parked while the endpoint is slow. */
  parked: Set<string>;
  /** The last attempt that ended was slow. */
  slow: boolean;
  /** How long that attempt took. */
  lastMs: number;
}

const endpoints = new Map<string, EndpointState>();

export type Slot = { release: (end?: number, attempted?: boolean) => string[] } | { parkMs: number };

/**
 * Either a slot (call `release` when the attempt is over: it returns the deliveries to wake when the
 * endpoint answered fast again; `attempted` false when no request was sent) or how long to park this delivery. `timeoutMs` is the attempt timeout.
 */
export function enterEndpoint(endpointId: string, deliveryId: string, timeoutMs: number, now = performance.now()): Slot {
  let s = endpoints.get(endpointId);
  if (!s) {
    s = { inFlight: [], parked: new Set(), slow: false, lastMs: 0 };
    endpoints.set(endpointId, s);
  }
  s.parked.delete(deliveryId);
  const cap = pacingSettings.slowEndpointAttempts;
  const slowMs = Math.max(pacingSettings.minSlowMs, timeoutMs / 2);
  if (s.inFlight.length >= cap && (s.slow || now - Math.min(...s.inFlight) > slowMs)) {
    s.parked.add(deliveryId);
    const per = Math.max(slowMs, s.lastMs);
    return { parkMs: Math.round(per * (1 + Math.floor((s.parked.size - 1) / cap)) * (1 + 0.1 * Math.random())) };
  }
  const started = now;
  s.inFlight.push(started);
  const state = s;
  return {
    release: (end = performance.now(), attempted = true) => {
      const i = state.inFlight.indexOf(started);
      if (i >= 0) state.inFlight.splice(i, 1);
      // No attempt was made (the delivery had to wait its turn): nothing learnt about the endpoint.
      if (!attempted) {
        if (!state.inFlight.length && !state.parked.size && !state.slow) endpoints.delete(endpointId);
        return [];
      }
      const took = end - started;
      state.slow = took > slowMs;
      state.lastMs = took;
      let wake: string[] = [];
      if (!state.slow && state.parked.size) {
        wake = [...state.parked];
        state.parked.clear();
      }
      if (!state.inFlight.length && !state.parked.size && !state.slow) endpoints.delete(endpointId);
      return wake;
    },
  };
}
