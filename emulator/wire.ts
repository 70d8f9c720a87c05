/**
 * REST-XML shapes of the 2020-05-31 API for the function and tagging calls: request bodies in,
 * response documents out. Element names and nesting mirror the SDK's schemas
 * (@aws-sdk/client-cloudfront, e.g. `FunctionSummary$`, `Tags$`, `TestResult$`).
 */
import type { FunctionConfig, FunctionSummary, ListResult, Tag } from './model';
import type { CacheBehaviorView, DistributionListResult, DistributionView } from './distributions';
import { errors } from './model';
import { child, children, childText, document, el, parseXml, XmlParseError, type XmlElement, type XmlFragment, type XmlNode } from './xml';
import type { TestRun } from './runtime';
import type { ConnectionFunctionListResult, ConnectionFunctionSummary } from './connection-functions';
import type { ConnectionTestRun } from './connection-runtime';

export function parseBody(body: string, expectedRoot: string): XmlElement {
  let root: XmlElement;
  try {
    root = parseXml(body);
  } catch (error) {
    if (error instanceof XmlParseError) throw errors.invalidArgument(`The XML you provided was not well-formed: ${error.message}`);
    throw error;
  }
  if (root.name !== expectedRoot) throw errors.invalidArgument(`Expected a ${expectedRoot} document, got ${root.name}.`);
  return root;
}

/** `FunctionConfig`, under its own name (`ConnectionFunctionConfig` for connection functions). */
export function readFunctionConfig(parent: XmlElement, element = 'FunctionConfig'): FunctionConfig {
  const config = child(parent, element);
  if (!config) throw errors.invalidArgument(`${element} is required.`);
  const associations = child(child(config, 'KeyValueStoreAssociations'), 'Items');
  return {
    comment: childText(config, 'Comment') ?? '',
    runtime: childText(config, 'Runtime') ?? '',
    keyValueStoreArns: children(associations, 'KeyValueStoreAssociation').map((a) => childText(a, 'KeyValueStoreARN') ?? ''),
  };
}

export function readBlob(parent: XmlElement, name: string): Buffer | undefined {
  const text = childText(parent, name);
  if (text === undefined) return undefined;
  const trimmed = text.trim();
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(trimmed) || trimmed.length % 4 !== 0) {
    throw errors.invalidArgument(`${name} must be base64-encoded.`);
  }
  return Buffer.from(trimmed, 'base64');
}

/** `<Tags><Items><Tag><Key/><Value/></Tag>…</Items></Tags>`; a missing Value is the empty string. */
export function readTags(tags: XmlElement | undefined): Tag[] {
  return children(child(tags, 'Items'), 'Tag').map((t) => ({ key: childText(t, 'Key') ?? '', value: childText(t, 'Value') ?? '' }));
}

export function readTagKeys(tagKeys: XmlElement): string[] {
  return children(child(tagKeys, 'Items'), 'Key').map((k) => k.text);
}

function configXml(config: FunctionConfig, element = 'FunctionConfig'): XmlFragment {
  return el(
    element,
    el('Comment', config.comment),
    el('Runtime', config.runtime),
    config.keyValueStoreArns.length
      ? el(
          'KeyValueStoreAssociations',
          el('Quantity', String(config.keyValueStoreArns.length)),
          el('Items', ...config.keyValueStoreArns.map((arn) => el('KeyValueStoreAssociation', el('KeyValueStoreARN', arn)))),
        )
      : undefined,
  );
}

function summaryChildren(s: FunctionSummary): XmlFragment[] {
  return [
    el('Name', s.name),
    el('Status', s.status),
    configXml(s.config),
    el(
      'FunctionMetadata',
      el('FunctionARN', s.arn),
      el('Stage', s.stage),
      el('CreatedTime', s.createdTime.toISOString()),
      el('LastModifiedTime', s.lastModifiedTime.toISOString()),
    ),
  ];
}

export function functionSummaryDocument(s: FunctionSummary): string {
  return document('FunctionSummary', ...summaryChildren(s));
}

export function functionListDocument(list: ListResult): string {
  return document(
    'FunctionList',
    list.nextMarker === undefined ? undefined : el('NextMarker', list.nextMarker),
    el('MaxItems', String(list.maxItems)),
    el('Quantity', String(list.items.length)),
    list.items.length ? el('Items', ...list.items.map((s) => el('FunctionSummary', ...summaryChildren(s)))) : undefined,
  );
}

export function tagsDocument(tags: Tag[]): string {
  return document('Tags', tags.length ? el('Items', ...tags.map((t) => el('Tag', el('Key', t.key), el('Value', t.value)))) : undefined);
}

