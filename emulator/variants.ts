/**
 * Variants: the CloudFront behaviours nobody has confirmed against a live account, as switches on one
 * emulator instance. Each has a default (the reading the emulator follows unless told otherwise) and a
 * finite list of values, so tests can run the reconciler under every plausible reading
 * (`ALL_VARIANTS`, `variantCombinations()`). Sources: docs/cloudfront-api.md; see emulator/VARIANTS.md.
 */

/**
 * How long the status stays `IN_PROGRESS` after a PublishFunction.
 * - `immediate`: never; the publish answer and every later read show the settled status.
 * - `reads`: the publish answer and the next `reads` reads of the function (DescribeFunction, one
 *   ListFunctions call, TestFunction) say `IN_PROGRESS`; the read after those is settled.
 * - `duration`: `IN_PROGRESS` until `ms` milliseconds (of the model's clock) after the publish.
 */
export type PublishSettling =
  | { readonly kind: 'immediate' }
  | { readonly kind: 'reads'; readonly reads: number }
  | { readonly kind: 'duration'; readonly ms: number };

export interface Variants {
  /**
   * DEVELOPMENT's Status after an UpdateFunction of a function some distribution uses (its LIVE
   * version is associated). `UNPUBLISHED` (default) as for any other update, or `DEPLOYED`: the status
   * keeps describing the associated LIVE version, so it no longer tells that DEVELOPMENT differs.
   * Unassociated functions always read `UNPUBLISHED` after an update.
   */
  readonly developmentStatusAfterAssociatedUpdate: 'UNPUBLISHED' | 'DEPLOYED';
  /**
   * LIVE's `FunctionMetadata.LastModifiedTime` after a publish: `publish-time` (default, the moment of
   * the publish) or `copied-from-development` (DEVELOPMENT's LastModifiedTime as it was).
   */
  readonly liveLastModifiedTime: 'publish-time' | 'copied-from-development';
  /** Status right after a publish; default `{ kind: 'immediate' }`. */
  readonly statusAfterPublish: PublishSettling;
  /**
   * The error for an invalid function name or a Comment over 128 characters (CreateFunction,
   * UpdateFunction), both HTTP 400: `MalformedXML` (default; the model-constraint answer Terraform's
   * provider PR 49395 reports for these inputs) or `InvalidArgument` (what the API model lists).
   */
  readonly validationError: 'MalformedXML' | 'InvalidArgument';
  /**
   * TestFunction of a run that reaches its compute budget: `error` (default) stops it with
   * FunctionErrorMessage TIMEOUT_MESSAGE and ComputeUtilization "100"; `capped-100` answers
   * ComputeUtilization "100" with no FunctionErrorMessage, and the output if the run finished within
   * OVERRUN_FACTOR × the budget (emulator/runtime.ts).
   */
  readonly overBudget: 'error' | 'capped-100';
  /**
   * Where a function's CloudTrail record names the function (no successful function record is public,
   * docs/cloudfront-api.md#cloudtrail-events): `both` (default, the emulator's first guess:
   * `requestParameters.name` or `.resource`, and `responseElements.functionSummary`),
   * `requestParameters` only (`responseElements` null), `responseElements` only (the request's
   * `name`/`resource` left out; a call without a response body then names nothing), or `neither`
   * (`requestParameters` replaced by the redaction string, `responseElements` null).
   */
  readonly cloudTrailFunctionName: 'both' | 'requestParameters' | 'responseElements' | 'neither';
  /**
   * The record's `eventName`: `suffixed` (default, `UpdateFunction2020_05_31`, the wire name) or
   * `plain` (`UpdateFunction`). Connection-function records follow the same switch
   * (`UpdateConnectionFunction2020_05_31` or `UpdateConnectionFunction`): one service, one convention.
   */
  readonly cloudTrailEventName: 'suffixed' | 'plain';
  /**
   * Which identifiers a connection function's CloudTrail record carries in `requestParameters` for the
   * calls addressed by Id (UpdateConnectionFunction, PublishConnectionFunction, DeleteConnectionFunction):
   * `id` (default: the request as sent, whose only identifier is the Id), `name` (CloudTrail names the
   * function, as for the ordinary kind) or `id-and-name`. CreateConnectionFunction's request carries
   * `name` under all three; `responseElements.connectionFunctionSummary` always has both. Where the
   * record names it at all is still `cloudTrailFunctionName`.
   */
  readonly connectionCloudTrailIdentifier: 'id' | 'name' | 'id-and-name';
  /**
   * LIVE's ETag after a PublishConnectionFunction: `same-as-development` (default, as for the ordinary
   * kind: the published version keeps its ETag) or `distinct` (LIVE carries its own token for that
   * version, so equal ETags never mean "in sync").
   */
  readonly connectionLiveEtag: 'same-as-development' | 'distinct';
  /**
   * The Status a connection function's DEVELOPMENT stage reports: `derived` (default, as for the
   * ordinary kind: `UNPUBLISHED` while it holds a version LIVE does not, otherwise LIVE's status) or
   * `always-UNPUBLISHED` (DEVELOPMENT always says `UNPUBLISHED`; only ETags tell). LIVE reports
   * `PUBLISHING` inside a publish's window (`statusAfterPublish`), then `DEPLOYED` or `UNASSOCIATED`.
   */
  readonly connectionDevelopmentStatus: 'derived' | 'always-UNPUBLISHED';
  /**
   * What DescribeConnectionFunction, GetConnectionFunction and ListDistributionsByConnectionFunction
   * accept as `Identifier`: `id-name-or-arn` (default: what "Identifier" means for the other resources
   * of this API, e.g. GetConnectionGroup's "ID, name, or ARN") or `id-only` (a name or ARN is
   * EntityNotFound).
   */
  readonly connectionIdentifier: 'id-name-or-arn' | 'id-only';
  /**
   * What a connection function's ARN ends with: `id` (default: `connection-function/<Id>`, as the
   * functions are addressed by Id) or `name` (`connection-function/<Name>`, as the one ARN the
   * Developer Guide prints, in an example whose output shape predates the model). Tagging calls find
   * the function by the ARN of the reading in force.
   */
  readonly connectionArn: 'id' | 'name';
}

