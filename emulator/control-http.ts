/**
 * The control API over HTTP, for a standalone emulator driven from a shell (curl next to the AWS CLI).
 * JSON in and out under `/_emulator/`, a prefix CloudFront never uses. These calls are not CloudFront
 * operations: no latency, throttling, faults, authorizer, call counts or CloudTrail events apply.
 *
 *   GET    /_emulator/distributions                       → 200 [distribution…]
 *   POST   /_emulator/distributions                       {id?, comment?, enabled?, pathPatterns?, originDomainName?} → 201
 *   DELETE /_emulator/distributions/{id}                  → 204
 *   PUT    /_emulator/distributions/{id}/associations     {functionArn, eventType, pathPattern?} → 200 distribution
 *   DELETE /_emulator/distributions/{id}/associations?eventType=…[&pathPattern=…] → 200 distribution
 *   GET    /_emulator/variants                            → 200 variants
 *   PUT    /_emulator/variants                            {name: value…} or ["name=value", …] → 200 variants
 *   GET    /_emulator/s3                                  → 200 [{bucket, key, size, contentType, etag, lastModified}…]
 *   PUT    /_emulator/s3/{bucket}                         {missingKey?: "NoSuchKey" | "AccessDenied"} → 200 (creates or changes)
 *   PUT    /_emulator/s3/{bucket}/{key…}                  raw bytes, Content-Type kept → 200 {bucket, key, etag, size, contentType}
 *   DELETE /_emulator/s3/{bucket}/{key…}                  → 204
 *   DELETE /_emulator/s3/{bucket}                         → 204 (the bucket and its objects)
 *
 * Organisation mode (emulator/ORGANIZATIONS.md):
 *
 *   GET    /_emulator/accounts                            → 200 [{accountId, name, email, state, joined}…] (home first)
 *   POST   /_emulator/accounts                            {accountId, name?, email?, state?} → 201 account
 *   PUT    /_emulator/accounts/{id}                       {state: "ACTIVE" | "SUSPENDED"} → 200 account
 *   GET    /_emulator/roles                               → 200 [{arn, trustedPrincipalArns}…]
 *   POST   /_emulator/roles                               {account, roleName, trustedPrincipalArns} → 201 role
 *   DELETE /_emulator/roles/{account}/{roleName}          → 204
 *   PUT    /_emulator/principals/{accessKeyId}            {arn} → 200 {accessKeyId, arn, account}
 *   GET    /_emulator/functions                           → 200 [function snapshot…]
 *   POST   /_emulator/functions                           {name, code, comment?, runtime?, tags?, publish?} → 201 {developmentEtag, liveEtag?}
 *
 * Connection functions (emulator/VARIANTS.md, "Connection functions"):
 *
 *   GET    /_emulator/connection-functions                → 200 [connection function snapshot…]
 *   POST   /_emulator/connection-functions                {name, code, comment?, tags?, publish?} → 201 {id, arn, developmentEtag, liveEtag?}
 *   PUT    /_emulator/distributions/{id}/connection-function  {connectionFunctionId} → 200 distribution
 *   DELETE /_emulator/distributions/{id}/connection-function  → 200 distribution
 *   (POST /_emulator/distributions takes `viewerMtls: {mode?, trustStoreId?}`, which a connection function needs.)
 *
 * `?account=ID` aims the functions, distributions and variants routes at that account (default: the
 * home account; for PUT variants, every account, as the JS API's top-level setVariants does).
 *
 * Errors: `{"code", "message"}` with the status the same call through the JS API would carry.
 */
import { CloudFrontError } from './errors';
import type { CloudFrontModel } from './model';
import { type Account, type AccountRegistry, ACCOUNT_STATUSES, type AccountStatus } from './accounts';
import type { Iam } from './iam';
import { parseS3Path, type S3Store } from './s3';
import type { FunctionEventType } from './distributions';
import { parseVariantAssignments, VARIANT_NAMES, type Variants } from './variants';

export const CONTROL_PREFIX = '/_emulator/';

export interface ControlReply {
  status: number;
  headers?: Record<string, string>;
  body?: string;
}

class ControlError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export interface ControlTargets {
  accounts: AccountRegistry;
  iam: Iam;
  s3: S3Store;
}

