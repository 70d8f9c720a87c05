/**
 * The EventBridge rule pattern exactly as docs/cloudfront-api.md#cloudtrail-events gives it (prefix matches, never
 * PublishFunction). Tests compare serverless.yml and the emulator's events against this one copy.
 */
export const SHARED_DOC_PATTERN = {
  source: ['aws.cloudfront'],
  'detail-type': ['AWS API Call via CloudTrail'],
  detail: {
    eventSource: ['cloudfront.amazonaws.com'],
    eventName: [
      { prefix: 'CreateFunction' },
      { prefix: 'UpdateFunction' },
      { prefix: 'CreateConnectionFunction' },
      { prefix: 'UpdateConnectionFunction' },
      { prefix: 'TagResource' },
      // Only to drop the associations a container keeps (lib/associations.ts).
      { prefix: 'CreateDistribution' },
      { prefix: 'UpdateDistribution' },
      { prefix: 'DeleteDistribution' },
    ],
  },
};
