/**
 * A local stand-in for the us-east-1 default event bus and its Lambda targets.
 *
 * Rules match with the same matcher the tests use against serverless.yml (lib/event-pattern), so
 * "matches here" means "matches in EventBridge". Delivery can be made as unreliable as the real
 * chain (CloudTrail → EventBridge → async Lambda is best-effort: late, duplicated, reordered or
 * lost — docs/cloudfront-api.md#cloudtrail-events), and every random choice comes from one seed so a run can be replayed.
 */
import { matchesPattern, type EventPattern } from './event-pattern';
import { SeededRandom, type Latency, latencyMs } from '../emulator/faults';

export interface BusEvent {
  id?: string;
  [key: string]: unknown;
}

export interface RetryPolicy {
  /** Retries after the first failed invocation (Lambda async default: 2). */
  maxRetries: number;
  /** Wait before each retry; Lambda waits minutes, tests want milliseconds. Default 10. */
  delayMs?: number;
}

export interface BusRule {
  name: string;
  pattern: EventPattern;
  target: (event: BusEvent) => Promise<unknown>;
  /** Overrides the bus-wide retry policy for this rule. */
  retry?: RetryPolicy;
}

export interface BusOptions {
  seed?: number;
  /** Delay of each delivery: fixed ms or uniform range. */
  delayMs?: Latency;
  /** Chance that a matched delivery is made twice. */
  duplicateProbability?: number;
  /** Chance that a matched delivery never happens. */
  lossProbability?: number;
  /**
   * Hold-back window for reordering: deliveries are collected until this many are waiting (or
   * `reorderFlushMs` passed) and released in a seeded shuffle. 0 or 1 = keep order.
   */
  reorderWindow?: number;
  reorderFlushMs?: number;
  /** Default retry policy; without one a failed invocation goes straight to the dead letters. */
  retry?: RetryPolicy;
}

export type DeliveryStatus = 'delivered' | 'failed' | 'lost';

export interface DeliveryRecord {
  /** Order in which the record was written. */
  seq: number;
  rule: string;
  eventId: string;
  event: BusEvent;
  /** 0 for the original delivery, 1 for an injected duplicate. */
  copy: number;
  /** 1-based invocation attempt (0 for lost deliveries). */
  attempt: number;
  status: DeliveryStatus;
  result?: unknown;
  error?: string;
  at: Date;
}

export interface DeadLetter {
  rule: string;
  event: BusEvent;
  error: string;
  attempts: number;
}

interface Pending {
  rule: BusRule;
  event: BusEvent;
  copy: number;
}

export class LocalBus {
  private readonly rules: BusRule[] = [];
  private readonly records: DeliveryRecord[] = [];
  private readonly dead: DeadLetter[] = [];
  // Separate streams so that, e.g., turning duplication on does not shift every delay.
  private readonly fate: SeededRandom;
  private readonly timing: SeededRandom;
  private readonly shuffle: SeededRandom;
  private held: Pending[] = [];
  private flushTimer: NodeJS.Timeout | undefined;
  private readonly timers = new Set<NodeJS.Timeout>();
  private inFlight = 0;
  private waiters: Array<() => void> = [];
  private seq = 0;

  constructor(private readonly options: BusOptions = {}) {
    const seed = options.seed ?? 1;
    this.fate = new SeededRandom(seed);
    this.timing = new SeededRandom(seed ^ 0x9e3779b9);
    this.shuffle = new SeededRandom(seed ^ 0x85ebca6b);
  }

  addRule(rule: BusRule): this {
    if (this.rules.some((r) => r.name === rule.name)) throw new Error(`rule ${rule.name} already exists`);
    // Validate now so a malformed pattern fails where it is declared, not on the first event.
    matchesPattern(rule.pattern, {});
    this.rules.push(rule);
    return this;
  }

  /** Names of the rules the event matches, in rule order. */
  matchingRules(event: object): string[] {
    return this.rules.filter((r) => matchesPattern(r.pattern, event)).map((r) => r.name);
  }

  /**
   * PutEvents for one event: schedules its deliveries and returns at once, like the real call.
   * Takes any object so typed events (e.g. CloudTrailEvent) need no cast.
   */
  put(input: object): void {
    const event = input as BusEvent;
    for (const rule of this.rules) {
      if (!matchesPattern(rule.pattern, event)) continue;
      const lost = this.fate.chance(this.options.lossProbability ?? 0);
      const duplicated = this.fate.chance(this.options.duplicateProbability ?? 0);
      if (lost) {
        this.record({ rule: rule.name, event, copy: 0, attempt: 0, status: 'lost' });
        continue;
      }
      for (let copy = 0; copy <= (duplicated ? 1 : 0); copy++) this.hold({ rule, event, copy });
    }
  }

  /** Resolves once nothing is held, delayed, running or waiting for a retry. */
  idle(): Promise<void> {
    if (this.inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** Releases held-back deliveries now, then waits for everything to finish. */
  async drain(): Promise<void> {
    this.flush();
    await this.idle();
  }

  deliveries(): DeliveryRecord[] {
    return [...this.records];
  }

  deadLetters(): DeadLetter[] {
    return [...this.dead];
  }

  /** Drops everything still scheduled; for test teardown. */
  dispose(): void {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    this.held = [];
    this.inFlight = 0;
    this.settle();
  }

  private hold(pending: Pending): void {
    this.inFlight += 1;
    const window = this.options.reorderWindow ?? 0;
    if (window <= 1) {
      this.schedule(pending);
      return;
    }
    this.held.push(pending);
    if (this.held.length >= window) this.flush();
    else if (!this.flushTimer) this.flushTimer = setTimeout(() => this.flush(), this.options.reorderFlushMs ?? 20);
  }

  private flush(): void {
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    const batch = this.held;
    this.held = [];
    for (let i = batch.length - 1; i > 0; i--) {
      const j = Math.floor(this.shuffle.next() * (i + 1));
      [batch[i], batch[j]] = [batch[j]!, batch[i]!];
    }
    for (const pending of batch) this.schedule(pending);
  }

  private schedule(pending: Pending): void {
    this.later(latencyMs(this.options.delayMs, this.timing), () => void this.invoke(pending, 1));
  }

  private later(ms: number, run: () => void): void {
    // setTimeout(0) rather than a microtask: a target must never run inside the caller's put().
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      run();
    }, ms);
    this.timers.add(timer);
  }

  private async invoke(pending: Pending, attempt: number): Promise<void> {
    const { rule, event, copy } = pending;
    try {
      const result = await rule.target(event);
      this.record({ rule: rule.name, event, copy, attempt, status: 'delivered', result });
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      this.record({ rule: rule.name, event, copy, attempt, status: 'failed', error: message });
      const policy = rule.retry ?? this.options.retry;
      if (policy && attempt <= policy.maxRetries) {
        this.later(policy.delayMs ?? 10, () => void this.invoke(pending, attempt + 1));
        return;
      }
      this.dead.push({ rule: rule.name, event, error: message, attempts: attempt });
    }
    this.inFlight = Math.max(0, this.inFlight - 1);
    this.settle();
  }

  private record(entry: Omit<DeliveryRecord, 'seq' | 'eventId' | 'at'>): void {
    this.seq += 1;
    this.records.push({ seq: this.seq, eventId: String(entry.event.id ?? ''), at: new Date(), ...entry });
  }

  private settle(): void {
    if (this.inFlight !== 0) return;
    const waiters = this.waiters;
    this.waiters = [];
    for (const resolve of waiters) resolve();
  }
}
