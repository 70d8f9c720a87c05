/**
 * Runs the emulator alone until SIGINT/SIGTERM:
 *   npx tsx emulator/main.ts [--port N] [--account 123456789012] [--no-noop-412] [--variant NAME=VALUE ...] [--quiet]
 * Prints the endpoint, then one line per CloudTrail event so a human can watch calls arrive.
 */
import { parseArgs } from 'node:util';
import { describeVariants, parseVariantAssignments, startEmulator } from './index';

export async function main(argv: string[] = process.argv.slice(2)): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      port: { type: 'string', default: '0' },
      account: { type: 'string' },
      'no-noop-412': { type: 'boolean', default: false },
      quiet: { type: 'boolean', default: false },
      variant: { type: 'string', multiple: true, default: [] },
    },
  });
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`invalid --port ${values.port}`);
  const emulator = await startEmulator({
    port,
    ...(values.account ? { accountId: values.account } : {}),
    noopPublishPreconditionFailed: !values['no-noop-412'],
    variants: parseVariantAssignments(values.variant),
  });
  console.log(`CloudFront emulator listening on ${emulator.endpoint} (account ${emulator.accountId})`);
  console.log(`variants: ${describeVariants(emulator.controls.variants())}`);
  if (!values.quiet) {
    emulator.onCloudTrailEvent((e) => {
      const d = e.detail;
      const params = (d.requestParameters ?? {}) as { name?: string; resource?: string };
      console.log(`${d.eventTime} ${d.userIdentity.userName} ${d.eventName} ${params.name ?? params.resource ?? ''}${d.errorCode ? ` -> ${d.errorCode}` : ''}`);
    });
  }
  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  await emulator.close();
}

if (require.main === module) {
  main().catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  });
}
