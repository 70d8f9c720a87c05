/**
 * What the reconciler may do in CloudFront, wherever it runs: the single-account ReconcilerRole and
 * organisation mode's member role hold exactly these (test/serverless-template.test.ts and
 * test/member-template.test.ts). No Create, Update, Delete, Tag or Untag.
 */
export const RECONCILER_CLOUDFRONT_ACTIONS = [
  'cloudfront:DescribeFunction',
  'cloudfront:GetFunction',
  'cloudfront:ListDistributions',
  'cloudfront:ListFunctions',
  'cloudfront:ListTagsForResource',
  'cloudfront:PublishFunction',
  'cloudfront:TestFunction',
] as const;

/** The two with no resource-level scoping (Resource "*"); the others are scoped to the account's `function/*`. */
export const UNSCOPED_CLOUDFRONT_ACTIONS: readonly string[] = ['cloudfront:ListDistributions', 'cloudfront:ListFunctions'];
