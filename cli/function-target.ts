/**
 * A function named on the command line, of either kind: a CloudFront Function is addressed by its
 * name, a connection function by its Id, and a name may be taken once per kind
 * (docs/cloudfront-api.md#connection-functions). The operator types a name; this finds which
 * function it is, and asks for `--kind` when both kinds have it rather than guess.
 */
import type { CloudFrontGateway } from '../lib/cloudfront-gateway';
import { FUNCTION_KINDS, type FunctionKind, type FunctionRef, isFunctionName } from '../lib/function-ref';
import { CommandError, UsageError } from './io';

/** `--kind`, checked: undefined when not given. */
export function kindOption(raw: string | undefined): FunctionKind | undefined {
  if (raw === undefined) return undefined;
  if (!(FUNCTION_KINDS as readonly string[]).includes(raw)) throw new UsageError(`--kind "${raw}" is not function or connection`);
  return raw as FunctionKind;
}

/** How a kind is called in what the CLI prints. */
export const KIND_LABEL: Readonly<Record<FunctionKind, string>> = { function: 'CloudFront function', connection: 'connection function' };

const noneNamed = (name: string, kind: FunctionKind | undefined) => new CommandError(`no ${kind === 'connection' ? 'connection ' : ''}function named ${name}`);

/**
 * The function `name` names. Only the kinds asked for are read: DescribeFunction for the ordinary
 * kind, the DEVELOPMENT listing of connection functions for the other (Describe by name is not a
 * reading every account offers, emulator/VARIANTS.md `connectionIdentifier`).
 */
export async function resolveFunction(cloudfront: CloudFrontGateway, name: string, kind: FunctionKind | undefined): Promise<FunctionRef> {
  if (!isFunctionName(name)) throw new UsageError(`"${name}" is not a valid CloudFront function name`);
  const [ordinary, connection] = await Promise.all([
    kind === 'connection' ? undefined : ordinaryNamed(cloudfront, name),
    kind === 'function' ? undefined : connectionNamed(cloudfront, name),
  ]);
  if (ordinary && connection) {
    throw new UsageError(
      `"${name}" names both a CloudFront function (${ordinary.arn}) and a connection function (${connection.arn}): pass --kind function or --kind connection`,
    );
  }
  const found = ordinary ?? connection;
  if (!found) throw noneNamed(name, kind);
  return found;
}

async function ordinaryNamed(cloudfront: CloudFrontGateway, name: string): Promise<FunctionRef | undefined> {
  const development = await cloudfront.describe(name, 'DEVELOPMENT');
  return development?.arn ? { name, arn: development.arn } : undefined;
}

async function connectionNamed(cloudfront: CloudFrontGateway, name: string): Promise<FunctionRef | undefined> {
  for await (const page of cloudfront.listFunctions('DEVELOPMENT', undefined, 'connection')) {
    const match = page.find((listed) => listed.name === name);
    if (match?.kind === 'connection') return { kind: 'connection', id: match.id, name: match.name, arn: match.arn };
  }
  return undefined;
}

/**
 * A function the name guard refuses is never read (as in the Lambdas): a reference to it without an
 * ARN, of the kind asked for, so that reconcile can say `skipped-not-allowed`.
 */
export function unreadRef(name: string, kind: FunctionKind | undefined): FunctionRef {
  return kind === 'connection' ? { kind, id: '', name, arn: '' } : { name, arn: '' };
}
