// The sweepSchedule param, read as a period when serverless.yml is resolved (so at package time):
// SweepMissingAlarm waits 2 x this period, OutOfSyncAlarm evaluates once per sweep, and the sweep tells
// a version first seen from one the previous sweep saw by it (SWEEP_INTERVAL_SECONDS). Only rate()
// expressions have a period; a cron() schedule fails packaging with a message.
'use strict';

const RATE = /^rate\(\s*(\d+)\s+(minute|minutes|hour|hours|day|days)\s*\)$/;
const SECONDS = { minute: 60, minutes: 60, hour: 3600, hours: 3600, day: 86400, days: 86400 };

const refuse = (message) => Object.assign(new Error(message), { stack: message });

module.exports = async ({ resolveVariable }) => {
  const schedule = String((await resolveVariable('param:sweepSchedule')) ?? '').trim();
  const match = RATE.exec(schedule);
  if (!match) {
    throw refuse(`sweepSchedule ${JSON.stringify(schedule)} is not a rate(N minutes|hours|days) expression: the sweep-missing alarm needs its period`);
  }
  const seconds = Number(match[1]) * SECONDS[match[2]];
  // A CloudWatch alarm looks back at most one day: two periods must fit in it.
  if (seconds < 60 || seconds > 43200) throw refuse(`sweepSchedule ${schedule} must be from 1 minute to 12 hours (the alarm waits 2 periods, at most a day)`);
  return { seconds };
};