export type VariantName = keyof Variants;

export const DEFAULT_VARIANTS: Variants = Object.freeze({
  developmentStatusAfterAssociatedUpdate: 'UNPUBLISHED',
  liveLastModifiedTime: 'publish-time',
  statusAfterPublish: Object.freeze({ kind: 'immediate' }),
  validationError: 'MalformedXML',
  overBudget: 'error',
  cloudTrailFunctionName: 'both',
  cloudTrailEventName: 'suffixed',
  connectionCloudTrailIdentifier: 'id',
  connectionLiveEtag: 'same-as-development',
  connectionDevelopmentStatus: 'derived',
  connectionIdentifier: 'id-name-or-arn',
  connectionArn: 'id',
});

export type VariantValues = { readonly [K in VariantName]: readonly Variants[K][] };

/**
 * The values each variant takes in `ALL_VARIANTS`, default first. The IN_PROGRESS readings are
 * represented by two reads and by 200 ms; pass other values to `variantCombinations` if needed.
 */
export const VARIANT_VALUES: VariantValues = Object.freeze({
  developmentStatusAfterAssociatedUpdate: Object.freeze(['UNPUBLISHED', 'DEPLOYED'] as const),
  liveLastModifiedTime: Object.freeze(['publish-time', 'copied-from-development'] as const),
  statusAfterPublish: Object.freeze([{ kind: 'immediate' }, { kind: 'reads', reads: 2 }, { kind: 'duration', ms: 200 }] as const),
  validationError: Object.freeze(['MalformedXML', 'InvalidArgument'] as const),
  overBudget: Object.freeze(['error', 'capped-100'] as const),
  cloudTrailFunctionName: Object.freeze(['both', 'requestParameters', 'responseElements', 'neither'] as const),
  cloudTrailEventName: Object.freeze(['suffixed', 'plain'] as const),
  connectionCloudTrailIdentifier: Object.freeze(['id', 'name', 'id-and-name'] as const),
  connectionLiveEtag: Object.freeze(['same-as-development', 'distinct'] as const),
  connectionDevelopmentStatus: Object.freeze(['derived', 'always-UNPUBLISHED'] as const),
  connectionIdentifier: Object.freeze(['id-name-or-arn', 'id-only'] as const),
  connectionArn: Object.freeze(['id', 'name'] as const),
});

export const VARIANT_NAMES: readonly VariantName[] = Object.freeze([
  'developmentStatusAfterAssociatedUpdate',
  'liveLastModifiedTime',
  'statusAfterPublish',
  'validationError',
  'overBudget',
  'cloudTrailFunctionName',
  'cloudTrailEventName',
  'connectionCloudTrailIdentifier',
  'connectionLiveEtag',
  'connectionDevelopmentStatus',
  'connectionIdentifier',
  'connectionArn',
]);

