// Shared setup for the emulator tests: a real SDK client pointed at a fresh emulator.
import { after, before } from 'node:test';
import { CloudFrontClient } from '@aws-sdk/client-cloudfront';
import { startEmulator, type Emulator, type EmulatorOptions } from '../../emulator';

export const CODE = 'function handler(event) { return event.request; }';
export const encode = (s: string) => new TextEncoder().encode(s);

/**
 * A connection object as the Developer Guide's connection-function event structure shows it
 * (docs/cloudfront-api.md#connection-functions), plus a revocation-check result.
 */
export const CONNECTION_OBJECT = Object.freeze({
  connectionId: 'NpvTe1925xfj24a67sPQr7ae42BIq03FGhJJKfrQYWZcWZFp96SIIg==',
  clientIp: '203.0.113.42',
  endpoint: 'd3lch071jze0cb.cloudfront.net',
  distributionId: 'E1NXS4MQZH501R',
  clientCertificate: {
    certificates: {
      leaf: {
        subject: 'CN=device-17,O=Example Corp,C=US',
        issuer: 'CN=Example Corp Intermediate CA,O=Example Corp,C=US',
        serialNumber: '4a:3f:5c:92:d1:e8:7b:6c',
        validity: { notBefore: '2026-01-15T00:00:00Z', notAfter: '2027-01-14T23:59:59Z' },
        sha256Fingerprint: '_w6bJ7aOAlGOj7NUhJxTfsfee-ONg_xop3_PTgTJpqs=',
      },
    },
  },
  revocationCheck: { status: 'GOOD' },
});

/** CONNECTION_OBJECT with another certificate subject, as JSON. */
export function connectionObjectWithSubject(subject: string): string {
  const o = structuredClone(CONNECTION_OBJECT) as { clientCertificate: { certificates: { leaf: { subject: string } } } };
  o.clientCertificate.certificates.leaf.subject = subject;
  return JSON.stringify(o);
}

export function clientFor(emulator: Emulator, options: { accessKeyId?: string; maxAttempts?: number } = {}): CloudFrontClient {
  return new CloudFrontClient({
    endpoint: emulator.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: options.accessKeyId ?? 'AKIDEXAMPLE', secretAccessKey: 'not-checked' },
    maxAttempts: options.maxAttempts ?? 1,
  });
}

export async function withEmulator<T>(options: EmulatorOptions, body: (emulator: Emulator) => Promise<T>): Promise<T> {
  const emulator = await startEmulator(options);
  try {
    return await body(emulator);
  } finally {
    await emulator.close();
  }
}

/** Runs `call` and returns the error it threw (fails when it did not throw). */
export async function errorOf(call: () => Promise<unknown>): Promise<Error & { name: string; $metadata?: { httpStatusCode?: number }; $fault?: string }> {
  try {
    await call();
  } catch (error) {
    return error as Error & { name: string };
  }
  throw new Error('expected the call to fail, it succeeded');
}

/**
 * One emulator and one client for a describe block: started before its tests, closed after them.
 * `use` receives both (the block keeps them in its own variables).
 */
export function emulatorForSuite(
  options: EmulatorOptions,
  use: (emulator: Emulator, cf: CloudFrontClient) => void,
  client: { accessKeyId?: string } = {},
): void {
  let started: { emulator: Emulator; cf: CloudFrontClient } | undefined;
  before(async () => {
    const emulator = await startEmulator(options);
    started = { emulator, cf: clientFor(emulator, client) };
    use(started.emulator, started.cf);
  });
  after(async () => {
    started?.cf.destroy();
    await started?.emulator.close();
  });
}
