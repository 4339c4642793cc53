/**
 * How many attempts one endpoint gets at once (per process). An endpoint's deliveries are sent by one
 * pump (delivery.ts) that keeps up to `deliverySettings.endpointConcurrency` POSTs in flight. An endpoint
 * is slow while one of its attempts has been in flight longer than half the timeout (at least
 * `minSlowMs`), or since an attempt took that long and no fast answer came after it: a slow endpoint gets
 * `slowEndpointAttempts` at once, so a hanging receiver holds a couple of sockets and leases, not dozens.
 * It never holds the worker slots of other endpoints: each endpoint's pump is a job of its own.
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
  /** The last attempt that ended was slow. */
  slow: boolean;
}

const endpoints = new Map<string, EndpointState>();

function stateOf(endpointId: string): EndpointState {
  let s = endpoints.get(endpointId);
  if (!s) {
    s = { inFlight: [], slow: false };
    endpoints.set(endpointId, s);
  }
  return s;
}

const slowAfter = (timeoutMs: number) => Math.max(pacingSettings.minSlowMs, timeoutMs / 2);

/** Attempts the endpoint may have in flight at once now (`concurrency` when it is not slow). */
export function endpointCapacity(endpointId: string, concurrency: number, timeoutMs: number, now = performance.now()): number {
  const s = endpoints.get(endpointId);
  if (!s) return concurrency;
  const stuck = s.inFlight.some((started) => now - started > slowAfter(timeoutMs));
  return s.slow || stuck ? Math.min(concurrency, pacingSettings.slowEndpointAttempts) : concurrency;
}

/** Records an attempt's start; call the function returned when it is over (`attempted` false: no request was sent). */
export function beginAttempt(endpointId: string, timeoutMs: number, now = performance.now()): (end?: number, attempted?: boolean) => void {
  const s = stateOf(endpointId);
  const started = now;
  s.inFlight.push(started);
  return (end = performance.now(), attempted = true) => {
    const i = s.inFlight.indexOf(started);
    if (i >= 0) s.inFlight.splice(i, 1);
    if (attempted) s.slow = end - started > slowAfter(timeoutMs);
    if (!s.inFlight.length && !s.slow) endpoints.delete(endpointId);
  };
}
