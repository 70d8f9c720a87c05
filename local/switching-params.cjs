// The eventBusName and testCasesBuckets params, checked when serverless.yml is resolved (so at package
// time, before anything deploys), like alarm-notifications.cjs. Both end up in IAM resource ARNs
// (event-bus/<name>, arn:aws:s3:::<bucket>/*): "*" there would grant every bus or every bucket, and
// "a, b" would make an ARN with a space in it that grants nothing, found only when the gate first reads
// a case. The template's parameters (EventBusName, TestCasesBuckets) repeat the patterns as
// AllowedPattern, so CloudFormation refuses the same values given to it directly.
'use strict';

// A bus name, not an ARN: what lib/config.ts accepts for EVENT_BUS_NAME.
const EVENT_BUS = /^[/.\-_A-Za-z0-9]{1,256}$/;
// S3 bucket names: 3-63 lower-case letters, digits, dots and hyphens, starting and ending alphanumeric
// (what lib/config.ts accepts for each of TEST_CASES_BUCKETS), comma-separated with no spaces.
const BUCKETS = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](,[a-z0-9][a-z0-9.-]{1,61}[a-z0-9])*$/;

// osls prints a failing resolver's stack: make it the message alone, which says all there is to say.
const refuse = (message) => Object.assign(new Error(message), { stack: message });

module.exports = async ({ resolveVariable }) => {
  const param = async (name) => String((await resolveVariable(`param:${name}`)) ?? '').trim();
  const eventBusName = await param('eventBusName');
  const testCasesBuckets = await param('testCasesBuckets');
  if (eventBusName && !EVENT_BUS.test(eventBusName)) {
    throw refuse(`eventBusName ${JSON.stringify(eventBusName)} is not an event bus name (1 to 256 letters, digits, ".", "-", "_" or "/"; a name, not an ARN)`);
  }
  if (testCasesBuckets && !BUCKETS.test(testCasesBuckets)) {
    throw refuse(
      `testCasesBuckets ${JSON.stringify(testCasesBuckets)} is not a comma-separated list of S3 bucket names (3 to 63 lower-case letters, digits, "." or "-"; no spaces, no wildcards)`,
    );
  }
  return { eventBusName, testCasesBuckets };
};
