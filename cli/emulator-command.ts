/** `cf-autopublish emulator`: the embedded CloudFront emulator alone, until Ctrl-C. */
import { describeVariants, parseVariantAssignments, startEmulator } from '../emulator/index';
import { type Io, UsageError } from './io';

export interface EmulatorCommandOptions {
  readonly port?: string | undefined;
  readonly account?: string | undefined;
  readonly variants?: readonly string[] | undefined;
  /** Resolves when the emulator should stop (default: SIGINT or SIGTERM). */
  readonly until?: Promise<void>;
}

export async function runEmulator(options: EmulatorCommandOptions, io: Io): Promise<number> {
  const { port, account, variants: variantAssignments = [] } = options;
  // Checked here, not left to listen(): a port above 65535 is a bad option (exit 2), not a failure.
  if (port !== undefined && !(/^\d{1,5}$/.test(port) && Number(port) <= 65535)) throw new UsageError(`--port "${port}" is not a port number (0-65535)`);
  if (account !== undefined && !/^\d{12}$/.test(account)) throw new UsageError(`--account "${account}" is not a 12-digit account ID`);
  let variants: ReturnType<typeof parseVariantAssignments>;
  try {
    variants = parseVariantAssignments(variantAssignments);
  } catch (error) {
    throw new UsageError(`--variant: ${(error as Error).message}`);
  }
  const emulator = await startEmulator({ port: port === undefined ? 0 : Number(port), variants, ...(account ? { accountId: account } : {}) });
  io.out(`CloudFront emulator listening on ${emulator.endpoint} (account ${emulator.accountId}). Ctrl-C to stop.`);
  io.out(`  variants: ${describeVariants(emulator.controls.variants())}`);
  io.out(`  aws cloudfront list-functions --endpoint-url ${emulator.endpoint}`);
  // One line per CloudTrail record, so a person can watch the calls arrive. A role session has no
  // user name, so its ARN stands in; once accounts were added (control API), each line says which.
  emulator.onCloudTrailEvent(({ detail: d }) => {
    // A connection function's record may carry its Id rather than its name (variant connectionCloudTrailIdentifier).
    const params = (d.requestParameters ?? {}) as { name?: string; id?: string; resource?: string };
    const who = d.userIdentity.userName ?? d.userIdentity.arn;
    const where = emulator.accounts().length > 1 ? `${d.recipientAccountId} ` : '';
    io.out(`${d.eventTime} ${where}${who} ${d.eventName} ${params.name ?? params.id ?? params.resource ?? ''}${d.errorCode ? ` -> ${d.errorCode}` : ''}`);
  });
  await (options.until ??
    new Promise<void>((resolve) => {
      process.once('SIGINT', resolve);
      process.once('SIGTERM', resolve);
    }));
  await emulator.close();
  return 0;
}