export async function handleControl(targets: ControlTargets, method: string, url: URL, body: Buffer, contentType?: string): Promise<ControlReply> {
  try {
    if (url.pathname === `${CONTROL_PREFIX}s3` || url.pathname.startsWith(`${CONTROL_PREFIX}s3/`)) {
      try {
        return s3Route(targets.s3, method, url, body, contentType);
      } catch (error) {
        // A bad bucket name or key, not a bad variant.
        if (error instanceof RangeError) throw new ControlError(400, 'InvalidRequest', error.message);
        throw error;
      }
    }
    const [resource] = url.pathname.slice(CONTROL_PREFIX.length).split('/');
    if (resource === 'accounts' || resource === 'roles' || resource === 'principals') {
      try {
        return organisationRoute(targets, method, url, body.toString('utf8'));
      } catch (error) {
        // A bad account id, role name or ARN: the JS API's RangeErrors, as a bad request.
        if (error instanceof RangeError) throw new ControlError(400, 'InvalidRequest', error.message);
        throw error;
      }
    }
    return route(targets.accounts, method, url, body.toString('utf8'));
  } catch (error) {
    if (error instanceof CloudFrontError) return json(error.status, { code: error.code, message: error.message });
    if (error instanceof ControlError) return json(error.status, { code: error.code, message: error.message });
    if (error instanceof RangeError) return json(400, { code: 'InvalidVariant', message: error.message });
    if (error instanceof URIError) return json(400, { code: 'InvalidRequest', message: 'Malformed percent-encoding in the path.' });
    throw error;
  }
}

function route(accounts: AccountRegistry, method: string, url: URL, body: string): ControlReply {
  const parts = url.pathname.slice(CONTROL_PREFIX.length).split('/').map(decodeURIComponent);
  const [resource, id, sub, extra] = parts;
  const accountParam = url.searchParams.get('account');
  const model: CloudFrontModel = accountOf(accounts, accountParam).model;
  if (resource === 'variants' && id === undefined) {
    if (method === 'GET') return json(200, model.variants);
    if (method === 'PUT') {
      const variants = variantsFrom(parseJson(body));
      return json(200, accountParam === null ? accounts.setVariants(variants) : model.setVariants(variants));
    }
  } else if (resource === 'functions' && id === undefined) {
    if (method === 'GET') return json(200, model.snapshot());
    if (method === 'POST') {
      const o = object(parseJson(body));
      const tags = o.tags === undefined ? undefined : stringMap(o.tags, 'tags');
      return json(
        201,
        model.seed({
          name: str(o.name, 'name'),
          code: str(o.code, 'code'),
          ...(o.comment === undefined ? {} : { comment: str(o.comment, 'comment') }),
          ...(o.runtime === undefined ? {} : { runtime: str(o.runtime, 'runtime') }),
          ...(tags === undefined ? {} : { tags }),
          publish: o.publish === true,
        }),
      );
    }
  } else if (resource === 'connection-functions' && id === undefined) {
    if (method === 'GET') return json(200, model.connectionFunctions.snapshot());
    if (method === 'POST') {
      const o = object(parseJson(body));
      const tags = o.tags === undefined ? undefined : stringMap(o.tags, 'tags');
      return json(
        201,
        model.connectionFunctions.seed({
          name: str(o.name, 'name'),
          code: str(o.code, 'code'),
          ...(o.comment === undefined ? {} : { comment: str(o.comment, 'comment') }),
          ...(tags === undefined ? {} : { tags }),
          publish: o.publish === true,
        }),
      );
    }
  } else if (resource === 'distributions' && id !== undefined && sub === 'connection-function' && extra === undefined) {
    if (method === 'PUT') {
      const o = object(parseJson(body));
      return json(200, model.connectionFunctions.associate({ distributionId: id, connectionFunctionId: str(o.connectionFunctionId, 'connectionFunctionId') }));
    }
    if (method === 'DELETE') return json(200, model.connectionFunctions.disassociate(id));
  } else if (resource === 'distributions' && extra === undefined) {
    if (id === undefined && method === 'GET') return json(200, model.distributions());
    if (id === undefined && method === 'POST') {
      const input = parseJson(body) ?? {};
      if (typeof input !== 'object' || Array.isArray(input)) throw new ControlError(400, 'InvalidRequest', 'Expected a JSON object.');
      const o = input as Record<string, unknown>;
      return json(
        201,
        model.createDistribution({
          ...(o.id === undefined ? {} : { id: str(o.id, 'id') }),
          ...(o.comment === undefined ? {} : { comment: str(o.comment, 'comment') }),
          ...(o.enabled === undefined ? {} : { enabled: o.enabled === true }),
          ...(o.originDomainName === undefined ? {} : { originDomainName: str(o.originDomainName, 'originDomainName') }),
          ...(o.pathPatterns === undefined ? {} : { pathPatterns: strings(o.pathPatterns, 'pathPatterns') }),
          ...(o.viewerMtls === undefined ? {} : { viewerMtls: viewerMtls(o.viewerMtls) }),
        }),
      );
    }
    if (id !== undefined && sub === undefined && method === 'DELETE') {
      model.deleteDistribution(id);
      return { status: 204 };
    }
    if (id !== undefined && sub === 'associations' && method === 'PUT') {
      const o = (parseJson(body) ?? {}) as Record<string, unknown>;
      return json(
        200,
        model.associateFunction({
          distributionId: id,
          functionArn: str(o.functionArn, 'functionArn'),
          eventType: str(o.eventType, 'eventType') as FunctionEventType,
          ...(o.pathPattern === undefined ? {} : { pathPattern: str(o.pathPattern, 'pathPattern') }),
        }),
      );
    }
    if (id !== undefined && sub === 'associations' && method === 'DELETE') {
      const pathPattern = url.searchParams.get('pathPattern');
      return json(
        200,
        model.disassociateFunction({
          distributionId: id,
          eventType: str(url.searchParams.get('eventType') ?? undefined, 'eventType') as FunctionEventType,
          ...(pathPattern === null ? {} : { pathPattern }),
        }),
      );
    }
  }
  throw new ControlError(404, 'NotFound', `No control route ${method} ${url.pathname}.`);
}