export function testResultDocument(summary: FunctionSummary, run: TestRun): string {
  return document(
    'TestResult',
    el('FunctionSummary', ...summaryChildren(summary)),
    el('ComputeUtilization', run.computeUtilization),
    el('FunctionExecutionLogs', ...run.logs.map((line) => el('member', line))),
    el('FunctionErrorMessage', run.errorMessage),
    el('FunctionOutput', run.output),
  );
}

/** ConnectionFunctionSummary's members, in the model's order; the summary is flat (no metadata element). */
function connectionSummaryChildren(s: ConnectionFunctionSummary): XmlFragment[] {
  return [
    el('Name', s.name),
    el('Id', s.id),
    configXml(s.config, 'ConnectionFunctionConfig'),
    el('ConnectionFunctionArn', s.arn),
    el('Status', s.status),
    el('Stage', s.stage),
    el('CreatedTime', s.createdTime.toISOString()),
    el('LastModifiedTime', s.lastModifiedTime.toISOString()),
  ];
}

/** The payload of Create/Update/Describe/PublishConnectionFunction. */
export function connectionSummaryDocument(s: ConnectionFunctionSummary): string {
  return document('ConnectionFunctionSummary', ...connectionSummaryChildren(s));
}

/** ListConnectionFunctionsResult: no payload member, so the members sit under the output's root; no Quantity, no MaxItems. */
export function connectionListDocument(list: ConnectionFunctionListResult): string {
  return document(
    'ListConnectionFunctionsResult',
    list.nextMarker === undefined ? undefined : el('NextMarker', list.nextMarker),
    el('ConnectionFunctions', ...list.items.map((s) => el('ConnectionFunctionSummary', ...connectionSummaryChildren(s)))),
  );
}

/** TestConnectionFunction's payload: the run as emulator/connection-runtime.ts reports it. */
export function connectionTestResultDocument(summary: ConnectionFunctionSummary, run: ConnectionTestRun): string {
  return document(
    'ConnectionFunctionTestResult',
    el('ConnectionFunctionSummary', ...connectionSummaryChildren(summary)),
    el('ComputeUtilization', run.computeUtilization),
    el('ConnectionFunctionExecutionLogs', ...run.logs.map((line) => el('member', line))),
    el('ConnectionFunctionErrorMessage', run.errorMessage),
    el('ConnectionFunctionOutput', run.output),
  );
}

/**
 * Function associations as DistributionSummary carries them. The other members of a cache behaviour
 * are fixed, plausible values: the SDK and the CLI parse them, the emulator does not model them.
 */
function behaviorChildren(b: CacheBehaviorView): XmlFragment[] {
  const quantityOnly = (name: string) => el(name, el('Quantity', '0'));
  const methods = (name: string, list: string[], ...extra: XmlNode[]) =>
    el(name, el('Quantity', String(list.length)), el('Items', ...list.map((m) => el('Method', m))), ...extra);
  return [
    ...(b.pathPattern === undefined ? [] : [el('PathPattern', b.pathPattern)]),
    el('TargetOriginId', b.targetOriginId),
    el('TrustedSigners', el('Enabled', 'false'), el('Quantity', '0')),
    el('TrustedKeyGroups', el('Enabled', 'false'), el('Quantity', '0')),
    el('ViewerProtocolPolicy', 'redirect-to-https'),
    methods('AllowedMethods', ['HEAD', 'GET'], methods('CachedMethods', ['HEAD', 'GET'])),
    el('SmoothStreaming', 'false'),
    el('Compress', 'true'),
    quantityOnly('LambdaFunctionAssociations'),
    el(
      'FunctionAssociations',
      el('Quantity', String(b.functionAssociations.length)),
      b.functionAssociations.length
        ? el('Items', ...b.functionAssociations.map((a) => el('FunctionAssociation', el('FunctionARN', a.functionArn), el('EventType', a.eventType))))
        : undefined,
    ),
    el('FieldLevelEncryptionId', ''),
    // The managed CachingOptimized policy.
    el('CachePolicyId', '658327ea-f89d-4fab-a63d-7e88639e58f6'),
  ];
}

