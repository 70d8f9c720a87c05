/**
 * SSM Parameter Store over its JSON 1.1 protocol (what @aws-sdk/client-ssm and `aws ssm` send):
 * `POST /` with `X-Amz-Target: AmazonSSM.<Operation>` and a JSON body. Only GetParameter and
 * PutParameter are served, on String parameters, one store per account.
 *
 *   GetParameter  {Name}                              → {Parameter: {Name, Type, Value, Version, LastModifiedDate, ARN, DataType}}
 *   PutParameter  {Name, Value, Type?, Overwrite?}    → {Version, Tier}
 *
 * Errors are HTTP 400 (500 for InternalServerError) with `{"__type", "message"}` and
 * `x-amzn-ErrorType`: ParameterNotFound for a name nobody put, ParameterAlreadyExists for a put over
 * an existing name without Overwrite, ValidationException for a malformed request. `setFault` makes
 * every call answer one error until it is cleared (a refused role, an outage).
 */
export const SSM_TARGET_PREFIX = 'AmazonSSM.';
const JSON_CONTENT_TYPE = 'application/x-amz-json-1.1';
// Parameter names: letters, digits and .-_/ (a hierarchy starts with /), up to 2048 characters.
const NAME = /^[a-zA-Z0-9_.\-/]{1,2048}$/;
const MAX_VALUE_CHARS = 4096;

export type SsmOperation = 'GetParameter' | 'PutParameter' | 'Unknown';

export interface SsmReply {
  operation: SsmOperation;
  status: number;
  headers: Record<string, string>;
  body: string;
}

export interface SsmParameterView {
  account: string;
  name: string;
  value: string;
  version: number;
  lastModified: Date;
}

/** An error every SSM call answers while it is set. */
export interface SsmFault {
  code: string;
  /** Default 400 (500 for InternalServerError). */
  status?: number;
  message?: string;
}

export class SsmStore {
  private readonly parameters = new Map<string, SsmParameterView>();
  private fault: SsmFault | undefined;

  constructor(
    private readonly partition: string,
    private readonly region: string,
    private readonly now: () => Date = () => new Date(),
  ) {}

  static operationOf(target: string): SsmOperation {
    const operation = target.slice(SSM_TARGET_PREFIX.length);
    return operation === 'GetParameter' || operation === 'PutParameter' ? operation : 'Unknown';
  }

  setFault(fault: SsmFault | undefined): void {
    this.fault = fault;
  }

  /** Puts (or overwrites) a parameter without HTTP; returns its new version. Throws RangeError on a bad name. */
  put(account: string, name: string, value: string): number {
    if (!NAME.test(name)) throw new RangeError(`invalid SSM parameter name ${JSON.stringify(name)}`);
    const version = (this.parameters.get(`${account}:${name}`)?.version ?? 0) + 1;
    this.parameters.set(`${account}:${name}`, { account, name, value, version, lastModified: this.now() });
    return version;
  }

  get(account: string, name: string): SsmParameterView | undefined {
    const parameter = this.parameters.get(`${account}:${name}`);
    return parameter ? { ...parameter } : undefined;
  }

  delete(account: string, name: string): void {
    this.parameters.delete(`${account}:${name}`);
  }

  reset(): void {
    this.parameters.clear();
  }

  handle(target: string, body: string, account: string): SsmReply {
    const operation = SsmStore.operationOf(target);
    if (this.fault) {
      const status = this.fault.status ?? (this.fault.code === 'InternalServerError' ? 500 : 400);
      return { operation, ...ssmError(this.fault.code, this.fault.message ?? `injected ${this.fault.code}`, status) };
    }
    if (operation === 'Unknown') {
      return { operation, ...ssmError('InvalidAction', `The operation ${target.slice(SSM_TARGET_PREFIX.length)} is not supported by the emulator.`) };
    }
    let input: Record<string, unknown>;
    try {
      const parsed = JSON.parse(body) as unknown;
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new SyntaxError('not an object');
      input = parsed as Record<string, unknown>;
    } catch {
      return { operation, ...ssmError('SerializationException', 'The request body is not a JSON object.') };
    }
    const name = input.Name;
    if (typeof name !== 'string' || !NAME.test(name)) {
      return { operation, ...ssmError('ValidationException', `Parameter name ${JSON.stringify(name)} is not valid.`) };
    }
    if (operation === 'GetParameter') {
      const parameter = this.get(account, name);
      if (!parameter) return { operation, ...ssmError('ParameterNotFound', '') };
      return ok(operation, {
        Parameter: {
          Name: parameter.name,
          Type: 'String',
          Value: parameter.value,
          Version: parameter.version,
          // JSON 1.1 timestamps are epoch seconds.
          LastModifiedDate: parameter.lastModified.getTime() / 1000,
          ARN: `arn:${this.partition}:ssm:${this.region}:${account}:parameter/${name.replace(/^\//, '')}`,
          DataType: 'text',
        },
      });
    }
    const { Value: value, Type: type, Overwrite: overwrite } = input;
    if (typeof value !== 'string' || value.length === 0 || value.length > MAX_VALUE_CHARS) {
      return { operation, ...ssmError('ValidationException', `Value must be a string of 1-${MAX_VALUE_CHARS} characters.`) };
    }
    if (type !== undefined && type !== 'String') {
      return { operation, ...ssmError('ValidationException', `The emulator serves String parameters only, not ${String(type)}.`) };
    }
    const existing = this.get(account, name);
    if (existing && overwrite !== true) {
      return {
        operation,
        ...ssmError('ParameterAlreadyExists', 'The parameter already exists. To overwrite this value, set the overwrite option in the request to true.'),
      };
    }
    if (!existing && type === undefined) {
      return { operation, ...ssmError('ValidationException', 'A parameter type is required when you create a parameter.') };
    }
    return ok(operation, { Version: this.put(account, name, value), Tier: 'Standard' });
  }
}

function ok(operation: SsmOperation, out: unknown): SsmReply {
  return { operation, status: 200, headers: { 'Content-Type': JSON_CONTENT_TYPE }, body: JSON.stringify(out) };
}

export function ssmError(code: string, message: string, status = 400): Omit<SsmReply, 'operation'> {
  return {
    status,
    headers: { 'Content-Type': JSON_CONTENT_TYPE, 'x-amzn-ErrorType': code },
    body: JSON.stringify({ __type: code, message }),
  };
}
