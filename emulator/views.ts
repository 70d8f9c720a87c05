/**
 * The JS API's per-account objects (`emulator.state`, `emulator.account(id).state` and `.controls`):
 * thin wrappers that aim the model helpers at one account and the S3 helpers at the one global store.
 */
import type { Account } from './accounts';
import type { AccountControls, EmulatorState } from './index';
import type { EmulatorServer } from './server';

export function accountState(server: EmulatorServer, account: Account, isHome: boolean): EmulatorState {
  const model = account.model;
  const s3 = server.s3;
  return {
    snapshot: () => model.snapshot(),
    seed: (input) => model.seed(input),
    reset: () => {
      model.reset();
      // The home account's reset always dropped the buckets too; a member's leaves the shared store alone.
      if (isHome) s3.reset();
    },
    putObject: (bucket, key, body, options) => s3.putObject(bucket, key, body, options),
    deleteObject: (bucket, key) => s3.deleteObject(bucket, key),
    createBucket: (bucket, options) => s3.createBucket(bucket, options),
    deleteBucket: (bucket) => s3.deleteBucket(bucket),
    objects: () => s3.list(),
    createDistribution: (input) => model.createDistribution(input),
    associateFunction: (input) => model.associateFunction(input),
    disassociateFunction: (input) => model.disassociateFunction(input),
    deleteDistribution: (id) => model.deleteDistribution(id),
    distributions: () => model.distributions(),
    associationsOf: (name) => model.associationsOf(name),
    seedConnectionFunction: (input) => model.connectionFunctions.seed(input),
    connectionFunctions: () => model.connectionFunctions.snapshot(),
    associateConnectionFunction: (input) => model.connectionFunctions.associate(input),
    disassociateConnectionFunction: (distributionId) => model.connectionFunctions.disassociate(distributionId),
    model,
  };
}

export function accountControls(server: EmulatorServer, account: Account): AccountControls {
  const id = account.accountId;
  return {
    setRateLimit: (limit) => account.setRateLimit(limit),
    calls: () => Object.fromEntries(account.counts),
    resetCalls: () => account.counts.clear(),
    publishLog: () => server.publishLog(id),
    clearPublishLog: () => server.clearPublishLog(id),
    setVariants: (variants) => account.model.setVariants(variants),
    variants: () => account.model.variants,
  };
}