/** The variants that shape CloudTrail records only (what the reconciler is told), not CloudFront's answers. */
export const CLOUDTRAIL_VARIANT_NAMES: readonly VariantName[] = Object.freeze([
  'cloudTrailFunctionName',
  'cloudTrailEventName',
  'connectionCloudTrailIdentifier',
]);

/** The variants that only change connection functions (emulator/VARIANTS.md, "Connection functions"). */
export const CONNECTION_VARIANT_NAMES: readonly VariantName[] = Object.freeze([
  'connectionCloudTrailIdentifier',
  'connectionLiveEtag',
  'connectionDevelopmentStatus',
  'connectionIdentifier',
  'connectionArn',
]);

/** Each named variant pinned to its default: the starting point of the groups below. */
function pinned(names: readonly VariantName[]): Partial<VariantValues> {
  return Object.fromEntries(names.map((name) => [name, [DEFAULT_VARIANTS[name]]])) as Partial<VariantValues>;
}

/**
 * The combinations of the CloudFront behaviours of the ordinary kind (48), each with the default
 * CloudTrail record shape and the connection-function readings at their defaults: what a test
 * iterates over when the record shape is not what it varies.
 */
export function cloudFrontCombinations(values: Partial<VariantValues> = {}): Variants[] {
  return variantCombinations({ ...pinned(CONNECTION_VARIANT_NAMES), cloudTrailFunctionName: ['both'], cloudTrailEventName: ['suffixed'], ...values });
}

/** The CloudTrail record shapes of the ordinary kind (8), each with the default CloudFront behaviours. */
export function recordShapeCombinations(values: Partial<VariantValues> = {}): Variants[] {
  return variantCombinations({ ...pinned(VARIANT_NAMES.filter((name) => name !== 'cloudTrailFunctionName' && name !== 'cloudTrailEventName')), ...values });
}

/**
 * The readings of CloudFront's answers about connection functions (16: LIVE's ETag × DEVELOPMENT's
 * status × what an Identifier accepts × the ARN's last part), everything else at its default.
 */
export function connectionCombinations(values: Partial<VariantValues> = {}): Variants[] {
  const others = VARIANT_NAMES.filter((name) => !CONNECTION_VARIANT_NAMES.includes(name) || name === 'connectionCloudTrailIdentifier');
  return variantCombinations({ ...pinned(others), ...values });
}

/**
 * The connection-function record shapes (24: which identifiers × where the record names the function
 * × the eventName form), everything else at its default.
 */
export function connectionRecordShapeCombinations(values: Partial<VariantValues> = {}): Variants[] {
  return variantCombinations({ ...pinned(VARIANT_NAMES.filter((name) => !CLOUDTRAIL_VARIANT_NAMES.includes(name))), ...values });
}

/** Every combination (cartesian product) of `values`; missing names take `VARIANT_VALUES`' list. */
export function variantCombinations(values: Partial<VariantValues> = {}): Variants[] {
  let combos: Array<Partial<Record<VariantName, unknown>>> = [{}];
  for (const name of VARIANT_NAMES) {
    const options = (values[name] ?? VARIANT_VALUES[name]) as readonly unknown[];
    if (options.length === 0) throw new RangeError(`variant ${name} has no values`);
    combos = combos.flatMap((combo) => options.map((value) => ({ ...combo, [name]: value })));
  }
  return combos.map((combo) => resolveVariants(combo as Partial<Variants>));
}

/**
 * All 18432 combinations of `VARIANT_VALUES` (2 × 2 × 3 × 2 × 2 × 4 × 2 for the ordinary kind, × 3 × 2
 * × 2 × 2 × 2 for connection functions), the defaults first. Tests iterate over one of the groups above.
 */
export const ALL_VARIANTS: readonly Variants[] = Object.freeze(variantCombinations());

