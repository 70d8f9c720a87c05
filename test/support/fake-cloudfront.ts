/**
 * A small stateful stand-in for CloudFront, on aws-sdk-client-mock. It answers the calls the
 * reconciler makes from in-memory tables (ordinary functions by name, connection functions by Id), so
 * tests can check the decisions and count the calls; the wire protocol itself is checked against the
 * emulator.
 */
import {
  CloudFrontClient,
  DescribeConnectionFunctionCommand,
  DescribeFunctionCommand,
  EntityNotFound,
  GetConnectionFunctionCommand,
  ListConnectionFunctionsCommand,
  PublishConnectionFunctionCommand,
  TestConnectionFunctionCommand,
  GetFunctionCommand,
  ListFunctionsCommand,
  ListTagsForResourceCommand,
  NoSuchFunctionExists,
  NoSuchResource,
  PreconditionFailed,
  PublishFunctionCommand,
  ListDistributionsCommand,
  TestFunctionCommand,
} from '@aws-sdk/client-cloudfront';
import { mockClient } from 'aws-sdk-client-mock';

export const ACCOUNT = '123456789012';
/** The code the fake holds for a version: it names the version's ETag. */
export const codeOf = (etag: string) => new TextEncoder().encode(`function handler(event) { return event.request; } // ${etag}`);
export const arnOf = (name: string) => `arn:aws:cloudfront::${ACCOUNT}:function/${name}`;
export const connectionArnOf = (id: string) => `arn:aws:cloudfront::${ACCOUNT}:connection-function/${id}`;

export interface FakeFunction {
  tags: Record<string, string>;
  devEtag: string;
  liveEtag?: string;
  /** Overrides the derived status (UNPUBLISHED / UNASSOCIATED), e.g. to test unknown statuses. */
  status?: string;
  /**
   * LastModifiedTime of each stage, on a logical clock. Default: in sync → both 0; LIVE behind
   * DEVELOPMENT → LIVE 1, DEVELOPMENT 2 (an update after the last publish).
   */
  devModified?: number;
  liveModified?: number;
  /**
   * What TestFunction answers for this function's DEVELOPMENT code: by default a pass (the event's
   * request or response echoed, wrapped as the real API wraps it, utilization 5).
   */
  test?: (event: { context?: { eventType?: string } }) => { error?: string; output?: string; utilization?: string };
  /** Event types of this function's associations in the account's distributions. */
  associations?: ('viewer-request' | 'viewer-response')[];
}

/** A connection function: addressed by Id (its key in the table), named for people. */
export interface FakeConnectionFunction extends Omit<FakeFunction, 'associations' | 'test'> {
  name: string;
  /**
   * What TestConnectionFunction answers for its DEVELOPMENT code: by default an allow
   * (`{"connection":{"action":"allow"}}`), utilization 5.
   */
  test?: (connection: Record<string, unknown>) => { error?: string; output?: string; utilization?: string };
}

export type Op =
  | 'DescribeFunction'
  | 'GetFunction'
  | 'ListFunctions'
  | 'ListTagsForResource'
  | 'PublishFunction'
  | 'TestFunction'
  | 'ListDistributions'
  | 'DescribeConnectionFunction'
  | 'GetConnectionFunction'
  | 'ListConnectionFunctions'
  | 'PublishConnectionFunction'
  | 'TestConnectionFunction';

export interface Call {
  op: Op;
  input: Record<string, unknown>;
}

const meta = { $metadata: { httpStatusCode: 0 } };

