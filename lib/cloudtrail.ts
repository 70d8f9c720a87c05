/**
 * Reads an EventBridge "AWS API Call via CloudTrail" event and says which function it concerns.
 *
 * Four answers, on purpose: `reconcile` a function; `ignore` a valid event that is not ours (it is
 * logged and dropped); `unnamed`, an event of ours that names no function (the caller sweeps the
 * account, then fails with its error); or throw BadEventError for one we cannot understand, so that
 * Lambda's retries and the on-failure queue keep it. Names are validated here, before they reach any
 * URL path.
 *
 * No successful CloudFront function record is public, so where a record names the function is not
 * known (docs/cloudfront-api.md#cloudtrail-events): the name is read from `requestParameters`, then
 * from `responseElements`, and a record with neither is `unnamed`, not ignored.
 *
 * Connection functions (CreateConnectionFunction, UpdateConnectionFunction, TagResource on a
 * `connection-function/` ARN) are addressed by Id, and which identifiers their records carry is not
 * known either: every plausible reading is accepted (an ARN, an `id`, a `name`, in the request or in
 * the response's summary), an Id or ARN is preferred, and a record naming only part of the function
 * becomes a clue that `reconcile` resolves by reading, never by guessing.
 */
import { AutoPublishError } from './errors';
import {
  ARN_RESOURCE_TYPE,
  type ConnectionFunctionClue,
  connectionFunctionArn,
  displayOf,
  type FunctionRef,
  functionArn,
  isConnectionFunctionId,
  isFunctionName,
  parseCloudFrontArn,
  partitionOf,
} from './function-ref';

/** Who made the change, and which record says so: what the event path's outcomes carry (issue 18, audit). */
export interface Audit {
  /** `userIdentity.arn` of the record. */
  readonly actor?: string;
  /** The record's `eventID`. */
  readonly eventId?: string;
  /** For the log line only, never an announcement. */
  readonly sourceIPAddress?: string;
}

export type EventIntent =
  | { readonly kind: 'reconcile'; readonly fn: FunctionRef | ConnectionFunctionClue; readonly trigger: string; readonly audit: Audit }
  /**
   * `associationsChanged`: a distribution was created, updated or deleted, so which functions run on
   * which event types may have changed: the caller drops the associations it keeps (lib/associations.ts).
   */
  | { readonly kind: 'ignore'; readonly reason: string; readonly trigger?: string; readonly associationsChanged?: true }
  /**
   * A change in `account` (ours) whose record names no function: only a sweep of the account can
   * find it. `error` is what the invocation still fails with, so the failure queue keeps the event.
   */
  | { readonly kind: 'unnamed'; readonly account: string; readonly trigger: string; readonly error: BadEventError };

/** An event we cannot understand: a retry would read it the same way, so it goes to the queue at once. */
export class BadEventError extends AutoPublishError {
  override name = 'BadEventError';
  readonly retryable = false;
}

/** The operations that can leave a function's DEVELOPMENT stage ahead of LIVE, or newly opted in. */
export const TRIGGERING_OPERATIONS = ['CreateFunction', 'UpdateFunction', 'CreateConnectionFunction', 'UpdateConnectionFunction', 'TagResource'] as const;

const CONNECTION_OPERATIONS: readonly string[] = ['CreateConnectionFunction', 'UpdateConnectionFunction'];

/**
 * The operations that can change a distribution's function associations. The rule matches them by
 * prefix, as it does the function operations (serverless.yml), so CreateDistributionWithTags counts too.
 */
export const DISTRIBUTION_OPERATIONS = ['CreateDistribution', 'UpdateDistribution', 'DeleteDistribution'] as const;

const CLOUDTRAIL_DETAIL_TYPE = 'AWS API Call via CloudTrail';

/**
 * `UpdateFunction2020_05_31` → `UpdateFunction`: the wire names carry the API version, and whether
 * CloudTrail records do is unconfirmed (docs/cloudfront-api.md#cloudtrail-events), so both forms are read.
 */
export function normaliseEventName(eventName: string): string {
  return eventName.replace(/\d{4}_\d{2}_\d{2}$/, '');
}

export interface InterpretOptions {
  /** The account we reconcile in; events about functions of other accounts are ignored. */
  readonly account?: string | undefined;
  /** Our partition (`aws`, `aws-cn`…); events about functions of another partition are ignored. */
  readonly partition?: string | undefined;
}

