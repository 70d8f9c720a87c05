/** A Lambda context as the runtime hands it over, for invoking the real handlers outside Lambda. */
import type { Context } from 'aws-lambda';

export function lambdaContext(functionName: string, account: string, timeoutMs: number): Context {
  const deadline = Date.now() + timeoutMs;
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:us-east-1:${account}:function:${functionName}`,
    memoryLimitInMB: '256',
    awsRequestId: `local-${Math.random().toString(36).slice(2)}`,
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: 'local',
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}
