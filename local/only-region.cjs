// provider.region, checked when serverless.yml is resolved: us-east-1, or packaging fails saying why.
// CloudFront is global and its CloudTrail management events reach EventBridge in us-east-1 only
// (docs/cloudfront-api.md#cloudtrail-events): a rule in any other region never fires, and stacks in
// several regions would each reconcile, and publish, the same functions.
'use strict';

const ONLY_REGION = 'us-east-1';

const refuse = (message) => Object.assign(new Error(message), { stack: message });

module.exports = async ({ options }) => {
  const region = String(options.region ?? ONLY_REGION).trim();
  if (region !== ONLY_REGION) {
    throw refuse(
      `region ${JSON.stringify(region)}: cloudfront-autopublish deploys to ${ONLY_REGION} only. CloudFront is global and its CloudTrail ` +
        `events reach EventBridge in ${ONLY_REGION} only, so a rule in ${region} would never fire (docs/cloudfront-api.md#cloudtrail-events). ` +
        'Leave out --region.',
    );
  }
  return region;
};