export function fakeCloudFront(initial: Record<string, FakeFunction> = {}, initialConnections: Record<string, FakeConnectionFunction> = {}) {
  const functions = new Map(Object.entries(initial).map(([k, v]) => [k, { ...v }]));
  const connections = new Map(Object.entries(initialConnections).map(([k, v]) => [k, { ...v }]));
  const calls: Call[] = [];
  /** Every publish that landed; a connection function's as `{ name: <its Id>, kind: 'connection' }`. */
  const publishes: { name: string; etag: string; kind?: 'connection' }[] = [];
  /** Runs before a call is answered: lets a test change the world mid-flight (races). */
  const hooks: Partial<Record<Op, (input: Record<string, unknown>, n: number) => void | Promise<void>>> = {};
  let noOpPublish412 = true;
  let versions = 1000;
  let clock = 10;
  for (const f of [...functions.values(), ...connections.values()]) {
    f.devModified ??= f.liveEtag === undefined || f.liveEtag === f.devEtag ? 0 : 2;
    if (f.liveEtag !== undefined) f.liveModified ??= f.liveEtag === f.devEtag ? 0 : 1;
  }
  const nextEtag = () => `E${(versions++).toString(36).toUpperCase()}`;

  const statusOf = (f: FakeFunction) => f.status ?? (f.liveEtag === f.devEtag ? 'UNASSOCIATED' : 'UNPUBLISHED');
  const missing = (name: string) => new NoSuchFunctionExists({ message: `The function ${name} does not exist.`, ...meta });
  const record = async (op: Op, input: Record<string, unknown>) => {
    calls.push({ op, input });
    await hooks[op]?.(input, calls.filter((c) => c.op === op).length);
  };

  const mock = mockClient(CloudFrontClient);
  mock.on(ListTagsForResourceCommand).callsFake(async (input) => {
    await record('ListTagsForResource', input);
    const resource = String(input.Resource);
    const connectionId = resource.split(':connection-function/')[1];
    if (connectionId !== undefined) {
      const c = connections.get(connectionId);
      if (!c) throw new EntityNotFound({ message: `${resource} not found`, ...meta });
      return { Tags: { Items: Object.entries(c.tags).map(([Key, Value]) => ({ Key, Value })) } };
    }
    const name = resource.split('function/')[1] ?? '';
    const f = functions.get(name);
    if (!f) throw new NoSuchResource({ message: `${input.Resource} not found`, ...meta });
    return { Tags: { Items: Object.entries(f.tags).map(([Key, Value]) => ({ Key, Value })) } };
  });
  mock.on(DescribeFunctionCommand).callsFake(async (input) => {
    await record('DescribeFunction', input);
    const f = functions.get(input.Name);
    if (!f) throw missing(input.Name);
    if (input.Stage === 'LIVE') {
      if (f.liveEtag === undefined) throw missing(input.Name);
      return { ETag: f.liveEtag, FunctionSummary: summary(input.Name, f, 'LIVE') };
    }
    return { ETag: f.devEtag, FunctionSummary: summary(input.Name, f, 'DEVELOPMENT') };
  });
  // A version's code names its ETag, so a test can tell which version's code was read.
  mock.on(GetFunctionCommand).callsFake(async (input) => {
    await record('GetFunction', input);
    const f = functions.get(input.Name);
    if (!f) throw missing(input.Name);
    const etag = input.Stage === 'LIVE' ? f.liveEtag : f.devEtag;
    if (etag === undefined) throw missing(input.Name);
    return { ETag: etag, ContentType: 'application/octet-stream', FunctionCode: codeOf(etag) };
  });
  mock.on(PublishFunctionCommand).callsFake(async (input) => {
    await record('PublishFunction', input);
    const f = functions.get(input.Name);
    if (!f) throw missing(input.Name);
    const stale = input.IfMatch !== f.devEtag;
    const noOp = noOpPublish412 && f.liveEtag === f.devEtag;
    if (stale || noOp)
      throw new PreconditionFailed({ message: 'The precondition given in one or more of the request header fields evaluated to false.', ...meta });
    f.liveEtag = f.devEtag;
    f.liveModified = clock++;
    delete f.status;
    publishes.push({ name: input.Name, etag: input.IfMatch });
    return { FunctionSummary: summary(input.Name, f, 'LIVE') };
  });
  mock.on(ListFunctionsCommand).callsFake(async (input) => {
    await record('ListFunctions', input);
    const stage = input.Stage === 'LIVE' ? 'LIVE' : 'DEVELOPMENT';
    const names = [...functions.keys()].filter((n) => stage === 'DEVELOPMENT' || functions.get(n)?.liveEtag !== undefined).sort();
    const start = input.Marker ? names.indexOf(input.Marker) : 0;
    const max = input.MaxItems ?? 100;
    const page = names.slice(start, start + max);
    const next = names[start + max];
    return {
      FunctionList: {
        Quantity: page.length,
        MaxItems: max,
        ...(next ? { NextMarker: next } : {}),
        Items: page.map((name) => summary(name, functions.get(name) as FakeFunction, stage)),
      },
    };
  });

  mock.on(TestFunctionCommand).callsFake(async (input) => {
    await record('TestFunction', input);
    const f = functions.get(input.Name);
    if (!f) throw missing(input.Name);
    const etag = input.Stage === 'LIVE' ? f.liveEtag : f.devEtag;
    if (input.IfMatch !== etag)
      throw new PreconditionFailed({ message: 'The precondition given in one or more of the request header fields evaluated to false.', ...meta });
    const event = JSON.parse(new TextDecoder().decode(input.EventObject)) as { context?: { eventType?: string }; request?: unknown; response?: unknown };
    const key = event.context?.eventType === 'viewer-response' ? 'response' : 'request';
    const answer = f.test?.(event) ?? {};
    return {
      TestResult: {
        ComputeUtilization: answer.utilization ?? '5',
        FunctionErrorMessage: answer.error ?? '',
        FunctionExecutionLogs: [],
        FunctionOutput: answer.output ?? (answer.error ? '' : JSON.stringify({ [key]: event[key] })),
      },
    };
  });
  mock.on(ListDistributionsCommand).callsFake(async (input) => {
    await record('ListDistributions', input);
    const associated = [...functions.entries()].filter(([, f]) => f.associations?.length);
    const Items = associated.map(([name, f], i) => ({
      Id: `E${i}`,
      DefaultCacheBehavior: {
        FunctionAssociations: {
          Quantity: f.associations?.length ?? 0,
          Items: (f.associations ?? []).map((EventType) => ({ FunctionARN: arnOf(name), EventType })),
        },
      },
    }));
    return { DistributionList: { Marker: '', MaxItems: 100, IsTruncated: false, Quantity: Items.length, Items } } as never;
  });

  // Connection functions: the same stages and 412s, their own commands, EntityNotFound for "not there".
  const noConnection = (id: string) => new EntityNotFound({ message: `The connection function ${id} does not exist.`, ...meta });
  const connection = (id: string | undefined) => {
    const c = connections.get(String(id));
    if (!c) throw noConnection(String(id));
    return c;
  };
  const connectionSummary = (id: string, c: FakeConnectionFunction, stage: 'DEVELOPMENT' | 'LIVE') => ({
    Name: c.name,
    Id: id,
    ConnectionFunctionArn: connectionArnOf(id),
    ConnectionFunctionConfig: { Comment: '', Runtime: 'cloudfront-js-2.0' as const },
    Status: stage === 'LIVE' ? 'DEPLOYED' : statusOf(c),
    Stage: stage,
    CreatedTime: new Date(0),
    LastModifiedTime: new Date((stage === 'LIVE' ? c.liveModified : c.devModified) ?? 0),
  });
  mock.on(DescribeConnectionFunctionCommand).callsFake(async (input) => {
    await record('DescribeConnectionFunction', input);
    const c = connection(input.Identifier);
    const etag = input.Stage === 'LIVE' ? c.liveEtag : c.devEtag;
    if (etag === undefined) throw noConnection(String(input.Identifier));
    return { ETag: etag, ConnectionFunctionSummary: connectionSummary(String(input.Identifier), c, input.Stage === 'LIVE' ? 'LIVE' : 'DEVELOPMENT') };
  });
  mock.on(GetConnectionFunctionCommand).callsFake(async (input) => {
    await record('GetConnectionFunction', input);
    const c = connection(input.Identifier);
    const etag = input.Stage === 'LIVE' ? c.liveEtag : c.devEtag;
    if (etag === undefined) throw noConnection(String(input.Identifier));
    return { ETag: etag, ContentType: 'application/octet-stream', ConnectionFunctionCode: codeOf(etag) };
  });
  mock.on(PublishConnectionFunctionCommand).callsFake(async (input) => {
    await record('PublishConnectionFunction', input);
    const c = connection(input.Id);
    if (input.IfMatch !== c.devEtag || (noOpPublish412 && c.liveEtag === c.devEtag))
      throw new PreconditionFailed({ message: 'The precondition given in one or more of the request header fields evaluated to false.', ...meta });
    c.liveEtag = c.devEtag;
    c.liveModified = clock++;
    delete c.status;
    publishes.push({ name: String(input.Id), etag: String(input.IfMatch), kind: 'connection' });
    return { ConnectionFunctionSummary: connectionSummary(String(input.Id), c, 'LIVE') };
  });
  mock.on(ListConnectionFunctionsCommand).callsFake(async (input) => {
    await record('ListConnectionFunctions', input);
    const stage = input.Stage === 'LIVE' ? 'LIVE' : 'DEVELOPMENT';
    const ids = [...connections.keys()].filter((id) => stage === 'DEVELOPMENT' || connections.get(id)?.liveEtag !== undefined).sort();
    const start = input.Marker ? ids.indexOf(input.Marker) : 0;
    const max = input.MaxItems ?? 100;
    const next = ids[start + max];
    return {
      ...(next ? { NextMarker: next } : {}),
      ConnectionFunctions: ids.slice(start, start + max).map((id) => connectionSummary(id, connections.get(id) as FakeConnectionFunction, stage)),
    };
  });
  mock.on(TestConnectionFunctionCommand).callsFake(async (input) => {
    await record('TestConnectionFunction', input);
    const c = connection(input.Id);
    const etag = input.Stage === 'LIVE' ? c.liveEtag : c.devEtag;
    if (input.IfMatch !== etag)
      throw new PreconditionFailed({ message: 'The precondition given in one or more of the request header fields evaluated to false.', ...meta });
    const answer = c.test?.(JSON.parse(new TextDecoder().decode(input.ConnectionObject)) as Record<string, unknown>) ?? {};
    return {
      ConnectionFunctionTestResult: {
        ComputeUtilization: answer.utilization ?? '5',
        ConnectionFunctionErrorMessage: answer.error ?? '',
        ConnectionFunctionExecutionLogs: [],
        ConnectionFunctionOutput: answer.output ?? (answer.error ? '' : JSON.stringify({ connection: { action: 'allow' } })),
      },
    };
  });

  function summary(name: string, f: FakeFunction, stage: 'DEVELOPMENT' | 'LIVE') {
    return {
      Name: name,
      Status: stage === 'LIVE' ? 'UNASSOCIATED' : statusOf(f),
      FunctionConfig: { Comment: '', Runtime: 'cloudfront-js-2.0' as const },
      FunctionMetadata: { FunctionARN: arnOf(name), Stage: stage, LastModifiedTime: new Date((stage === 'LIVE' ? f.liveModified : f.devModified) ?? 0) },
    };
  }

  return {
    mock,
    functions,
    connections,
    calls,
    publishes,
    hooks,
    count: (op?: Op) => calls.filter((c) => op === undefined || c.op === op).length,
    /** What another writer does: a new DEVELOPMENT version, back to UNPUBLISHED (`connection`: name is the Id). */
    update(name: string, kind: 'function' | 'connection' = 'function') {
      const f = kind === 'connection' ? connections.get(name) : functions.get(name);
      if (!f) throw new Error(`no ${name}`);
      f.devEtag = nextEtag();
      f.devModified = clock++;
      delete f.status;
    },
    publishAsOtherActor(name: string) {
      const f = functions.get(name) as FakeFunction;
      f.liveEtag = f.devEtag;
      f.liveModified = clock++;
      delete f.status;
    },
    set noOpPublish412(on: boolean) {
      noOpPublish412 = on;
    },
    restore: () => mock.restore(),
  };
}

export type FakeCloudFront = ReturnType<typeof fakeCloudFront>;
