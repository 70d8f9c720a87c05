/**
 * CloudTrail management-event records for the emulator's mutating calls, wrapped as EventBridge
 * delivers them ("AWS API Call via CloudTrail" on the us-east-1 default bus).
 *
 * No successful CloudFront function record is public (docs/cloudfront-api.md#cloudtrail-events): the
 * envelope, the identity and the camelCase `requestParameters` follow a public 2021 distribution
 * record; where the function's name appears and whether `eventName` carries the API-version suffix
 * are guesses, so both are variants (`cloudTrailFunctionName`, `cloudTrailEventName`;
 * emulator/VARIANTS.md). Consumers must read the records defensively.
 */
import { randomUUID } from 'node:crypto';
import type { FunctionConfig, FunctionSummary, Tag } from './model';
import type { ConnectionFunctionSummary } from './connection-functions';
import { principalIdFor, type Principal } from './iam';
import { DEFAULT_VARIANTS, type Variants } from './variants';

/** What CloudTrail writes in place of a parameter it withholds (as it does for `functionCode`). */
export const REDACTED = 'HIDDEN_DUE_TO_SECURITY_REASONS';

export type RecordShape = Pick<Variants, 'cloudTrailFunctionName' | 'cloudTrailEventName'> & Partial<Pick<Variants, 'connectionCloudTrailIdentifier'>>;

export const MUTATING_OPERATIONS = [
  'CreateFunction',
  'UpdateFunction',
  'PublishFunction',
  'DeleteFunction',
  'TagResource',
  'UntagResource',
  'CreateConnectionFunction',
  'UpdateConnectionFunction',
  'PublishConnectionFunction',
  'DeleteConnectionFunction',
] as const;
export type MutatingOperation = (typeof MUTATING_OPERATIONS)[number];

export function isMutating(operation: string): operation is MutatingOperation {
  return (MUTATING_OPERATIONS as readonly string[]).includes(operation);
}

export interface CloudTrailDetail {
  eventVersion: string;
  userIdentity: {
    type: 'IAMUser' | 'AssumedRole';
    principalId: string;
    arn: string;
    accountId: string;
    accessKeyId: string;
    /** IAM users only: a role session names its role in sessionContext.sessionIssuer instead. */
    userName?: string;
    /** Assumed roles only. */
    sessionContext?: {
      sessionIssuer: { type: 'Role'; principalId: string; arn: string; accountId: string; userName: string };
      attributes: { creationDate: string; mfaAuthenticated: 'false' };
    };
  };
  eventTime: string;
  eventSource: 'cloudfront.amazonaws.com';
  eventName: string;
  awsRegion: 'us-east-1';
  sourceIPAddress: string;
  userAgent: string;
  errorCode?: string;
  errorMessage?: string;
  /** An object, null for a failed call, or `REDACTED` under `cloudTrailFunctionName: 'neither'`. */
  requestParameters: Record<string, unknown> | string | null;
  responseElements: Record<string, unknown> | null;
  requestID: string;
  eventID: string;
  readOnly: false;
  eventType: 'AwsApiCall';
  managementEvent: true;
  recipientAccountId: string;
  eventCategory: 'Management';
}

export interface CloudTrailEvent {
  version: '0';
  id: string;
  'detail-type': 'AWS API Call via CloudTrail';
  source: 'aws.cloudfront';
  account: string;
  time: string;
  region: 'us-east-1';
  resources: string[];
  detail: CloudTrailDetail;
}

export interface Caller {
  accessKeyId: string;
  /** Name used as the IAM user in records and in the publish log. */
  actor: string;
  sourceIp: string;
  userAgent: string;
  /** The principal behind the key; absent = the IAM user `actor` of the recipient account. */
  identity?: Principal;
}

/** What the server knows about one finished call, in model terms. */
export interface CallRecord {
  operation: MutatingOperation;
  caller: Caller;
  requestId: string;
  time: Date;
  name?: string;
  ifMatch?: string;
  config?: FunctionConfig;
  resource?: string;
  tags?: Tag[];
  tagKeys?: string[];
  summary?: FunctionSummary;
  etag?: string;
  /** Connection functions: the Id the call addressed (or created), and the answer's summary. */
  id?: string;
  connectionSummary?: ConnectionFunctionSummary;
  error?: { code: string; message: string };
}

