/**
 * HTTP front of the emulator: routes CloudFront 2020-05-31 requests to the model, applies the
 * misbehaviour controls (latency, throttling, faults, access denial) in the order a real call
 * would meet them, writes the wire answer, then reports the call to CloudTrail subscribers.
 *
 * The same port serves STS (query protocol, emulator/sts.ts) and Organizations (JSON 1.1,
 * emulator/organizations.ts) on `POST /`, and S3 path-style on every other path.
 *
 * SigV4 signatures are never verified; the access key id is read from the Authorization header to
 * find the principal, hence the account, a call is made in (emulator/iam.ts, emulator/accounts.ts).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import { CloudFrontError, type CloudFrontModel, errors, type ModelOptions, type FunctionConfig, type FunctionSummary, type Tag } from './model';
import { cloudTrailEvent, isMutating, type Caller, type CallRecord, type CloudTrailEvent } from './cloudtrail';
import { FaultInjector, SeededRandom, latencyMs, sleep, type FaultDecision, type FaultSettings, type Latency, type RateLimit } from './faults';
import { DEFAULT_BUDGET_MS, runFunction } from './runtime';
import { runConnectionFunction } from './connection-runtime';
import { S3Error, S3Store, decodeAwsChunked, listObjectsDocument, parseS3Path, s3ErrorDocument, s3Errors } from './s3';
import * as wire from './wire';
import { child, childText } from './xml';
import { CONTROL_PREFIX, handleControl } from './control-http';
import { type Account, AccountRegistry } from './accounts';
import { Iam, type Principal } from './iam';
import { EXPIRED_TOKEN_MESSAGE, Sts, stsError } from './sts';
import { ORGANIZATIONS_TARGET_PREFIX, Organization, organizationsError } from './organizations';
import { SSM_TARGET_PREFIX, SsmStore, ssmError } from './ssm';

export type Operation =
  | 'CreateFunction'
  | 'UpdateFunction'
  | 'DescribeFunction'
  | 'GetFunction'
  | 'PublishFunction'
  | 'ListFunctions'
  | 'DeleteFunction'
  | 'TestFunction'
  | 'TagResource'
  | 'UntagResource'
  | 'ListTagsForResource'
  | 'ListDistributions'
  | 'CreateConnectionFunction'
  | 'UpdateConnectionFunction'
  | 'DescribeConnectionFunction'
  | 'GetConnectionFunction'
  | 'PublishConnectionFunction'
  | 'ListConnectionFunctions'
  | 'DeleteConnectionFunction'
  | 'TestConnectionFunction'
  | 'ListDistributionsByConnectionFunction'
  | 'GetObject'
  | 'HeadObject'
  | 'PutObject'
  | 'ListObjectsV2'
  | 'AssumeRole'
  | 'GetCallerIdentity'
  | 'ListAccounts'
  | 'GetParameter'
  | 'PutParameter'
  | 'Unknown';

export interface AuthorizationRequest {
  operation: Operation;
  accessKeyId: string;
  actor: string;
  /**
   * Function name for function calls, the Id (or Identifier) for connection-function calls, ARN for
   * tagging calls, `arn:aws:s3:::bucket/key` for S3 calls.
   */
  target?: string;
  /** The account the call is made in (the home account for keys nobody bound). */
  account: string;
  /** The caller: `arn:aws:iam::<account>:user/<name>` or `arn:aws:sts::<account>:assumed-role/<role>/<session>`. */
  principalArn: string;
}

/** Return false to answer AccessDenied (403). */
export type Authorizer = (request: AuthorizationRequest) => boolean;

export interface PublishLogEntry {
  /** The account the function lives in. */
  account: string;
  name: string;
  /** Set for a PublishConnectionFunction only: the connection function's Id. */
  connectionFunctionId?: string;
  /** The ETag that went LIVE (equal to DEVELOPMENT's at that moment). */
  etag: string;
  time: Date;
  actor: string;
  accessKeyId: string;
  principalArn: string;
  userAgent: string;
  requestId: string;
  /** True when an injected after-commit fault hid the success from the caller. */
  faulted: boolean;
}

export interface ServerOptions extends ModelOptions {
  /** Default 0: pick a free port. */
  port?: number;
  latency?: Latency;
  /** Seed for the latency range draws. */
  latencySeed?: number;
  rateLimit?: RateLimit;
  faults?: FaultSettings;
  /** Access key id → actor name (defaults to the access key id itself). */
  actors?: Record<string, string>;
  authorizer?: Authorizer;
  /** TestFunction's compute budget per run, in ms (emulator/runtime.ts). Default 1000. */
  testFunctionBudgetMs?: number;
  /** Organizations' id (`o-` and 10-32 lowercase letters or digits); default derived from `accountId`. */
  organizationId?: string;
}

interface Route {
  operation: Operation;
  name?: string;
}

interface Reply {
  status: number;
  headers?: Record<string, string>;
  body?: string | Buffer;
}

/** A request's caller: who (the principal) and where (the account its calls land in). */
interface ResolvedCaller extends Caller {
  identity: Principal;
  account: Account;
  /** Signed with an issued key past its expiry. */
  expired: boolean;
}