function distributionSummary(d: DistributionView): XmlFragment {
  return el(
    'DistributionSummary',
    el('Id', d.id),
    el('ARN', d.arn),
    el('Status', d.status),
    el('LastModifiedTime', d.lastModifiedTime.toISOString()),
    el('DomainName', d.domainName),
    el('Aliases', el('Quantity', '0')),
    el(
      'Origins',
      el('Quantity', '1'),
      el(
        'Items',
        el(
          'Origin',
          el('Id', d.originId),
          el('DomainName', d.originDomainName),
          el('OriginPath', ''),
          el('CustomHeaders', el('Quantity', '0')),
          el('S3OriginConfig', el('OriginAccessIdentity', '')),
          el('ConnectionAttempts', '3'),
          el('ConnectionTimeout', '10'),
          el('OriginShield', el('Enabled', 'false')),
          el('OriginAccessControlId', ''),
        ),
      ),
    ),
    el('OriginGroups', el('Quantity', '0')),
    el('DefaultCacheBehavior', ...behaviorChildren(d.defaultCacheBehavior)),
    el(
      'CacheBehaviors',
      el('Quantity', String(d.cacheBehaviors.length)),
      d.cacheBehaviors.length ? el('Items', ...d.cacheBehaviors.map((b) => el('CacheBehavior', ...behaviorChildren(b)))) : undefined,
    ),
    el('CustomErrorResponses', el('Quantity', '0')),
    el('Comment', d.comment),
    el('PriceClass', 'PriceClass_All'),
    el('Enabled', String(d.enabled)),
    el(
      'ViewerCertificate',
      el('CloudFrontDefaultCertificate', 'true'),
      el('SSLSupportMethod', 'vip'),
      el('MinimumProtocolVersion', 'TLSv1'),
      el('CertificateSource', 'cloudfront'),
    ),
    el('Restrictions', el('GeoRestriction', el('RestrictionType', 'none'), el('Quantity', '0'))),
    el('WebACLId', ''),
    el('HttpVersion', 'http2'),
    el('IsIPV6Enabled', 'true'),
    el('Staging', 'false'),
    d.viewerMtls ? el('ViewerMtlsConfig', el('Mode', d.viewerMtls.mode), el('TrustStoreConfig', el('TrustStoreId', d.viewerMtls.trustStoreId))) : undefined,
    d.connectionFunctionId === undefined ? undefined : el('ConnectionFunctionAssociation', el('Id', d.connectionFunctionId)),
  );
}

export function distributionListDocument(list: DistributionListResult): string {
  return document(
    'DistributionList',
    el('Marker', list.marker),
    list.nextMarker === undefined ? undefined : el('NextMarker', list.nextMarker),
    el('MaxItems', String(list.maxItems)),
    el('IsTruncated', String(list.isTruncated)),
    el('Quantity', String(list.items.length)),
    list.items.length ? el('Items', ...list.items.map(distributionSummary)) : undefined,
  );
}

/** TestFunctionRequest.EventObject's limit in the API model (FunctionEventObject). */
export const MAX_EVENT_OBJECT_BYTES = 40960;

/**
 * The EventObject (or, for connection functions, ConnectionObject: the same FunctionEventObject shape)
 * blob as the JSON text to run with: required, at most 40960 bytes, a JSON object.
 */
export function checkEventObject(event: Buffer | undefined, member = 'EventObject'): string {
  if (event === undefined) throw errors.invalidArgument(`${member} is required.`);
  if (event.length > MAX_EVENT_OBJECT_BYTES) {
    throw errors.invalidArgument(`${member} is ${event.length} bytes; the maximum is ${MAX_EVENT_OBJECT_BYTES}.`);
  }
  const text = event.toString('utf8');
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw errors.invalidArgument(`${member} must be a JSON document.`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw errors.invalidArgument(`${member} must be a JSON object.`);
  return text;
}

/**
 * TestResult.FunctionOutput as CloudFront wraps it (docs/cloudfront-api.md, TestFunction):
 * `{"request": …}` for what a viewer-request function returns, `{"response": …}` for a
 * viewer-response function. A viewer-request function that answers the viewer itself (returns an
 * object with a `statusCode`) gets `{"response": …}` (inferred from the event structure: that object
 * is a response). The event type is read from `context.eventType`; an event without one is treated as
 * viewer-request. An empty output (the function failed) stays empty.
 */
export function wrapFunctionOutput(eventJson: string, output: string): string {
  if (output === '') return '';
  let eventType: unknown;
  let value: unknown;
  try {
    eventType = (JSON.parse(eventJson) as { context?: { eventType?: unknown } } | null)?.context?.eventType;
    value = JSON.parse(output);
  } catch {
    return output;
  }
  const answersViewer = typeof value === 'object' && value !== null && 'statusCode' in value;
  const key = eventType === 'viewer-response' || answersViewer ? 'response' : 'request';
  return JSON.stringify({ [key]: value });
}

export function errorDocument(type: string, code: string, message: string, requestId: string): string {
  // Same root and nesting the SDK's rest-xml error parser reads: ErrorResponse/Error/Code.
  return document('ErrorResponse', el('Error', el('Type', type), el('Code', code), el('Message', message)), el('RequestId', requestId));
}