/** CloudTrail writes seconds, no fraction. */
function trailTime(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function configElements(config: FunctionConfig): Record<string, unknown> {
  return {
    comment: config.comment,
    runtime: config.runtime,
    ...(config.keyValueStoreArns.length
      ? {
          keyValueStoreAssociations: {
            quantity: config.keyValueStoreArns.length,
            items: config.keyValueStoreArns.map((keyValueStoreARN) => ({ keyValueStoreARN })),
          },
        }
      : {}),
  };
}

/**
 * Which identifiers a connection-function request carries (variant `connectionCloudTrailIdentifier`);
 * CreateConnectionFunction's request has only the name.
 */
function connectionIdentifiers(call: CallRecord, shape: RecordShape): Record<string, unknown> {
  if (call.operation === 'CreateConnectionFunction') return { name: call.name };
  const which = shape.connectionCloudTrailIdentifier ?? DEFAULT_VARIANTS.connectionCloudTrailIdentifier;
  return { ...(which === 'name' ? {} : { id: call.id }), ...(which === 'id' ? {} : { name: call.name }) };
}

function requestParameters(call: CallRecord, shape: RecordShape): Record<string, unknown> | null {
  switch (call.operation) {
    case 'CreateConnectionFunction':
    case 'UpdateConnectionFunction':
      return {
        ...connectionIdentifiers(call, shape),
        ...(call.operation === 'UpdateConnectionFunction' ? { ifMatch: call.ifMatch } : {}),
        connectionFunctionConfig: call.config ? configElements(call.config) : undefined,
        connectionFunctionCode: REDACTED,
        ...(call.tags?.length ? { tags: { items: call.tags.map((t) => ({ key: t.key, value: t.value })) } } : {}),
      };
    case 'PublishConnectionFunction':
    case 'DeleteConnectionFunction':
      return { ...connectionIdentifiers(call, shape), ifMatch: call.ifMatch };
    case 'CreateFunction':
    case 'UpdateFunction':
      return {
        name: call.name,
        ...(call.operation === 'UpdateFunction' ? { ifMatch: call.ifMatch } : {}),
        functionConfig: call.config ? configElements(call.config) : undefined,
        functionCode: REDACTED,
        ...(call.tags?.length ? { tags: { items: call.tags.map((t) => ({ key: t.key, value: t.value })) } } : {}),
      };
    case 'PublishFunction':
    case 'DeleteFunction':
      return { name: call.name, ifMatch: call.ifMatch };
    case 'TagResource':
      return { resource: call.resource, tags: { items: (call.tags ?? []).map((t) => ({ key: t.key, value: t.value })) } };
    case 'UntagResource':
      return { resource: call.resource, tagKeys: { items: [...(call.tagKeys ?? [])] } };
  }
}

function responseElements(call: CallRecord): Record<string, unknown> | null {
  const c = call.connectionSummary;
  if (c) {
    return {
      connectionFunctionSummary: {
        name: c.name,
        id: c.id,
        connectionFunctionConfig: configElements(c.config),
        connectionFunctionArn: c.arn,
        status: c.status,
        stage: c.stage,
        createdTime: c.createdTime.toISOString(),
        lastModifiedTime: c.lastModifiedTime.toISOString(),
      },
      eTag: call.etag,
    };
  }
  if (!call.summary) return null;
  const s = call.summary;
  return {
    functionSummary: {
      name: s.name,
      status: s.status,
      functionConfig: configElements(s.config),
      functionMetadata: {
        functionARN: s.arn,
        stage: s.stage,
        createdTime: s.createdTime.toISOString(),
        lastModifiedTime: s.lastModifiedTime.toISOString(),
      },
    },
    eTag: call.etag,
  };
}

/** The parameters and response as `shape` says the record carries the function's name. */
function shapedElements(call: CallRecord, shape: RecordShape): Pick<CloudTrailDetail, 'requestParameters' | 'responseElements'> {
  const request = requestParameters(call, shape);
  const response = responseElements(call);
  switch (shape.cloudTrailFunctionName) {
    case 'both':
      return { requestParameters: request, responseElements: response };
    case 'requestParameters':
      return { requestParameters: request, responseElements: null };
    case 'responseElements': {
      const { name: _name, id: _id, resource: _resource, ...rest } = request ?? {};
      return { requestParameters: rest, responseElements: response };
    }
    case 'neither':
      return { requestParameters: REDACTED, responseElements: null };
  }
}

export function cloudTrailEvent(call: CallRecord, accountId: string, partition = 'aws', shape: RecordShape = DEFAULT_VARIANTS): CloudTrailEvent {
  const failed = call.error !== undefined;
  const eventTime = trailTime(call.time);
  return {
    version: '0',
    id: randomUUID(),
    'detail-type': 'AWS API Call via CloudTrail',
    source: 'aws.cloudfront',
    account: accountId,
    time: eventTime,
    region: 'us-east-1',
    resources: [],
    detail: {
      eventVersion: '1.09',
      userIdentity: userIdentity(call.caller, accountId, partition),
      eventTime,
      eventSource: 'cloudfront.amazonaws.com',
      // The wire name carries the API version; whether CloudTrail keeps it is unconfirmed.
      eventName: shape.cloudTrailEventName === 'suffixed' ? `${call.operation}2020_05_31` : call.operation,
      awsRegion: 'us-east-1',
      sourceIPAddress: call.caller.sourceIp,
      userAgent: call.caller.userAgent,
      ...(failed ? { errorCode: call.error!.code, errorMessage: call.error!.message } : {}),
      ...(failed ? { requestParameters: null, responseElements: null } : shapedElements(call, shape)),
      requestID: call.requestId,
      eventID: randomUUID(),
      readOnly: false,
      eventType: 'AwsApiCall',
      managementEvent: true,
      recipientAccountId: accountId,
      eventCategory: 'Management',
    },
  };
}

/** Shaped like the records of events/*.json: an IAM user, or a role session with its issuer. */
function userIdentity(caller: Caller, accountId: string, partition: string): CloudTrailDetail['userIdentity'] {
  const id = caller.identity;
  if (id?.kind === 'session') {
    return {
      type: 'AssumedRole',
      principalId: id.principalId,
      arn: id.arn,
      accountId,
      accessKeyId: caller.accessKeyId,
      sessionContext: {
        sessionIssuer: { type: 'Role', principalId: id.roleId, arn: id.roleArn, accountId, userName: id.roleName },
        attributes: { creationDate: trailTime(id.issuedAt), mfaAuthenticated: 'false' },
      },
    };
  }
  return {
    type: 'IAMUser',
    principalId: id?.principalId ?? principalIdFor(caller.actor),
    arn: id?.arn ?? `arn:${partition}:iam::${accountId}:user/${caller.actor}`,
    accountId,
    accessKeyId: caller.accessKeyId,
    userName: id?.userName ?? caller.actor,
  };
}
