/** `cf-autopublish emulator`: the embedded CloudFront emulator alone, until Ctrl-C. */
import { describeVariants, parseVariantAssignments, startEmulator } from '../emulator/index';
import { type Io, UsageError } from './io';

export async function runEmulator(port: string | undefined, io: Io, variantAssignments: readonly string[] = []): Promise<number> {
  // Checked here, not left to listen(): a port above 65535 is a bad option (exit 2), not a failure.
  if (port !== undefined && !(/^\d{1,5}$/.test(port) && Number(port) <= 65535)) throw new UsageError(`--port "${port}" is not a port number (0-65535)`);
  let variants;
  try {
    variants = parseVariantAssignments(variantAssignments);
  } catch (error) {
    throw new UsageError(`--variant: ${(error as Error).message}`);
  }
  const emulator = await startEmulator({ port: port === undefined ? 0 : Number(port), variants });
  io.out(`CloudFront emulator listening on ${emulator.endpoint} (account ${emulator.accountId}). Ctrl-C to stop.`);
  io.out(`  variants: ${describeVariants(emulator.controls.variants())}`);
  io.out(`  aws cloudfront list-functions --endpoint-url ${emulator.endpoint}`);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await emulator.close();
  return 0;
}