type Json = Record<string, unknown>;

const isObject = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value);

export function interpretEvent(event: unknown, options: InterpretOptions = {}): EventIntent {
  // Only the shape of a whole event or detail is described, never its text: it may carry function code.
  if (!isObject(event)) throw new BadEventError(`event is ${shape(event)}, not a JSON object`);
  if (!('detail' in event) || event.detail === undefined || event.detail === null) throw new BadEventError('event has no detail');
  if (!isObject(event.detail)) throw new BadEventError(`event detail is ${shape(event.detail)}, not a JSON object`);
  if (typeof event.source !== 'string') throw new BadEventError('event has no source');
  if (typeof event['detail-type'] !== 'string') throw new BadEventError('event has no detail-type');
  const detail = event.detail;

  if (event.source !== 'aws.cloudfront' || event['detail-type'] !== CLOUDTRAIL_DETAIL_TYPE) {
    return { kind: 'ignore', reason: `not a CloudFront API call (source ${event.source}, detail-type ${event['detail-type']})` };
  }
  if (detail.eventSource !== 'cloudfront.amazonaws.com') {
    return { kind: 'ignore', reason: `eventSource ${String(detail.eventSource)} is not cloudfront.amazonaws.com` };
  }
  if (typeof detail.eventName !== 'string' || detail.eventName === '') throw new BadEventError('event detail has no eventName');
  const trigger = normaliseEventName(detail.eventName);

  if (detail.errorCode !== undefined && detail.errorCode !== null && detail.errorCode !== '') {
    return { kind: 'ignore', trigger, reason: `failed call (errorCode ${String(detail.errorCode)}) changed nothing` };
  }
  if (DISTRIBUTION_OPERATIONS.some((operation) => trigger.startsWith(operation))) {
    return { kind: 'ignore', trigger, reason: `${trigger} may change the function associations: they are read afresh`, associationsChanged: true };
  }
  if (!(TRIGGERING_OPERATIONS as readonly string[]).includes(trigger)) {
    return { kind: 'ignore', trigger, reason: `${trigger} does not change what DEVELOPMENT holds or who opted in` };
  }

  const fn =
    trigger === 'TagResource'
      ? taggedFunction(event, detail)
      : CONNECTION_OPERATIONS.includes(trigger)
        ? changedConnectionFunction(event, detail)
        : changedFunction(event, detail);
  if ('unnamed' in fn) return unnamed(event, detail, trigger, fn.unnamed, options);
  if ('reason' in fn) return { kind: 'ignore', trigger, reason: fn.reason };

  const parsed = parseCloudFrontArn(fn.arn);
  const { name } = displayOf(fn);
  if (options.partition && parsed?.partition !== options.partition) {
    return { kind: 'ignore', trigger, reason: `function ${name} is in partition ${String(parsed?.partition)}, not ${options.partition}` };
  }
  const fnAccount = parsed?.account;
  if (options.account && fnAccount !== options.account) {
    return { kind: 'ignore', trigger, reason: `function ${name} belongs to account ${String(fnAccount)}, not ${options.account}` };
  }
  return { kind: 'reconcile', fn, trigger, audit: auditOf(detail) };
}

/** Only well-formed short strings are kept: these fields land on log lines and in announcements. */
function auditOf(detail: Json): Audit {
  const identity = isObject(detail.userIdentity) ? detail.userIdentity : {};
  const field = (value: unknown) => (typeof value === 'string' && value !== '' ? truncate(value) : undefined);
  const actor = field(identity.arn);
  const eventId = field(detail.eventID);
  const sourceIPAddress = field(detail.sourceIPAddress);
  return {
    ...(actor !== undefined ? { actor } : {}),
    ...(eventId !== undefined ? { eventId } : {}),
    ...(sourceIPAddress !== undefined ? { sourceIPAddress } : {}),
  };
}

/**
 * A record of ours that names no function: the account and partition come from the envelope, and an
 * event of another account or partition stays ignored like any other.
 */
