/** The one module that talks to EventBridge: announcing outcomes on a bus. */
import { type AwsClientOptions, awsClientConfig } from './aws-client';
import { EventBridgeClient, PutEventsCommand, type PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';

export interface Announcement {
  readonly detailType: string;
  readonly detail: Readonly<Record<string, unknown>>;
  readonly resources?: readonly string[];
}

/** An announcement the bus did not take, and the last reason it gave. */
export interface RefusedAnnouncement {
  readonly announcement: Announcement;
  readonly errorCode: string;
}

export interface EventBridgeGateway {
  /**
   * Sends every announcement in calls that fit PutEvents, then sends the refused ones once more.
   * Resolves with what was still refused: an announcement is a notification, never a reason to fail.
   */
  announce(announcements: readonly Announcement[]): Promise<readonly RefusedAnnouncement[]>;
}

export const ANNOUNCEMENT_SOURCE = 'cloudfront-autopublish';
/** PutEvents takes 1–10 entries per call (docs/cloudfront-api.md#quotas-and-rate-limits). */
export const MAX_ENTRIES_PER_CALL = 10;
/** The entries of one PutEvents call must total less than 256 KB (docs/cloudfront-api.md#quotas-and-rate-limits). */
export const MAX_CALL_BYTES = 256 * 1024 - 1;
/** Our name for an entry too big to send at all; EventBridge never sees it. */
export const ENTRY_TOO_LARGE = 'EntryTooLarge';

export function createEventBridgeClient(options: AwsClientOptions = {}): EventBridgeClient {
  return new EventBridgeClient(awsClientConfig(options, 5));
}

/** An entry's size as EventBridge counts it (docs/cloudfront-api.md#quotas-and-rate-limits). */
export function entrySize(entry: PutEventsRequestEntry): number {
  const bytes = (text: string | undefined) => (text === undefined ? 0 : Buffer.byteLength(text, 'utf8'));
  return (
    (entry.Time ? 14 : 0) + bytes(entry.Source) + bytes(entry.DetailType) + bytes(entry.Detail) + (entry.Resources ?? []).reduce((sum, r) => sum + bytes(r), 0)
  );
}

interface Pending {
  readonly announcement: Announcement;
  readonly entry: PutEventsRequestEntry;
  readonly size: number;
}

interface Refused {
  readonly pending: Pending;
  readonly errorCode: string;
}

/** Calls of at most MAX_ENTRIES_PER_CALL entries and MAX_CALL_BYTES, in order. */
function batchesOf(pending: readonly Pending[]): Pending[][] {
  const batches: Pending[][] = [];
  let batch: Pending[] = [];
  let bytes = 0;
  for (const item of pending) {
    if (batch.length === MAX_ENTRIES_PER_CALL || bytes + item.size > MAX_CALL_BYTES) {
      batches.push(batch);
      batch = [];
      bytes = 0;
    }
    batch.push(item);
    bytes += item.size;
  }
  if (batch.length > 0) batches.push(batch);
  return batches;
}

export function eventBridgeGateway(client: EventBridgeClient, eventBusName: string): EventBridgeGateway {
  /** One call; what it refused. A call that throws (the SDK's retries spent) refuses its whole batch. */
  async function send(batch: readonly Pending[]): Promise<Refused[]> {
    try {
      const out = await client.send(new PutEventsCommand({ Entries: batch.map((p) => p.entry) }));
      if (!out.FailedEntryCount) return [];
      // Results line up with the entries sent; a refused one carries an ErrorCode, and the others
      // were taken (docs/cloudfront-api.md#quotas-and-rate-limits).
      return batch.flatMap((pending, i) => {
        const errorCode = out.Entries?.[i]?.ErrorCode;
        return errorCode ? [{ pending, errorCode }] : [];
      });
    } catch (error) {
      const errorCode = error instanceof Error ? error.name : 'Error';
      return batch.map((pending) => ({ pending, errorCode }));
    }
  }

  async function round(pending: readonly Pending[]): Promise<Refused[]> {
    const refused: Refused[] = [];
    // One call after another: a sweep's announcements are few, and PutEvents is throttled per account.
    for (const batch of batchesOf(pending)) refused.push(...(await send(batch)));
    return refused;
  }

  return {
    async announce(announcements) {
      const pending: Pending[] = [];
      const tooLarge: RefusedAnnouncement[] = [];
      for (const announcement of announcements) {
        const entry: PutEventsRequestEntry = {
          EventBusName: eventBusName,
          Source: ANNOUNCEMENT_SOURCE,
          DetailType: announcement.detailType,
          Detail: JSON.stringify(announcement.detail),
          ...(announcement.resources ? { Resources: [...announcement.resources] } : {}),
        };
        const size = entrySize(entry);
        // Sent, it would fail its whole call, and with it the announcements batched beside it.
        if (size > MAX_CALL_BYTES) tooLarge.push({ announcement, errorCode: ENTRY_TOO_LARGE });
        else pending.push({ announcement, entry, size });
      }
      const refused = await round(pending);
      // Only the refused entries, once: the others are on the bus already.
      const stillRefused = refused.length > 0 ? await round(refused.map((r) => r.pending)) : [];
      return [...tooLarge, ...stillRefused.map(({ pending, errorCode }) => ({ announcement: pending.announcement, errorCode }))];
    },
  };
}