function organisationRoute(targets: ControlTargets, method: string, url: URL, body: string): ControlReply {
  const { accounts, iam } = targets;
  const [resource, id, sub, extra] = url.pathname.slice(CONTROL_PREFIX.length).split('/').map(decodeURIComponent);
  if (resource === 'accounts' && sub === undefined) {
    if (id === undefined && method === 'GET') return json(200, accounts.all().map(accountView));
    if (id === undefined && method === 'POST') {
      const o = object(parseJson(body));
      const account = accounts.add(str(o.accountId, 'accountId'), {
        ...(o.name === undefined ? {} : { name: str(o.name, 'name') }),
        ...(o.email === undefined ? {} : { email: str(o.email, 'email') }),
        ...(o.state === undefined ? {} : { state: accountStatus(o.state) }),
      });
      return json(201, accountView(account));
    }
    if (id !== undefined && method === 'PUT') {
      const account = accountOf(accounts, id);
      account.setStatus(accountStatus(object(parseJson(body)).state));
      return json(200, accountView(account));
    }
  } else if (resource === 'roles') {
    if (id === undefined && method === 'GET') return json(200, iam.roles());
    if (id === undefined && method === 'POST') {
      const o = object(parseJson(body));
      return json(
        201,
        iam.createRole({
          account: str(o.account, 'account'),
          roleName: str(o.roleName, 'roleName'),
          trustedPrincipalArns: strings(o.trustedPrincipalArns, 'trustedPrincipalArns'),
        }),
      );
    }
    if (id !== undefined && sub !== undefined && extra === undefined && method === 'DELETE') {
      iam.deleteRole(id, sub);
      return { status: 204 };
    }
  } else if (resource === 'principals' && id !== undefined && sub === undefined && method === 'PUT') {
    const principal = iam.setPrincipal(id, str(object(parseJson(body)).arn, 'arn'));
    return json(200, { accessKeyId: id, arn: principal.arn, account: principal.accountId });
  }
  throw new ControlError(404, 'NotFound', `No control route ${method} ${url.pathname}.`);
}

/** The account `?account=` names, the home account without one; 404 for an account not served. */
function accountOf(accounts: AccountRegistry, id: string | null): Account {
  if (id === null) return accounts.home;
  const account = accounts.find(id);
  if (!account) throw new ControlError(404, 'NoSuchAccount', `The emulator serves no account ${id}.`);
  return account;
}

function accountView(a: Account): Record<string, unknown> {
  return { accountId: a.accountId, name: a.name, email: a.email, state: a.status, joined: a.joined.toISOString() };
}

