/**
 * What the reconciler may do in CloudFront, wherever it runs: the single-account ReconcilerRole and
 * organisation mode's member role hold exactly these (test/serverless-template.test.ts and
 * test/member-template.test.ts). No Create, Update, Delete, Tag or Untag, for either kind of function.
 */
export const FUNCTION_ACTIONS = [
  'cloudfront:DescribeFunction',
  'cloudfront:GetFunction',
  'cloudfront:ListTagsForResource',
  'cloudfront:PublishFunction',
  'cloudfront:TestFunction',
] as const;

/** The same calls for connection functions, scoped to the account's `connection-function/*`. */
export const CONNECTION_FUNCTION_ACTIONS = [
  'cloudfront:DescribeConnectionFunction',
  'cloudfront:GetConnectionFunction',
  'cloudfront:ListTagsForResource',
  'cloudfront:PublishConnectionFunction',
  'cloudfront:TestConnectionFunction',
] as const;

/** The three with no resource-level scoping (Resource "*"). */
export const UNSCOPED_CLOUDFRONT_ACTIONS: readonly string[] = [
  'cloudfront:ListConnectionFunctions',
  'cloudfront:ListDistributions',
  'cloudfront:ListFunctions',
];

export const RECONCILER_CLOUDFRONT_ACTIONS = [...new Set([...FUNCTION_ACTIONS, ...CONNECTION_FUNCTION_ACTIONS, ...UNSCOPED_CLOUDFRONT_ACTIONS])].sort();

export const FUNCTION_ARN = { 'Fn::Sub': 'arn:aws:cloudfront::${AWS::AccountId}:function/*' };
export const CONNECTION_FUNCTION_ARN = { 'Fn::Sub': 'arn:${AWS::Partition}:cloudfront::${AWS::AccountId}:connection-function/*' };

/**
 * Every CloudFront action granted, with the resources of the statement granting it, sorted: each
 * function-level action once per kind it serves (ListTagsForResource serves both), on that kind's ARNs.
 */
export function expectedCloudFrontGrants(): [string, unknown[]][] {
  return sortGrants([
    ...FUNCTION_ACTIONS.map((a): [string, unknown[]] => [a, [FUNCTION_ARN]]),
    ...CONNECTION_FUNCTION_ACTIONS.map((a): [string, unknown[]] => [a, [CONNECTION_FUNCTION_ARN]]),
    ...UNSCOPED_CLOUDFRONT_ACTIONS.map((a): [string, unknown[]] => [a, ['*']]),
  ]);
}

export function sortGrants(grants: readonly (readonly [string, readonly unknown[]])[]): [string, unknown[]][] {
  return grants.map(([a, r]): [string, unknown[]] => [a, [...r]]).sort((x, y) => JSON.stringify(x).localeCompare(JSON.stringify(y)));
}
