// The organisation-mode params, checked when serverless.yml is resolved (so at package time, before
// anything deploys), like alarm-notifications.cjs: serverless.yml reads them as
// `${file(./local/organization-params.cjs)}`, so no malformed value reaches the template. In
// organisation mode organizationId is required (the central bus admits only that organisation's
// principals). Outside it, organizationId and memberAccounts are refused: they would do nothing, and a
// deploy that looks like organisation mode but is not would reconcile only its own account. The
// template's parameters (OrganizationId, MemberAccounts) repeat the patterns as AllowedPattern.
'use strict';

const ORGANIZATION_ID = /^o-[a-z0-9]{10,32}$/;
const ACCOUNTS = /^[0-9]{12}(,[0-9]{12})*$/;
// The member role's name (no path), as member/template.yml takes it: an IAM role name that also makes
// a valid EventBridge rule name once "-forward" is added (at most 64 characters, no + = , @).
const ROLE_NAME = /^[\w.-]{1,56}$/;

// osls prints a failing resolver's stack: make it the message alone, which says all there is to say.
const refuse = (message) => Object.assign(new Error(message), { stack: message });

module.exports = async ({ resolveVariable }) => {
  const param = async (name) => String((await resolveVariable(`param:${name}`)) ?? '').trim();
  const mode = await param('organizationMode');
  const organizationId = await param('organizationId');
  const memberAccounts = await param('memberAccounts');
  const memberRoleName = await param('memberRoleName');
  const concurrency = await param('sweepWorkerConcurrency');

  if (mode !== 'true' && mode !== 'false') throw refuse(`organizationMode ${JSON.stringify(mode)} is neither "true" nor "false"`);
  if (mode === 'false') {
    if (organizationId || memberAccounts) {
      throw refuse('organizationId and memberAccounts take effect only with organizationMode=true: set it, or leave them out');
    }
  } else {
    if (!organizationId) throw refuse('organizationMode=true needs organizationId (o-...): only that organisation may put events on the central bus');
    if (!ORGANIZATION_ID.test(organizationId)) {
      throw refuse(`organizationId ${JSON.stringify(organizationId)} is not an organization ID (o- and 10 to 32 lowercase letters or digits)`);
    }
    if (memberAccounts && !ACCOUNTS.test(memberAccounts)) {
      throw refuse(`memberAccounts ${JSON.stringify(memberAccounts)} is not a comma-separated list of 12-digit account IDs (no spaces)`);
    }
    if (!ROLE_NAME.test(memberRoleName)) {
      throw refuse(`memberRoleName ${JSON.stringify(memberRoleName)} is not 1 to 56 letters, digits, "_", "." or "-" (member/template.yml's MemberRoleName)`);
    }
    if (!/^[0-9]+$/.test(concurrency) || Number(concurrency) < 2 || Number(concurrency) > 1000) {
      throw refuse(`sweepWorkerConcurrency ${JSON.stringify(concurrency)} is not a whole number from 2 to 1000 (the SQS event source's maximum concurrency)`);
    }
  }
  return { organizationId, memberAccounts, memberRoleName, sweepWorkerConcurrency: Number(concurrency) };
};
