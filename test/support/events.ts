/** CloudTrail-via-EventBridge events shaped like the samples in events/, built per test. */
import { ACCOUNT, arnOf } from './fake-cloudfront';

export function apiCall(eventName: string, detail: Record<string, unknown> = {}, envelope: Record<string, unknown> = {}) {
  return {
    version: '0',
    id: 'evt-1',
    'detail-type': 'AWS API Call via CloudTrail',
    source: 'aws.cloudfront',
    account: ACCOUNT,
    time: '2026-11-27T10:15:42Z',
    region: 'us-east-1',
    resources: [],
    detail: {
      eventVersion: '1.09',
      eventSource: 'cloudfront.amazonaws.com',
      eventName,
      awsRegion: 'us-east-1',
      eventID: 'e-1',
      recipientAccountId: ACCOUNT,
      ...detail,
    },
    ...envelope,
  };
}

export const updateEvent = (name: string, suffix = '2020_05_31') =>
  apiCall(`UpdateFunction${suffix}`, {
    requestParameters: { name, ifMatch: 'EOLD', functionCode: 'HIDDEN_DUE_TO_SECURITY_REASONS' },
    responseElements: { functionSummary: { name, status: 'UNPUBLISHED' }, eTag: 'ENEW' },
  });

export const createEvent = (name: string) =>
  apiCall('CreateFunction', { requestParameters: { name, functionCode: 'HIDDEN_DUE_TO_SECURITY_REASONS' }, responseElements: null });

export const tagEvent = (resource: string, tags: unknown = { items: [{ key: 'auto-publish', value: 'true' }] }) =>
  apiCall('TagResource2020_05_31', { requestParameters: { resource, tags }, responseElements: null });

export const tagFunctionEvent = (name: string) => tagEvent(arnOf(name));