function accountStatus(value: unknown): AccountStatus {
  if (!ACCOUNT_STATUSES.includes(value as AccountStatus)) throw new ControlError(400, 'InvalidRequest', 'state must be "ACTIVE" or "SUSPENDED".');
  return value as AccountStatus;
}

function s3Route(s3: S3Store, method: string, url: URL, body: Buffer, contentType: string | undefined): ControlReply {
  const rest = url.pathname.slice(`${CONTROL_PREFIX}s3`.length);
  if (rest === '' || rest === '/') {
    if (method === 'GET') return json(200, s3.list());
    throw new ControlError(404, 'NotFound', `No control route ${method} ${url.pathname}.`);
  }
  const target = parseS3Path(rest);
  if (!target) throw new ControlError(400, 'InvalidRequest', 'Expected /_emulator/s3/{bucket}[/{key}].');
  const { bucket, key } = target;
  if (key === undefined) {
    if (method === 'PUT') {
      const o = (parseJson(body.toString('utf8')) ?? {}) as Record<string, unknown>;
      const missingKey = o.missingKey;
      if (missingKey !== undefined && missingKey !== 'NoSuchKey' && missingKey !== 'AccessDenied') {
        throw new ControlError(400, 'InvalidRequest', 'missingKey must be "NoSuchKey" or "AccessDenied".');
      }
      s3.createBucket(bucket, missingKey === undefined ? {} : { missingKey });
      return json(200, { bucket });
    }
    if (method === 'DELETE') {
      s3.deleteBucket(bucket);
      return { status: 204 };
    }
  } else {
    if (method === 'PUT') {
      const { etag } = s3.putObject(bucket, key, body, contentType ? { contentType } : {});
      return json(200, { bucket, key, etag, size: body.length, contentType: contentType ?? 'binary/octet-stream' });
    }
    if (method === 'DELETE') {
      s3.deleteObject(bucket, key);
      return { status: 204 };
    }
  }
  throw new ControlError(404, 'NotFound', `No control route ${method} ${url.pathname}.`);
}

function variantsFrom(input: unknown): Partial<Variants> {
  if (Array.isArray(input)) return parseVariantAssignments(strings(input, 'variants'));
  if (typeof input !== 'object' || input === null) throw new ControlError(400, 'InvalidRequest', 'Expected variants as an object or NAME=VALUE strings.');
  const assignments: string[] = [];
  const out: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(input)) {
    if (typeof value === 'string') assignments.push(`${name}=${value}`);
    else if ((VARIANT_NAMES as readonly string[]).includes(name)) out[name] = value;
    else throw new RangeError(`unknown variant ${name}`);
  }
  return { ...(out as Partial<Variants>), ...parseVariantAssignments(assignments) };
}

function viewerMtls(value: unknown): { mode?: 'required' | 'optional'; trustStoreId?: string } {
  const o = object(value);
  if (o.mode !== undefined && o.mode !== 'required' && o.mode !== 'optional')
    throw new ControlError(400, 'InvalidRequest', 'viewerMtls.mode must be "required" or "optional".');
  return {
    ...(o.mode === undefined ? {} : { mode: o.mode }),
    ...(o.trustStoreId === undefined ? {} : { trustStoreId: str(o.trustStoreId, 'viewerMtls.trustStoreId') }),
  };
}

function parseJson(body: string): unknown {
  if (body.trim() === '') return undefined;
  try {
    return JSON.parse(body) as unknown;
  } catch {
    throw new ControlError(400, 'InvalidRequest', 'The body is not JSON.');
  }
}

function object(value: unknown): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new ControlError(400, 'InvalidRequest', 'Expected a JSON object.');
  return value as Record<string, unknown>;
}

function stringMap(value: unknown, name: string): Record<string, string> {
  const o = typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  if (!o || !Object.values(o).every((v) => typeof v === 'string')) throw new ControlError(400, 'InvalidRequest', `${name} must be an object of strings.`);
  return o as Record<string, string>;
}

function str(value: unknown, name: string): string {
  if (typeof value !== 'string') throw new ControlError(400, 'InvalidRequest', `${name} must be a string.`);
  return value;
}

function strings(value: unknown, name: string): string[] {
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'string'))
    throw new ControlError(400, 'InvalidRequest', `${name} must be an array of strings.`);
  return value as string[];
}

function json(status: number, value: unknown): ControlReply {
  return { status, headers: { 'Content-Type': 'application/json' }, body: `${JSON.stringify(value, null, 2)}\n` };
}
