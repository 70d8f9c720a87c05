/** The one module that talks to EventBridge: announcing outcomes on a bus. */
import { type AwsClientOptions, awsClientConfig } from './aws-client';
import { AutoPublishError } from './errors';
import { EventBridgeClient, PutEventsCommand, type PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';

export interface Announcement {
  readonly detailType: string;
  readonly detail: Readonly<Record<string, unknown>>;
  readonly resources?: readonly string[];
}

export interface EventBridgeGateway {
  /** Sends every announcement, 10 per call, retrying failed entries; throws if some never get through. */
  announce(announcements: readonly Announcement[]): Promise<void>;
}

export const ANNOUNCEMENT_SOURCE = 'cloudfront-autopublish';
/** PutEvents takes 1–10 entries per call. */
export const MAX_ENTRIES_PER_CALL = 10;
const MAX_ROUNDS = 3;

export class AnnounceError extends AutoPublishError {
  override name = 'AnnounceError';
  readonly retryable = true;
}

export function createEventBridgeClient(options: AwsClientOptions = {}): EventBridgeClient {
  return new EventBridgeClient(awsClientConfig(options, 5));
}

export function eventBridgeGateway(client: EventBridgeClient, eventBusName: string): EventBridgeGateway {
  return {
    async announce(announcements) {
      let pending: PutEventsRequestEntry[] = announcements.map((a) => ({
        EventBusName: eventBusName,
        Source: ANNOUNCEMENT_SOURCE,
        DetailType: a.detailType,
        Detail: JSON.stringify(a.detail),
        ...(a.resources ? { Resources: [...a.resources] } : {}),
      }));
      const errors = new Set<string>();
      for (let round = 0; round < MAX_ROUNDS && pending.length > 0; round++) {
        const failed: PutEventsRequestEntry[] = [];
        for (let i = 0; i < pending.length; i += MAX_ENTRIES_PER_CALL) {
          const batch = pending.slice(i, i + MAX_ENTRIES_PER_CALL);
          const out = await client.send(new PutEventsCommand({ Entries: batch }));
          if (!out.FailedEntryCount) continue;
          // Results line up with the entries sent; a failed one carries an ErrorCode.
          out.Entries?.forEach((result, index) => {
            if (result.ErrorCode) {
              errors.add(result.ErrorCode);
              failed.push(batch[index] as PutEventsRequestEntry);
            }
          });
        }
        pending = failed;
      }
      if (pending.length > 0) {
        throw new AnnounceError(`${pending.length} announcement(s) on ${eventBusName} failed after ${MAX_ROUNDS} rounds (${[...errors].join(', ')})`);
      }
    },
  };
}