/** Details collected while handling, for CloudTrail and the publish log. */
type Trail = Partial<Pick<CallRecord, 'name' | 'ifMatch' | 'config' | 'resource' | 'tags' | 'tagKeys' | 'summary' | 'etag' | 'id' | 'connectionSummary'>>;

const PREFIX = '/2020-05-31/';

/** The operations on one function of a kind: by method on `{name}`, then by action (`{name}/describe`…). */
interface AddressedRoutes {
  PUT: Operation;
  GET: Operation;
  DELETE: Operation;
  describe: Operation;
  publish: Operation;
  test: Operation;
}

const FUNCTION_ROUTES: AddressedRoutes = {
  PUT: 'UpdateFunction',
  GET: 'GetFunction',
  DELETE: 'DeleteFunction',
  describe: 'DescribeFunction',
  publish: 'PublishFunction',
  test: 'TestFunction',
};

/** The same paths under `connection-function/`, addressed by Id (Describe and Get: by Identifier). */
const CONNECTION_FUNCTION_ROUTES: AddressedRoutes = {
  PUT: 'UpdateConnectionFunction',
  GET: 'GetConnectionFunction',
  DELETE: 'DeleteConnectionFunction',
  describe: 'DescribeConnectionFunction',
  publish: 'PublishConnectionFunction',
  test: 'TestConnectionFunction',
};

/** `rest` is the path after `function/` or `connection-function/`: `{name}` or `{name}/{action}`. */
function addressedRoute(method: string, rest: string, routes: AddressedRoutes): Route {
  const [rawName, action, extra] = rest.split('/');
  let name: string;
  try {
    name = decodeURIComponent(rawName ?? '');
  } catch {
    return { operation: 'Unknown' };
  }
  if (extra !== undefined) return { operation: 'Unknown' };
  if (action === undefined) {
    if (method === 'PUT' || method === 'GET' || method === 'DELETE') return { operation: routes[method], name };
  } else if (action === 'describe' && method === 'GET') return { operation: routes.describe, name };
  else if (action === 'publish' && method === 'POST') return { operation: routes.publish, name };
  else if (action === 'test' && method === 'POST') return { operation: routes.test, name };
  return { operation: 'Unknown' };
}

function route(method: string, path: string, query: URLSearchParams): Route {
  if (path === `${PREFIX}function`) {
    if (method === 'POST') return { operation: 'CreateFunction' };
    if (method === 'GET') return { operation: 'ListFunctions' };
  } else if (path === `${PREFIX}distribution`) {
    if (method === 'GET') return { operation: 'ListDistributions' };
  } else if (path === `${PREFIX}connection-function`) {
    if (method === 'POST') return { operation: 'CreateConnectionFunction' };
  } else if (path === `${PREFIX}connection-functions`) {
    if (method === 'POST') return { operation: 'ListConnectionFunctions' };
  } else if (path === `${PREFIX}distributionsByConnectionFunction`) {
    if (method === 'GET') return { operation: 'ListDistributionsByConnectionFunction', name: query.get('ConnectionFunctionIdentifier') ?? undefined };
  } else if (path.startsWith(`${PREFIX}connection-function/`)) {
    return addressedRoute(method, path.slice(`${PREFIX}connection-function/`.length), CONNECTION_FUNCTION_ROUTES);
  } else if (path === `${PREFIX}tagging`) {
    if (method === 'GET') return { operation: 'ListTagsForResource' };
    if (method === 'POST' && query.get('Operation') === 'Tag') return { operation: 'TagResource' };
    if (method === 'POST' && query.get('Operation') === 'Untag') return { operation: 'UntagResource' };
  } else if (path.startsWith(`${PREFIX}function/`)) {
    return addressedRoute(method, path.slice(`${PREFIX}function/`.length), FUNCTION_ROUTES);
  }
  return { operation: 'Unknown' };
}

const CREDENTIAL = /Credential=([^/,\s]+)\//;

export class EmulatorServer {
  readonly accounts: AccountRegistry;
  readonly iam: Iam;
  readonly sts: Sts;
  readonly organization: Organization;
  private readonly server: http.Server;
  private readonly latencyRandom: SeededRandom;
  private latency: Latency | undefined;
  private faults: FaultInjector | undefined;
  private authorizer: Authorizer | undefined;
  private readonly actors = new Map<string, string>();
  private readonly subscribers = new Set<(event: CloudTrailEvent) => void>();
  private readonly counts = new Map<string, number>();
  /** TCP connections accepted since the start (keep-alive and connection sharing show in it). */
  connectionsAccepted = 0;
  /** CPU microseconds of each CloudFront call's own handling, per operation, while recording (undefined: off). */
  private callCpu: Map<string, number[]> | undefined;
  private readonly publishes: PublishLogEntry[] = [];
  private readonly trail: CloudTrailEvent[] = [];
  private testBudgetMs: number;
  private computeUtilizationOverride: string | undefined;
  readonly s3: S3Store;
  readonly ssm: SsmStore;
  private port = 0;

