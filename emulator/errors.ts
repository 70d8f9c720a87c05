/**
 * The wire errors the emulator answers with: a code, an HTTP status and a message. Kept apart from the
 * model so the function and distribution stores can both throw them.
 */

export class CloudFrontError extends Error {
  override name = 'CloudFrontError';
  constructor(
    readonly code: string,
    readonly status: number,
    message: string,
  ) {
    super(message);
  }

  /** The ErrorResponse `<Type>`: who is at fault. */
  get type(): 'Sender' | 'Receiver' {
    return this.status >= 500 ? 'Receiver' : 'Sender';
  }
}

// Messages are the ones seen in public error outputs where known (PreconditionFailed and
// InvalidIfMatchVersion come from Terraform/Crossplane issue logs); the others are plausible wording.
export const errors = {
  noSuchFunction: (name: string) => new CloudFrontError('NoSuchFunctionExists', 404, `The function does not exist: ${name}`),
  preconditionFailed: () =>
    new CloudFrontError('PreconditionFailed', 412, "The request failed because it didn't meet the preconditions in one or more request-header fields."),
  invalidIfMatch: () => new CloudFrontError('InvalidIfMatchVersion', 400, 'The If-Match version is missing or not valid for the resource.'),
  invalidArgument: (message: string) => new CloudFrontError('InvalidArgument', 400, message),
  invalidTagging: (message: string) => new CloudFrontError('InvalidTagging', 400, message),
  alreadyExists: (name: string) => new CloudFrontError('FunctionAlreadyExists', 409, `A function with the name ${name} already exists.`),
  tooManyFunctions: (quota: number) =>
    new CloudFrontError('TooManyFunctions', 400, `You have reached the maximum number of CloudFront functions for this AWS account (${quota}).`),
  sizeLimit: (limit: number) => new CloudFrontError('FunctionSizeLimitExceeded', 413, `The function is too large. The maximum size is ${limit} bytes.`),
  noSuchResource: () => new CloudFrontError('NoSuchResource', 404, 'The specified CloudFront resource does not exist.'),
  throttling: () => new CloudFrontError('Throttling', 400, 'Rate exceeded'),
  accessDenied: (message: string) => new CloudFrontError('AccessDenied', 403, message),
  unsupported: (message: string) => new CloudFrontError('UnsupportedOperation', 400, message),
  /** Not in the API model: the service's answer to a request that breaks the model's constraints. */
  malformedXml: (message: string) => new CloudFrontError('MalformedXML', 400, message),
  functionInUse: (name: string) =>
    new CloudFrontError('FunctionInUse', 409, `Cannot delete function ${name}: it is associated with one or more cache behaviors.`),
  noSuchDistribution: (id: string) => new CloudFrontError('NoSuchDistribution', 404, `The specified distribution does not exist: ${id}`),
  invalidFunctionAssociation: (message: string) => new CloudFrontError('InvalidFunctionAssociation', 400, message),
  // Connection functions answer the generic entity errors (botocore 1.43.11 cloudfront 2020-05-31 service model).
  entityNotFound: (identifier: string) => new CloudFrontError('EntityNotFound', 404, `The connection function does not exist: ${identifier}`),
  entityAlreadyExists: (name: string) => new CloudFrontError('EntityAlreadyExists', 409, `A connection function with the name ${name} already exists.`),
  entityLimitExceeded: (quota: number) =>
    new CloudFrontError('EntityLimitExceeded', 400, `You have reached the maximum number of connection functions for this AWS account (${quota}).`),
  entitySizeLimitExceeded: (limit: number) =>
    new CloudFrontError('EntitySizeLimitExceeded', 413, `The connection function is too large. The maximum size is ${limit} bytes.`),
  cannotDeleteEntityWhileInUse: (id: string) =>
    new CloudFrontError('CannotDeleteEntityWhileInUse', 409, `Cannot delete connection function ${id}: it is associated with one or more distributions.`),
  tooManyDistributionsWithSingleFunctionArn: (quota: number) =>
    new CloudFrontError('TooManyDistributionsWithSingleFunctionARN', 400, `A function can be associated with at most ${quota} distributions.`),
};