function unnamed(event: Json, detail: Json, trigger: string, message: string, options: InterpretOptions): EventIntent {
  const account = firstAccount(event.account, detail.recipientAccountId);
  if (account === undefined) throw new BadEventError(`${message}, and names no 12-digit account`);
  const partition = partitionOf(regionOf(event, detail));
  if (options.partition && partition !== options.partition) {
    return { kind: 'ignore', trigger, reason: `a ${trigger} record naming no function, from partition ${partition}, not ${options.partition}` };
  }
  if (options.account && account !== options.account) {
    return { kind: 'ignore', trigger, reason: `a ${trigger} record naming no function, from account ${account}, not ${options.account}` };
  }
  return { kind: 'unnamed', account, trigger, error: new BadEventError(message) };
}

type Unnamed = { unnamed: string };

/** TagResource names the resource by ARN; only function ARNs (of either kind) concern us. */
function taggedFunction(event: Json, detail: Json): FunctionRef | ConnectionFunctionClue | { reason: string } | Unnamed {
  const params = detail.requestParameters;
  if (!isObject(params) || params.resource === undefined || params.resource === null || params.resource === '') {
    return { unnamed: `${String(detail.eventName)} record has no requestParameters.resource` };
  }
  if (typeof params.resource !== 'string')
    throw new BadEventError(`TagResource requestParameters.resource is ${describe(params.resource)}, not a resource ARN`);
  const arn = parseCloudFrontArn(params.resource);
  if (!arn) return { reason: `tagged resource ${truncate(params.resource)} is not a CloudFront ARN` };
  if (arn.resourceType === ARN_RESOURCE_TYPE.connection) return connectionFunctionOf(event, detail, { arn: params.resource });
  if (arn.resourceType !== 'function') return { reason: `tagged resource is a ${arn.resourceType}, not a function` };
  if (!isFunctionName(arn.resourceId)) {
    throw new BadEventError(`TagResource names ${JSON.stringify(truncate(arn.resourceId))}, which is not a valid function name`);
  }
  return { name: arn.resourceId, arn: params.resource };
}

/**
 * Create/Update records: the name from requestParameters, then responseElements.functionSummary
 * (either may be absent, or requestParameters a redaction string: docs/cloudfront-api.md#cloudtrail-events).
 */
function changedFunction(event: Json, detail: Json): FunctionRef | Unnamed {
  const params = isObject(detail.requestParameters) ? detail.requestParameters : {};
  const response = isObject(detail.responseElements) ? detail.responseElements : {};
  const summary = isObject(response.functionSummary) ? response.functionSummary : {};
  const metadata = isObject(summary.functionMetadata) ? summary.functionMetadata : {};

  const name = firstPresent(params.name, summary.name);
  if (name === undefined)
    return { unnamed: `${String(detail.eventName)} record has no function name (requestParameters.name or responseElements.functionSummary.name)` };
  if (!isFunctionName(name)) {
    throw new BadEventError(`${String(detail.eventName)} names ${describe(name)}, which is not a valid function name`);
  }

  const reportedArn = typeof metadata.functionARN === 'string' ? parseCloudFrontArn(metadata.functionARN) : undefined;
  if (reportedArn?.resourceType === 'function' && reportedArn.resourceId === name) {
    return { name, arn: metadata.functionARN as string };
  }
  const account = firstAccount(event.account, detail.recipientAccountId);
  if (account === undefined) throw new BadEventError(`${String(detail.eventName)} record names no 12-digit account for ${name}`);
  return { name, arn: functionArn(partitionOf(regionOf(event, detail)), account, name) };
}

/**
 * Create/UpdateConnectionFunction records. Where they name the function is unconfirmed: the request's
 * `id` (Update's path) or `name` (Create's body), the response's summary (`connectionFunctionSummary`
 * with `id`, `name`, `connectionFunctionArn`, as the API's answer has them). Every reading is taken.
 */
function changedConnectionFunction(event: Json, detail: Json): FunctionRef | ConnectionFunctionClue | Unnamed {
  const params = isObject(detail.requestParameters) ? detail.requestParameters : {};
  const response = isObject(detail.responseElements) ? detail.responseElements : {};
  const summary = isObject(response.connectionFunctionSummary) ? response.connectionFunctionSummary : response;
  const found = connectionFunctionOf(event, detail, {
    arn: firstPresent(summary.connectionFunctionArn, summary.connectionFunctionARN, params.connectionFunctionArn),
    id: firstPresent(params.id, params.identifier, summary.id),
    name: firstPresent(params.name, summary.name),
  });
  return found;
}