  constructor(private readonly options: ServerOptions = {}) {
    this.accounts = new AccountRegistry(options);
    const partition = this.model.partition;
    const now = options.now ?? (() => new Date());
    this.iam = new Iam(partition, (id) => this.accounts.has(id), now);
    this.sts = new Sts(this.iam, now);
    this.organization = new Organization(this.accounts, partition, options.organizationId);
    this.latency = options.latency;
    this.latencyRandom = new SeededRandom(options.latencySeed ?? 1);
    this.setFaults(options.faults);
    this.authorizer = options.authorizer;
    for (const [key, actor] of Object.entries(options.actors ?? {})) this.actors.set(key, actor);
    this.testBudgetMs = checkBudget(options.testFunctionBudgetMs ?? DEFAULT_BUDGET_MS);
    this.s3 = new S3Store(options.now);
    this.ssm = new SsmStore(partition, 'us-east-1', options.now);
    this.server = http.createServer((req, res) => {
      this.handle(req, res).catch((error: unknown) => {
        // Only a bug gets here; answer like the service would rather than hanging the client.
        if (!res.headersSent) this.send(res, this.errorReply(new CloudFrontError('InternalError', 500, String(error)), randomUUID()), randomUUID());
      });
    });
    // The SDK keeps connections alive, as CloudFront lets it. Node's client agent drops a socket 1 s
    // before the server's Keep-Alive hint (its agentKeepAliveTimeoutBuffer, nodejs/node#59315), so a
    // 1 s hint had every request open a new connection, and the benches measured connects and closes
    // on both sides. close() ends idle sockets itself (closeAllConnections).
    this.server.keepAliveTimeout = KEEP_ALIVE_MS;
    this.server.on('connection', () => this.connectionsAccepted++);
  }

  async listen(): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      // Loopback only: the emulator accepts any signature, so it must never be reachable from elsewhere.
      this.server.listen(this.options.port ?? 0, '127.0.0.1', () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    this.port = (this.server.address() as AddressInfo).port;
  }

