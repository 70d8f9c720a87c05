// The alarmTopicArn and alarmEmail params, checked when serverless.yml is resolved (so at package time,
// before anything deploys): at most one of the two, and each in a form CloudWatch can notify. serverless.yml
// reads them as `${file(./local/alarm-notifications.cjs)}`, so no value reaches the template unchecked.
// The template's parameters (AlarmTopicArn, AlarmEmail) repeat the two patterns as AllowedPattern.
'use strict';

// A standard SNS topic in us-east-1: an alarm notifies topics in its own region only (and not FIFO ones).
const TOPIC_ARN = /^arn:aws:sns:us-east-1:[0-9]{12}:[A-Za-z0-9_-]{1,256}$/;
const EMAIL = /^[^@\s,]+@[^@\s,]+\.[^@\s,]+$/;

// osls prints a failing resolver's stack: make it the message alone, which says all there is to say.
const refuse = (message) => Object.assign(new Error(message), { stack: message });

module.exports = async ({ resolveVariable }) => {
  const topicArn = String((await resolveVariable('param:alarmTopicArn')) ?? '').trim();
  const email = String((await resolveVariable('param:alarmEmail')) ?? '').trim();
  if (topicArn && email) {
    throw refuse(
      'set alarmTopicArn or alarmEmail, not both: with alarmTopicArn the alarms notify that topic (subscribe the address to it yourself); ' +
        'with alarmEmail the stack creates a topic and subscribes the address',
    );
  }
  if (topicArn && !TOPIC_ARN.test(topicArn)) {
    throw refuse(
      `alarmTopicArn ${JSON.stringify(topicArn)} is not a standard SNS topic in us-east-1 (arn:aws:sns:us-east-1:<account>:<name>); alarms can notify only topics in their own region`,
    );
  }
  if (email && !EMAIL.test(email)) throw refuse(`alarmEmail ${JSON.stringify(email)} is not one email address`);
  return { topicArn, email };
};