/**
 * A connection function from what a record holds of it. An ARN gives the account, and its last part
 * is the Id or, under the other reading of the ARN, the name (docs/cloudfront-api.md#connection-functions:
 * `connection-function/<Id>` is inferred, the guide's one example ends in the name); an Id without
 * one takes the account from the envelope. Both an Id and a name: a whole ref. Only one of them: a
 * clue. None: unnamed. Any identifier that is there but malformed, or an ARN that ends in neither the
 * Id nor the name the record gives, is a record we do not understand.
 */
function connectionFunctionOf(
  event: Json,
  detail: Json,
  found: { arn?: unknown; id?: unknown; name?: unknown },
): FunctionRef | ConnectionFunctionClue | Unnamed {
  const what = String(detail.eventName);
  let arn: string | undefined;
  let arnPart: string | undefined;
  if (found.arn !== undefined) {
    const parsed = typeof found.arn === 'string' ? parseCloudFrontArn(found.arn) : undefined;
    if (parsed?.resourceType !== ARN_RESOURCE_TYPE.connection)
      throw new BadEventError(`${what} names ${describe(found.arn)}, which is not a connection function ARN`);
    if (!isConnectionFunctionId(parsed.resourceId))
      throw new BadEventError(`${what} names connection function Id ${describe(parsed.resourceId)}, which is not a valid Id`);
    arnPart = parsed.resourceId;
    arn = found.arn as string;
  }
  if (found.id !== undefined && !isConnectionFunctionId(found.id)) {
    throw new BadEventError(`${what} names connection function Id ${describe(found.id)}, which is not a valid Id`);
  }
  if (found.name !== undefined && !isFunctionName(found.name)) {
    throw new BadEventError(`${what} names ${describe(found.name)}, which is not a valid function name`);
  }
  const name = found.name as string | undefined;
  let id = found.id as string | undefined;
  if (arnPart !== undefined && id !== undefined && arnPart !== id && arnPart !== name)
    throw new BadEventError(`${what} names two connection functions: ARN ${describe(arn)} and Id ${describe(id)}`);
  // An ARN alone: its last part is taken for the Id, which resolveConnectionFunction checks by reading.
  if (id === undefined && arnPart !== undefined && arnPart !== name) id = arnPart;
  if (id === undefined && name === undefined) {
    return { unnamed: `${what} record names no connection function (requestParameters.id or .name, or responseElements.connectionFunctionSummary)` };
  }
  const account = parseCloudFrontArn(arn ?? '')?.account ?? firstAccount(event.account, detail.recipientAccountId);
  if (account === undefined) throw new BadEventError(`${what} record names no 12-digit account for connection function ${id ?? name}`);
  const partition = parseCloudFrontArn(arn ?? '')?.partition ?? partitionOf(regionOf(event, detail));
  if (id !== undefined) {
    arn ??= connectionFunctionArn(partition, account, id);
    return name !== undefined ? { kind: 'connection', id, name, arn } : { kind: 'connection', unresolved: true, id, arn };
  }
  return { kind: 'connection', unresolved: true, name: name as string, arn: arn ?? connectionFunctionArn(partition, account, '*') };
}

function regionOf(event: Json, detail: Json): string | undefined {
  return typeof detail.awsRegion === 'string' ? detail.awsRegion : typeof event.region === 'string' ? event.region : undefined;
}

function firstPresent(...values: unknown[]): unknown {
  return values.find((v) => v !== undefined && v !== null && v !== '');
}

function firstAccount(...values: unknown[]): string | undefined {
  return values.find((v): v is string => typeof v === 'string' && /^\d{12}$/.test(v));
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return JSON.stringify(truncate(value));
  return typeof value === 'object' ? 'an object' : `${typeof value} ${String(value)}`;
}

/** A short token (`UpdateFunction`) is echoed; any other text only by its length. */
function shape(value: unknown): string {
  return typeof value === 'string' && !/^[\w.:-]{0,64}$/.test(value) ? `a string of ${value.length} characters` : describe(value);
}

function truncate(text: string, max = 80): string {
  return text.length > max ? `${text.slice(0, max - 3)}...` : text;
}