  get endpoint(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get listeningPort(): number {
    return this.port;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** The home account's model: the one the single-account API always meant. */
  get model(): CloudFrontModel {
    return this.accounts.home.model;
  }

  // ---- controls ---------------------------------------------------------------------------

  setLatency(latency: Latency | undefined): void {
    this.latency = latency;
  }

  /** The same limit for every account, each with its own bucket. */
  setRateLimit(limit: RateLimit | undefined): void {
    this.accounts.setRateLimit(limit);
  }

  setFaults(settings: FaultSettings | undefined): void {
    this.faults = settings && settings.probability > 0 ? new FaultInjector(settings) : undefined;
  }

  setAuthorizer(authorizer: Authorizer | undefined): void {
    this.authorizer = authorizer;
  }

  setTestFunctionBudget(ms: number): void {
    this.testBudgetMs = checkBudget(ms);
  }

  get testFunctionBudget(): number {
    return this.testBudgetMs;
  }

  setComputeUtilizationOverride(value: string | undefined): void {
    this.computeUtilizationOverride = value;
  }

  setActor(accessKeyId: string, actor: string): void {
    this.actors.set(accessKeyId, actor);
  }

  onCloudTrailEvent(listener: (event: CloudTrailEvent) => void): () => void {
    this.subscribers.add(listener);
    return () => this.subscribers.delete(listener);
  }

  callCounts(): Record<string, number> {
    return Object.fromEntries(this.counts);
  }

  /**
   * Starts (clearing what was kept) or stops keeping each CloudFront call's CPU time: the bench's
   * emulator CPU per call. Measured with process.cpuUsage over the synchronous stretches of the
   * handling (routing, authorisation, the model, the XML both ways, the reply, CloudTrail), paused
   * over every await (body, latency, TestFunction's run), so other requests do not count; Node's
   * HTTP parsing before the handler is not in it. process.cpuUsage is the whole process's, so a
   * TestFunction thread busy at the same moment inflates a sample: read the median.
   */
  recordCallCpu(on: boolean): void {
    this.callCpu = on ? new Map() : undefined;
  }

  callCpuSamples(): Record<string, number[]> {
    return Object.fromEntries([...(this.callCpu ?? new Map<string, number[]>())].map(([k, v]) => [k, [...v]]));
  }

  /** Every account's counts too: what was counted before the reset is gone everywhere. */
  resetCallCounts(): void {
    this.counts.clear();
    for (const account of this.accounts.all()) account.counts.clear();
  }

  /** Every account's publishes, or one account's. */
  publishLog(account?: string): PublishLogEntry[] {
    return this.publishes.filter((p) => account === undefined || p.account === account).map((p) => ({ ...p }));
  }

  clearPublishLog(account?: string): void {
    const kept = account === undefined ? [] : this.publishes.filter((p) => p.account !== account);
    this.publishes.splice(0, this.publishes.length, ...kept);
  }

  cloudTrailEvents(): CloudTrailEvent[] {
    return [...this.trail];
  }

  clearCloudTrailEvents(): void {
    this.trail.length = 0;
  }

  // ---- request handling ---------------------------------------------------------------------

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const requestId = randomUUID();
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (url.pathname.startsWith(CONTROL_PREFIX)) {
      const body = await readBody(req, MAX_CONTROL_BODY);
      const reply =
        body === undefined
          ? {
              status: 413,
              headers: { 'Content-Type': 'application/json' },
              body: `${JSON.stringify({ code: 'EntityTooLarge', message: `The body is over ${MAX_CONTROL_BODY} bytes.` })}\n`,
            }
          : await handleControl(
              { accounts: this.accounts, iam: this.iam, s3: this.s3 },
              req.method ?? 'GET',
              url,
              body,
              headerValue(req.headers['content-type']),
            );
      this.send(res, reply, requestId);
      return;
    }
    if (!url.pathname.startsWith(PREFIX)) {
      // Which service a `POST /` is for: Organizations names itself in X-Amz-Target, STS in the form body.
      let body: Buffer | undefined;
      if (req.method === 'POST' && url.pathname === '/') {
        const target = headerValue(req.headers['x-amz-target']) ?? '';
        body = (await readBody(req, MAX_BODY, true))!;
        if (target.startsWith(ORGANIZATIONS_TARGET_PREFIX)) {
          await this.handleOrganizations(req, res, target, body.toString('utf8'), requestId);
          return;
        }
        if (target.startsWith(SSM_TARGET_PREFIX)) {
          await this.handleSsm(req, res, target, body.toString('utf8'), requestId);
          return;
        }
        const form = /application\/x-www-form-urlencoded/i.test(headerValue(req.headers['content-type']) ?? '')
          ? new URLSearchParams(body.toString('utf8'))
          : undefined;
        if (form?.has('Action')) {
          await this.handleSts(req, res, form, requestId);
          return;
        }
      }
      await this.handleS3(req, res, url, requestId, body !== undefined);
      return;
    }
    const { operation, name } = route(req.method ?? 'GET', url.pathname, url.searchParams);
    // Past MAX_BODY the body is cut, so it fails to parse: a malformed request, as the service would see it.
    const body = (await readBody(req, MAX_BODY, true))!.toString('utf8');
    const meter = this.callCpu ? cpuMeter() : undefined;
    const caller = this.callerOf(req);
    const account = caller.account;
    const m = account.model;
    this.count(operation);
    account.count(operation);
    const time = new Date();
    const trail: Trail = {};
    let reply: Reply;
    let failure: CloudFrontError | undefined;
    let fault: FaultDecision | undefined;

    meter?.pause();
    await sleep(latencyMs(this.latency, this.latencyRandom));
    meter?.resume();
    try {
      // Authentication comes before anything else, and a call that fails it never reaches CloudTrail.
      if (caller.expired) throw new CloudFrontError('ExpiredToken', 403, EXPIRED_TOKEN_MESSAGE);
      if (operation === 'Unknown') throw errors.unsupported(`The emulator does not implement ${req.method} ${url.pathname}.`);
      const target = name ?? url.searchParams.get('Resource') ?? undefined;
      if (this.authorizer && !this.authorizer(this.authorizationRequest(operation, caller, target))) {
        throw errors.accessDenied(`User: ${caller.identity.arn} is not authorized to perform: cloudfront:${operation}`);
      }
      if (!account.tryTake()) throw errors.throttling();
      fault = this.faults?.decide();
      if (fault && !fault.afterCommit) throw new CloudFrontError(fault.code, fault.status, fault.message);
      reply = await this.dispatch(m, operation, name ?? '', url.searchParams, req.headers, body, trail, meter);
      if (fault) {
        // The write landed but the caller is told otherwise, like a timeout after commit.
        reply = this.errorReply(new CloudFrontError(fault.code, fault.status, fault.message), requestId);
      }
    } catch (error) {
      if (!(error instanceof CloudFrontError)) throw error;
      failure = error;
      reply = this.errorReply(error, requestId);
    }
    this.send(res, reply, requestId);

    if ((operation === 'PublishFunction' || operation === 'PublishConnectionFunction') && !failure && trail.etag !== undefined) {
      this.publishes.push({
        account: account.accountId,
        name: trail.connectionSummary?.name ?? name ?? '',
        ...(trail.connectionSummary ? { connectionFunctionId: trail.connectionSummary.id } : {}),
        etag: trail.etag,
        time,
        actor: caller.actor,
        accessKeyId: caller.accessKeyId,
        principalArn: caller.identity.arn,
        userAgent: caller.userAgent,
        requestId,
        faulted: fault !== undefined,
      });
    }
    if (isMutating(operation) && !caller.expired) {
      const record: CallRecord = { operation, caller, requestId, time, ...trail };
      if (failure) record.error = { code: failure.code, message: failure.message };
      this.emit(cloudTrailEvent(record, account.accountId, m.partition, m.variants));
    }
    if (meter && this.callCpu) {
      const samples = this.callCpu.get(operation) ?? [];
      samples.push(meter.stop());
      this.callCpu.set(operation, samples);
    }
  }

  /**
   * STS (emulator/sts.ts): counted, subject to the latency, not to CloudFront's rate limit, faults or
   * authorizer (the trust lists decide), and not in CloudTrail.
   */
  private async handleSts(req: http.IncomingMessage, res: http.ServerResponse, form: URLSearchParams, requestId: string): Promise<void> {
    this.count(Sts.operationOf(form));
    const caller = this.callerOf(req);
    await sleep(latencyMs(this.latency, this.latencyRandom));
    const reply = caller.expired ? stsError(403, 'ExpiredToken', EXPIRED_TOKEN_MESSAGE, requestId) : this.sts.handle(form, caller.identity, requestId);
    this.send(res, xml(reply.status, reply.body), requestId);
  }

  /** Organizations (emulator/organizations.ts): treated as STS is. */
  private async handleOrganizations(req: http.IncomingMessage, res: http.ServerResponse, target: string, body: string, requestId: string): Promise<void> {
    this.count(Organization.operationOf(target));
    const caller = this.callerOf(req);
    await sleep(latencyMs(this.latency, this.latencyRandom));
    const reply = caller.expired ? organizationsError('ExpiredTokenException', EXPIRED_TOKEN_MESSAGE) : this.organization.handle(target, body, caller.identity);
    this.send(res, reply, requestId);
  }

  /**
   * SSM Parameter Store (emulator/ssm.ts): treated as STS is, plus its own fault switch
   * (`ssm.setFault`); the caller's account holds the parameters.
   */
  private async handleSsm(req: http.IncomingMessage, res: http.ServerResponse, target: string, body: string, requestId: string): Promise<void> {
    this.count(SsmStore.operationOf(target));
    const caller = this.callerOf(req);
    await sleep(latencyMs(this.latency, this.latencyRandom));
    const reply = caller.expired ? ssmError('ExpiredTokenException', EXPIRED_TOKEN_MESSAGE) : this.ssm.handle(target, body, caller.account.accountId);
    this.send(res, reply, requestId);
  }

  /**
   * The S3 side (emulator/s3.ts): counted per operation, subject to the latency and the authorizer,
   * not to CloudFront's rate limit or faults, and never in CloudTrail (GetObject is a data event).
   */
  private async handleS3(req: http.IncomingMessage, res: http.ServerResponse, url: URL, requestId: string, bodyRead = false): Promise<void> {
    const raw = bodyRead ? Buffer.alloc(0) : ((await readBody(req, MAX_BODY, true)) as Buffer);
    const method = req.method ?? 'GET';
    const target = parseS3Path(url.pathname);
    const operation = s3Operation(method, target, url.searchParams);
    this.count(operation);
    const caller = this.callerOf(req);
    const hostId = Buffer.from(requestId).toString('base64');
    const headers: Record<string, string> = { 'x-amz-request-id': requestId.replace(/-/g, '').slice(0, 16).toUpperCase(), 'x-amz-id-2': hostId };
    await sleep(latencyMs(this.latency, this.latencyRandom));
    let reply: Reply;
    try {
      if (caller.expired) throw s3Errors.expiredToken();
      if (operation === 'Unknown' || !target) throw s3Errors.notImplemented();
      const arn = `arn:${this.model.partition}:s3:::${target.bucket}${target.key === undefined ? '' : `/${target.key}`}`;
      if (this.authorizer && !this.authorizer(this.authorizationRequest(operation, caller, arn))) throw s3Errors.accessDenied();
      if (operation === 'ListObjectsV2') {
        const query = url.searchParams;
        const maxKeys = query.get('max-keys');
        if (maxKeys !== null && !/^\d+$/.test(maxKeys)) throw s3Errors.invalidArgument('Provided max-keys not an integer or within integer range');
        const input = {
          ...(query.get('prefix') !== null ? { prefix: query.get('prefix') as string } : {}),
          ...(maxKeys !== null ? { maxKeys: Number(maxKeys) } : {}),
          ...(query.get('continuation-token') !== null ? { continuationToken: query.get('continuation-token') as string } : {}),
          ...(query.get('start-after') !== null ? { startAfter: query.get('start-after') as string } : {}),
          ...(query.get('encoding-type') !== null ? { encodingType: query.get('encoding-type') as string } : {}),
        };
        const page = this.s3.listObjects(target.bucket, input);
        this.send(
          res,
          { status: 200, headers: { ...headers, 'Content-Type': 'application/xml' }, body: listObjectsDocument(target.bucket, input, page) },
          requestId,
        );
        return;
      }
      if (operation === 'PutObject') {
        const chunked = /aws-chunked/i.test(headerValue(req.headers['content-encoding']) ?? '') || req.headers['x-amz-decoded-content-length'] !== undefined;
        const body = chunked ? decodeAwsChunked(raw) : raw;
        if (!body) throw s3Errors.invalidArgument('The aws-chunked body could not be decoded.');
        const { etag } = this.s3.putFromWire(target.bucket, target.key as string, body, headerValue(req.headers['content-type']));
        this.send(res, { status: 200, headers: { ...headers, ETag: etag } }, requestId);
        return;
      }
      const object = this.s3.getObject(target.bucket, target.key as string);
      reply = {
        status: 200,
        headers: {
          ...headers,
          'Content-Type': object.contentType,
          ETag: object.etag,
          'Last-Modified': object.lastModified.toUTCString(),
          'Accept-Ranges': 'bytes',
        },
        body: object.body,
      };
    } catch (error) {
      if (!(error instanceof S3Error)) throw error;
      const document = s3ErrorDocument(error, headers['x-amz-request-id']!, hostId);
      reply = { status: error.status, headers: { ...headers, 'Content-Type': 'application/xml' }, body: method === 'HEAD' ? undefined : document };
    }
    res.statusCode = reply.status;
    for (const [key, value] of Object.entries(reply.headers ?? {})) res.setHeader(key, value);
    const body = typeof reply.body === 'string' ? Buffer.from(reply.body, 'utf8') : reply.body;
    if (body === undefined) {
      res.end();
      return;
    }
    // Node writes no body for HEAD; the length is still the object's.
    res.setHeader('Content-Length', body.length);
    res.end(body);
  }

  private async dispatch(
    m: CloudFrontModel,
    operation: Operation,
    name: string,
    query: URLSearchParams,
    headers: http.IncomingHttpHeaders,
    body: string,
    trail: Trail,
    meter?: CpuMeter,
  ): Promise<Reply> {
    const ifMatch = headerValue(headers['if-match']);
    switch (operation) {
      case 'CreateFunction': {
        const root = wire.parseBody(body, 'CreateFunctionRequest');
        const input = {
          name: childText(root, 'Name') ?? '',
          config: wire.readFunctionConfig(root),
          code: wire.readBlob(root, 'FunctionCode'),
          tags: wire.readTags(child(root, 'Tags')),
        };
        Object.assign(trail, { name: input.name, config: input.config, tags: input.tags });
        const out = m.createFunction(input);
        Object.assign(trail, { summary: out.summary, etag: out.etag });
        return xml(201, wire.functionSummaryDocument(out.summary), {
          ETag: out.etag,
          Location: `https://cloudfront.amazonaws.com/2020-05-31/function/${out.summary.arn}`,
        });
      }
      case 'UpdateFunction': {
        Object.assign(trail, { name, ifMatch });
        const root = wire.parseBody(body, 'UpdateFunctionRequest');
        const config: FunctionConfig = wire.readFunctionConfig(root);
        trail.config = config;
        const out = m.updateFunction({ name, ifMatch, config, code: wire.readBlob(root, 'FunctionCode') });
        Object.assign(trail, { summary: out.summary, etag: out.etag });
        // The API model binds UpdateFunction's ETag to a header named "ETtag" (sic), so the SDKs
        // read that one; send the standard ETag too for anything reading HTTP semantics.
        return xml(200, wire.functionSummaryDocument(out.summary), { ETag: out.etag, ETtag: out.etag });
      }
      case 'DescribeFunction': {
        const out = m.describeFunction(name, query.get('Stage') ?? undefined);
        return xml(200, wire.functionSummaryDocument(out.summary), { ETag: out.etag });
      }
      case 'GetFunction': {
        const out = m.getFunction(name, query.get('Stage') ?? undefined);
        return { status: 200, headers: { ETag: out.etag, 'Content-Type': 'application/octet-stream' }, body: out.code };
      }
      case 'PublishFunction': {
        Object.assign(trail, { name, ifMatch });
        const out = m.publishFunction(name, ifMatch);
        Object.assign(trail, { summary: out.summary, etag: out.etag });
        return xml(200, wire.functionSummaryDocument(out.summary));
      }
      case 'ListFunctions': {
        const list = m.listFunctions({
          marker: query.get('Marker') ?? undefined,
          maxItems: query.get('MaxItems') ?? undefined,
          stage: query.get('Stage') ?? undefined,
        });
        return xml(200, wire.functionListDocument(list));
      }
      case 'DeleteFunction': {
        Object.assign(trail, { name, ifMatch });
        m.deleteFunction(name, ifMatch);
        return { status: 204 };
      }
      case 'TestFunction': {
        const root = wire.parseBody(body, 'TestFunctionRequest');
        const event = wire.readBlob(root, 'EventObject');
        const prepared = m.prepareTest(name, ifMatch, childText(root, 'Stage'));
        const eventJson = wire.checkEventObject(event);
        meter?.pause();
        const run = await runFunction(prepared.code.toString('utf8'), eventJson, { budgetMs: this.testBudgetMs, overBudget: m.variants.overBudget });
        meter?.resume();
        const computeUtilization = this.computeUtilizationOverride ?? run.computeUtilization;
        return xml(200, wire.testResultDocument(prepared.summary, { ...run, computeUtilization, output: wire.wrapFunctionOutput(eventJson, run.output) }));
      }
      case 'TagResource': {
        const resource = query.get('Resource') ?? undefined;
        const tags: Tag[] = wire.readTags(wire.parseBody(body, 'Tags'));
        Object.assign(trail, { resource, tags });
        m.tagResource(resource, tags);
        return { status: 204 };
      }
      case 'UntagResource': {
        const resource = query.get('Resource') ?? undefined;
        const tagKeys = wire.readTagKeys(wire.parseBody(body, 'TagKeys'));
        Object.assign(trail, { resource, tagKeys });
        m.untagResource(resource, tagKeys);
        return { status: 204 };
      }
      case 'ListTagsForResource':
        return xml(200, wire.tagsDocument(m.listTagsForResource(query.get('Resource') ?? undefined)));
      case 'ListDistributions':
        return xml(
          200,
          wire.distributionListDocument(m.listDistributions({ marker: query.get('Marker') ?? undefined, maxItems: query.get('MaxItems') ?? undefined })),
        );
      case 'CreateConnectionFunction': {
        const root = wire.parseBody(body, 'CreateConnectionFunctionRequest');
        const input = {
          name: childText(root, 'Name') ?? '',
          config: wire.readFunctionConfig(root, 'ConnectionFunctionConfig'),
          code: wire.readBlob(root, 'ConnectionFunctionCode'),
          tags: wire.readTags(child(root, 'Tags')),
        };
        Object.assign(trail, { name: input.name, config: input.config, tags: input.tags });
        const out = m.connectionFunctions.create(input);
        Object.assign(trail, { id: out.summary.id, connectionSummary: out.summary, etag: out.etag });
        return xml(201, wire.connectionSummaryDocument(out.summary), {
          ETag: out.etag,
          // As the ordinary kind's, and as the Developer Guide's one example (create-connection-functions.html) shows: the ARN.
          Location: `https://cloudfront.amazonaws.com/2020-05-31/connection-function/${out.summary.arn}`,
        });
      }
      case 'UpdateConnectionFunction': {
        Object.assign(trail, { id: name, ifMatch });
        const root = wire.parseBody(body, 'UpdateConnectionFunctionRequest');
        const config = wire.readFunctionConfig(root, 'ConnectionFunctionConfig');
        trail.config = config;
        const out = m.connectionFunctions.update({ id: name, ifMatch, config, code: wire.readBlob(root, 'ConnectionFunctionCode') });
        Object.assign(trail, { name: out.summary.name, connectionSummary: out.summary, etag: out.etag });
        return xml(200, wire.connectionSummaryDocument(out.summary), { ETag: out.etag });
      }
      case 'DescribeConnectionFunction': {
        const out = m.connectionFunctions.describe(name, query.get('Stage') ?? undefined);
        return xml(200, wire.connectionSummaryDocument(out.summary), { ETag: out.etag });
      }
      case 'GetConnectionFunction': {
        const out = m.connectionFunctions.getCode(name, query.get('Stage') ?? undefined);
        return { status: 200, headers: { ETag: out.etag, 'Content-Type': 'application/octet-stream' }, body: out.code };
      }
      case 'PublishConnectionFunction': {
        Object.assign(trail, { id: name, ifMatch });
        const out = m.connectionFunctions.publish(name, ifMatch);
        Object.assign(trail, { name: out.summary.name, connectionSummary: out.summary, etag: out.etag });
        return xml(200, wire.connectionSummaryDocument(out.summary));
      }
      case 'ListConnectionFunctions': {
        // Every member is optional, so the SDK may send no body at all.
        const root = body.trim() === '' ? undefined : wire.parseBody(body, 'ListConnectionFunctionsRequest');
        const list = m.connectionFunctions.list({
          marker: childText(root, 'Marker'),
          maxItems: childText(root, 'MaxItems'),
          stage: childText(root, 'Stage'),
        });
        return xml(200, wire.connectionListDocument(list));
      }
      case 'DeleteConnectionFunction': {
        Object.assign(trail, { id: name, ifMatch });
        trail.name = m.connectionFunctions.delete(name, ifMatch).name;
        return { status: 204 };
      }
      case 'TestConnectionFunction': {
        const root = wire.parseBody(body, 'TestConnectionFunctionRequest');
        const connection = wire.readBlob(root, 'ConnectionObject');
        const prepared = m.connectionFunctions.prepareTest(name, ifMatch, childText(root, 'Stage'));
        const connectionJson = wire.checkEventObject(connection, 'ConnectionObject');
        const run = await runConnectionFunction(prepared.code.toString('utf8'), connectionJson, {
          budgetMs: this.testBudgetMs,
          overBudget: m.variants.overBudget,
        });
        const computeUtilization = this.computeUtilizationOverride ?? run.computeUtilization;
        return xml(200, wire.connectionTestResultDocument(prepared.summary, { ...run, computeUtilization }));
      }
      case 'ListDistributionsByConnectionFunction':
        return xml(
          200,
          wire.distributionListDocument(
            m.connectionFunctions.distributionsOf(query.get('ConnectionFunctionIdentifier') ?? undefined, {
              marker: query.get('Marker') ?? undefined,
              maxItems: query.get('MaxItems') ?? undefined,
            }),
          ),
        );
      case 'GetObject':
      case 'HeadObject':
      case 'PutObject':
      case 'ListObjectsV2':
      case 'AssumeRole':
      case 'GetCallerIdentity':
      case 'ListAccounts':
      case 'GetParameter':
      case 'PutParameter':
      case 'Unknown':
        throw errors.unsupported('Unknown operation.');
    }
  }

  /**
   * The principal behind the request's access key and the account its calls land in. A key nobody
   * bound is an IAM user of the home account named after its actor (the key itself by default).
   */
  private callerOf(req: http.IncomingMessage): ResolvedCaller {
    const accessKeyId = CREDENTIAL.exec(headerValue(req.headers.authorization) ?? '')?.[1] ?? 'ANONYMOUS';
    const bound = this.iam.principalOf(accessKeyId);
    // A bound key's actor is its user or session name, so publish-log filters by actor keep working.
    const actor = this.actors.get(accessKeyId) ?? (bound ? (bound.kind === 'user' ? bound.userName : bound.sessionName) : accessKeyId);
    const identity = bound ?? this.iam.user(this.accounts.home.accountId, actor);
    return {
      accessKeyId,
      actor,
      sourceIp: req.socket.remoteAddress?.replace(/^::ffff:/, '') ?? '127.0.0.1',
      userAgent: headerValue(req.headers['user-agent']) ?? headerValue(req.headers['x-amz-user-agent']) ?? '',
      identity,
      account: this.accounts.get(identity.accountId),
      expired: this.iam.isExpired(identity),
    };
  }

  private authorizationRequest(operation: Operation, caller: ResolvedCaller, target: string | undefined): AuthorizationRequest {
    return {
      operation,
      accessKeyId: caller.accessKeyId,
      actor: caller.actor,
      ...(target === undefined ? {} : { target }),
      account: caller.account.accountId,
      principalArn: caller.identity.arn,
    };
  }

  private count(operation: Operation): void {
    this.counts.set(operation, (this.counts.get(operation) ?? 0) + 1);
  }

  private errorReply(error: CloudFrontError, requestId: string): Reply {
    return xml(error.status, wire.errorDocument(error.type, error.code, error.message, requestId));
  }

  private send(res: http.ServerResponse, reply: Reply, requestId: string): void {
    res.statusCode = reply.status;
    res.setHeader('x-amzn-RequestId', requestId);
    for (const [key, value] of Object.entries(reply.headers ?? {})) res.setHeader(key, value);
    if (reply.body === undefined) {
      res.end();
      return;
    }
    const body = typeof reply.body === 'string' ? Buffer.from(reply.body, 'utf8') : reply.body;
    res.setHeader('Content-Length', body.length);
    res.end(body);
  }

  private emit(event: CloudTrailEvent): void {
    this.trail.push(event);
    for (const listener of this.subscribers) {
      try {
        listener(event);
      } catch (error) {
        // A broken subscriber must not break the emulator or the other subscribers.
        process.emitWarning(`CloudTrail subscriber failed: ${String(error)}`);
      }
    }
  }
}

/** Which S3 call a path-style request is: an object call, or a bucket's ListObjectsV2. */
function s3Operation(method: string, target: { bucket: string; key?: string } | undefined, query: URLSearchParams): Operation {
  if (!target) return 'Unknown';
  if (target.key === undefined) return method === 'GET' && query.get('list-type') === '2' ? 'ListObjectsV2' : 'Unknown';
  if (method === 'GET') return 'GetObject';
  if (method === 'HEAD') return 'HeadObject';
  if (method === 'PUT' && !hasSubresource(query)) return 'PutObject';
  return 'Unknown';
}

/** A PUT with a sub-resource (`?tagging`, `?acl`, `?uploadId`…) is another operation; the SDK's `x-id` names this one. */
function hasSubresource(query: URLSearchParams): boolean {
  return [...query.keys()].some((k) => k !== 'x-id');
}

function xml(status: number, body: string, headers: Record<string, string> = {}): Reply {
  return { status, headers: { 'Content-Type': 'text/xml', ...headers }, body };
}

function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

const MAX_BODY = 1024 * 1024;
const MAX_CONTROL_BODY = 16 * 1024 * 1024;

/** The whole body; past `limit` bytes, undefined, or with `truncate` the first `limit` bytes. */
/** How long an idle connection stays open: well over Node's client-side 1 s buffer (see the constructor). */
export const KEEP_ALIVE_MS = 5000;

function readBody(req: http.IncomingMessage, limit: number, truncate = false): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      const room = limit - size;
      size += chunk.length;
      if (room > 0) chunks.push(chunk.length <= room ? chunk : chunk.subarray(0, room));
    });
    req.on('end', () => resolve(size > limit && !truncate ? undefined : Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function checkBudget(ms: number): number {
  if (!Number.isInteger(ms) || ms < 1) throw new RangeError(`the TestFunction budget must be a positive integer of ms, got ${ms}`);
  return ms;
}

export type { FunctionSummary };

/** CPU time over the stretches between pause() and resume(), from its creation to stop(); microseconds. */
interface CpuMeter {
  pause(): void;
  resume(): void;
  stop(): number;
}

function cpuMeter(): CpuMeter {
  let from: NodeJS.CpuUsage | undefined = process.cpuUsage();
  let total = 0;
  const pause = () => {
    if (!from) return;
    const d = process.cpuUsage(from);
    total += d.user + d.system;
    from = undefined;
  };
  return {
    pause,
    resume: () => {
      from ??= process.cpuUsage();
    },
    stop: () => {
      pause();
      return total;
    },
  };
}
