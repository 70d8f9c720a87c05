/** The one module that talks to SNS: sending a blocked or failed version to the alarm topic. */
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { type AwsClientOptions, awsClientConfig } from './aws-client';

const REQUEST_TIMEOUT_MS = 5_000;
/** SNS's limit on Subject: 100 characters. */
const MAX_SUBJECT = 100;

export interface Notification {
  readonly subject: string;
  readonly message: string;
}

export interface NotificationGateway {
  notify(notification: Notification): Promise<void>;
}

export function createSnsClient(options: AwsClientOptions = {}): SNSClient {
  return new SNSClient({
    ...awsClientConfig({ ...options, region: options.region ?? 'us-east-1' }, 3),
    requestHandler: { requestTimeout: REQUEST_TIMEOUT_MS, connectionTimeout: REQUEST_TIMEOUT_MS, throwOnRequestTimeout: true },
  });
}

export function snsGateway(client: SNSClient, topicArn: string): NotificationGateway {
  return {
    async notify({ subject, message }) {
      // Subject: ASCII, no line breaks, at most 100 characters (docs/cloudfront-api.md#alarm-notifications).
      const clean = subject.replace(/[^\x20-\x7e]/g, '?').slice(0, MAX_SUBJECT);
      await client.send(new PublishCommand({ TopicArn: topicArn, Subject: clean, Message: message }));
    },
  };
}
