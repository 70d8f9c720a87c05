/**
 * Deterministic randomness and the misbehaviour knobs (latency, rate limit, 5xx faults) shared by
 * the emulator and the bus. Everything random is drawn from a seeded generator so a failing test or
 * benchmark can be replayed exactly.
 */

/** mulberry32: tiny, fast, and good enough for test-fault decisions (not for anything secret). */
export class SeededRandom {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  chance(probability: number): boolean {
    return probability > 0 && this.next() < probability;
  }

  /** Integer in [min, max] inclusive. */
  between(min: number, max: number): number {
    if (max <= min) return min;
    return min + Math.floor(this.next() * (max - min + 1));
  }
}

/** A latency setting: fixed milliseconds or a uniform range. */
export type Latency = number | { min: number; max: number };

export function latencyMs(latency: Latency | undefined, random: SeededRandom): number {
  if (latency === undefined) return 0;
  if (typeof latency === 'number') return Math.max(0, latency);
  return random.between(Math.max(0, latency.min), Math.max(0, latency.max));
}

export function sleep(ms: number): Promise<void> {
  return ms > 0 ? new Promise((resolve) => setTimeout(resolve, ms)) : Promise.resolve();
}

export interface RateLimit {
  /** Sustained requests per second. */
  ratePerSecond: number;
  /** Bucket size: how many requests may arrive at once after a quiet period. */
  burst: number;
}

/**
 * Token bucket, refilled continuously. The clock is injectable so the arithmetic can be tested
 * without sleeping.
 */
export class TokenBucket {
  private tokens: number;
  private last: number;

  constructor(
    readonly limit: RateLimit,
    private readonly now: () => number = () => performance.now(),
  ) {
    if (!(limit.ratePerSecond > 0) || !(limit.burst >= 1)) {
      throw new RangeError('rate limit needs ratePerSecond > 0 and burst >= 1');
    }
    this.tokens = limit.burst;
    this.last = this.now();
  }

  tryTake(): boolean {
    const now = this.now();
    this.tokens = Math.min(this.limit.burst, this.tokens + ((now - this.last) / 1000) * this.limit.ratePerSecond);
    this.last = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}

export interface FaultSettings {
  /** Probability in [0, 1] that a request gets a 5xx answer. */
  probability: number;
  seed: number;
  /**
   * Share of faults (0..1) that strike after the state change was committed, like a real
   * timeout after the write landed. Default 0: the request had no effect.
   */
  afterCommitShare?: number;
}

export interface FaultDecision {
  status: 500 | 503;
  code: 'InternalError' | 'ServiceUnavailable';
  message: string;
  afterCommit: boolean;
}

export class FaultInjector {
  private readonly random: SeededRandom;

  constructor(readonly settings: FaultSettings) {
    this.random = new SeededRandom(settings.seed);
  }

  /** One decision per request, drawn in arrival order, so a seed replays the same sequence. */
  decide(): FaultDecision | undefined {
    const hit = this.random.next() < this.settings.probability;
    const kind = this.random.next();
    const after = this.random.next() < (this.settings.afterCommitShare ?? 0);
    if (!hit) return undefined;
    return kind < 0.5
      ? { status: 500, code: 'InternalError', message: 'We encountered an internal error. Please try again.', afterCommit: after }
      : { status: 503, code: 'ServiceUnavailable', message: 'Service Unavailable', afterCommit: after };
  }
}
