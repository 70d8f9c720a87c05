/**
 * Import this first in local runs (demo, end-to-end tests) to keep the handlers' Powertools log
 * lines and EMF blobs off the terminal: both read their settings when lib/report.ts is loaded.
 * CF_AUTOPUBLISH_VERBOSE=1 keeps them.
 */
if (!process.env.CF_AUTOPUBLISH_VERBOSE) {
  process.env.POWERTOOLS_LOG_LEVEL ??= 'SILENT';
  process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';
  // Node 20 is supported by the pinned SDK; its notice about future releases is not for our users' terminals.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
}
export {};