/** Fills the unspecified variants with the defaults and checks every value. */
export function resolveVariants(partial: Partial<Variants> = {}): Variants {
  const v: Variants = { ...DEFAULT_VARIANTS, ...stripUndefined(partial) };
  oneOf('developmentStatusAfterAssociatedUpdate', v.developmentStatusAfterAssociatedUpdate, VARIANT_VALUES.developmentStatusAfterAssociatedUpdate);
  oneOf('liveLastModifiedTime', v.liveLastModifiedTime, VARIANT_VALUES.liveLastModifiedTime);
  oneOf('validationError', v.validationError, VARIANT_VALUES.validationError);
  oneOf('overBudget', v.overBudget, VARIANT_VALUES.overBudget);
  oneOf('cloudTrailFunctionName', v.cloudTrailFunctionName, VARIANT_VALUES.cloudTrailFunctionName);
  oneOf('cloudTrailEventName', v.cloudTrailEventName, VARIANT_VALUES.cloudTrailEventName);
  oneOf('connectionCloudTrailIdentifier', v.connectionCloudTrailIdentifier, VARIANT_VALUES.connectionCloudTrailIdentifier);
  oneOf('connectionLiveEtag', v.connectionLiveEtag, VARIANT_VALUES.connectionLiveEtag);
  oneOf('connectionDevelopmentStatus', v.connectionDevelopmentStatus, VARIANT_VALUES.connectionDevelopmentStatus);
  oneOf('connectionIdentifier', v.connectionIdentifier, VARIANT_VALUES.connectionIdentifier);
  oneOf('connectionArn', v.connectionArn, VARIANT_VALUES.connectionArn);
  const s = v.statusAfterPublish;
  const ok =
    s?.kind === 'immediate' ||
    (s?.kind === 'reads' && Number.isInteger(s.reads) && s.reads >= 1) ||
    (s?.kind === 'duration' && Number.isFinite(s.ms) && s.ms >= 0);
  if (!ok) throw new RangeError(`invalid statusAfterPublish ${JSON.stringify(s)}: expected immediate, reads:N (N >= 1) or duration:MS`);
  return Object.freeze({ ...v, statusAfterPublish: Object.freeze({ ...s }) });
}

/** One line naming a combination, for test titles and logs: `dev-after-update=DEPLOYED live-mtime=… …`. */
export function describeVariants(v: Variants): string {
  return VARIANT_NAMES.map((name) => `${name}=${formatVariantValue(name, v[name])}`).join(' ');
}

export function formatVariantValue<K extends VariantName>(name: K, value: Variants[K]): string {
  if (name !== 'statusAfterPublish') return String(value);
  const s = value as PublishSettling;
  return s.kind === 'immediate' ? 'immediate' : s.kind === 'reads' ? `reads:${s.reads}` : `duration:${s.ms}`;
}

/**
 * Parses `NAME=VALUE` assignments (the CLI's `--variant` option): e.g.
 * `developmentStatusAfterAssociatedUpdate=DEPLOYED`, `statusAfterPublish=reads:3`,
 * `statusAfterPublish=duration:5000`, `validationError=InvalidArgument`, `overBudget=capped-100`,
 * `cloudTrailFunctionName=neither`, `cloudTrailEventName=plain`, `connectionLiveEtag=distinct`,
 * `connectionCloudTrailIdentifier=name`, `connectionDevelopmentStatus=always-UNPUBLISHED`,
 * `connectionIdentifier=id-only`, `connectionArn=name`.
 */
export function parseVariantAssignments(assignments: readonly string[]): Partial<Variants> {
  const out: Record<string, unknown> = {};
  for (const assignment of assignments) {
    const eq = assignment.indexOf('=');
    const name = assignment.slice(0, eq) as VariantName;
    const raw = assignment.slice(eq + 1);
    if (eq < 1 || !VARIANT_NAMES.includes(name)) {
      throw new RangeError(`unknown variant "${assignment}": expected NAME=VALUE with NAME one of ${VARIANT_NAMES.join(', ')}`);
    }
    out[name] = name === 'statusAfterPublish' ? parseSettling(raw) : raw;
  }
  const partial = out as Partial<Variants>;
  resolveVariants(partial);
  return partial;
}

function parseSettling(raw: string): PublishSettling {
  if (raw === 'immediate') return { kind: 'immediate' };
  const m = /^(reads|duration):(\d+)$/.exec(raw);
  if (!m) throw new RangeError(`invalid statusAfterPublish "${raw}": expected immediate, reads:N or duration:MS`);
  return m[1] === 'reads' ? { kind: 'reads', reads: Number(m[2]) } : { kind: 'duration', ms: Number(m[2]) };
}

function oneOf(name: string, value: unknown, allowed: readonly unknown[]): void {
  if (!allowed.includes(value)) throw new RangeError(`invalid ${name} ${JSON.stringify(value)}: expected one of ${allowed.join(', ')}`);
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
