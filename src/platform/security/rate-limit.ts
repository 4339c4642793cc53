/**
 * In-process token-bucket rate limiting keyed by string: sign-in attempts (per address and per
 * client IP), inbound SMTP connections per peer IP, and the like.
 *
 * Each key has a bucket of `burst` tokens that refills continuously at `limit` tokens per
 * `intervalMs`; an action costs one token (or `cost`). A refused action costs nothing. The
 * clock is injectable, so behaviour is tested with a fake clock and no waiting.
 *
 * In-process only: with several Mailroom processes each keeps its own buckets, so the effective
 * limit is multiplied by the number of processes that see the traffic.
 */

export interface RateLimitOptions {
  /** Tokens added per interval (the sustained rate). */
  limit: number;
  intervalMs: number;
  /** Bucket size: the largest burst allowed after a quiet period. Default `limit`. */
  burst?: number;
  /** Milliseconds clock. Default Date.now. */
  now?: () => number;
  /**
   * Most keys tracked at once (memory bound). When full, buckets that have refilled are
   * dropped first, then the least recently used: that key starts over with a full bucket.
   * Default 100,000.
   */
  maxKeys?: number;
}

export interface RateLimitDecision {
  allowed: boolean;
  /** Whole tokens left after this decision. */
  remaining: number;
  /** When refused, how long until the action would be allowed; 0 when allowed. */
  retryAfterMs: number;
}

interface Bucket {
  tokens: number;
  updatedAt: number;
}

export class RateLimiter {
  readonly limit: number;
  readonly intervalMs: number;
  readonly burst: number;
  readonly maxKeys: number;
  private readonly now: () => number;
  private readonly buckets = new Map<string, Bucket>();

  constructor(opts: RateLimitOptions) {
    const burst = opts.burst ?? opts.limit;
    if (!(opts.limit > 0) || !Number.isFinite(opts.limit)) throw new Error('RateLimiter limit must be a positive number.');
    if (!(opts.intervalMs > 0) || !Number.isFinite(opts.intervalMs)) throw new Error('RateLimiter intervalMs must be positive.');
    if (!(burst >= 1) || !Number.isFinite(burst)) throw new Error('RateLimiter burst must be at least 1.');
    this.limit = opts.limit;
    this.intervalMs = opts.intervalMs;
    this.burst = burst;
    this.now = opts.now ?? Date.now;
    this.maxKeys = opts.maxKeys ?? 100_000;
    if (!(this.maxKeys >= 1)) throw new Error('RateLimiter maxKeys must be at least 1.');
  }

  /** Tokens per millisecond. */
  private get rate(): number {
    return this.limit / this.intervalMs;
  }

  private level(bucket: Bucket | undefined, at: number): number {
    if (!bucket) return this.burst;
    const elapsed = Math.max(0, at - bucket.updatedAt); // a clock that goes back refills nothing
    return Math.min(this.burst, bucket.tokens + elapsed * this.rate);
  }

  private decide(tokens: number, cost: number): RateLimitDecision {
    if (tokens >= cost) return { allowed: true, remaining: Math.floor(tokens - cost + 1e-9), retryAfterMs: 0 };
    return { allowed: false, remaining: Math.floor(tokens + 1e-9), retryAfterMs: Math.ceil((cost - tokens) / this.rate) };
  }

  private checkCost(cost: number): void {
    if (!(cost > 0) || cost > this.burst) throw new Error(`A rate-limited action costs more than 0 and at most ${this.burst}.`);
  }

  /** Would `cost` be allowed now? Consumes nothing. */
  peek(key: string, cost = 1): RateLimitDecision {
    this.checkCost(cost);
    return this.decide(this.level(this.buckets.get(key), this.now()), cost);
  }

  /** Takes `cost` tokens from `key`'s bucket if it has them. */
  take(key: string, cost = 1): RateLimitDecision {
    this.checkCost(cost);
    const at = this.now();
    const existing = this.buckets.get(key);
    // The clock went back (NTP step): refill from the new "now" instead of waiting for the old one.
    if (existing && at < existing.updatedAt) existing.updatedAt = at;
    const tokens = this.level(existing, at);
    const decision = this.decide(tokens, cost);
    if (decision.allowed) {
      if (existing) this.buckets.delete(key); // re-insert: most recently used last
      else this.makeRoom(at);
      this.buckets.set(key, { tokens: tokens - cost, updatedAt: at });
    }
    return decision;
  }

  /** Forget `key` (e.g. after a successful sign-in): it starts with a full bucket. */
  reset(key: string): void {
    this.buckets.delete(key);
  }

  /** Number of keys tracked. */
  get size(): number {
    return this.buckets.size;
  }

  /** Drops buckets that have refilled completely (they mean nothing). Returns how many. */
  prune(): number {
    const at = this.now();
    let dropped = 0;
    for (const [key, bucket] of this.buckets) {
      if (this.level(bucket, at) >= this.burst) {
        this.buckets.delete(key);
        dropped++;
      }
    }
    return dropped;
  }

  private makeRoom(_at: number): void {
    if (this.buckets.size < this.maxKeys) return;
    this.prune();
    while (this.buckets.size >= this.maxKeys) {
      const oldest = this.buckets.keys().next();
      if (oldest.done) break;
      this.buckets.delete(oldest.value);
    }
  }
}

export function createRateLimiter(opts: RateLimitOptions): RateLimiter {
  return new RateLimiter(opts);
}

/**
 * Takes one token from each (limiter, key) pair only if every one allows it, e.g. sign-in
 * limited both per address and per client IP. When refused, nothing is consumed and
 * `retryAfterMs` is the longest wait among the refusing limiters.
 */
export function takeAll(checks: ReadonlyArray<readonly [RateLimiter, string]>): RateLimitDecision {
  const peeks = checks.map(([limiter, key]) => limiter.peek(key));
  const refused = peeks.filter((d) => !d.allowed);
  if (refused.length > 0) {
    return {
      allowed: false,
      remaining: 0,
      retryAfterMs: Math.max(...refused.map((d) => d.retryAfterMs)),
    };
  }
  const taken = checks.map(([limiter, key]) => limiter.take(key));
  return { allowed: true, remaining: Math.min(...taken.map((d) => d.remaining)), retryAfterMs: 0 };
}
