import { z } from 'zod';
import { parseConfig } from '../../../lib/config';
import { driftGroup, driftScheduleProblem } from '../../../lib/operations-settings';
import { thrown } from '../../support/thrown';

const PREFIX = 'invalid edgekeeper settings in the CDK context: ';
const EXPOSURE = {
  enabled: true,
  vpcId: 'vpc-0123456789abcdef0',
  subnetIds: ['subnet-0123456789abcdef0'],
  allowedCidrs: ['198.51.100.0/24'],
  targets: { instanceIds: ['i-0123456789abcdef0'] },
};

describe('driftScheduleProblem', () => {
  it.each(['rate(1 hour)', 'rate(5 minutes)', 'rate(1 day)', 'rate(12 hours)', 'cron(0 */6 * * ? *)'])(
    'takes %s',
    (expression) => {
      expect(driftScheduleProblem(expression)).toBeUndefined();
    },
  );

  it.each([
    ['rate(1 minute)', 'must not run more often than every 5 minutes'],
    ['rate(4 minutes)', 'must not run more often than every 5 minutes'],
    ['rate(0 hours)', 'a rate must be at least 1'],
    ['rate(2 hour)', 'write rate(1 hour) or rate(<n> <unit>s)'],
    ['rate(1 hours)', 'write rate(1 hour) or rate(<n> <unit>s)'],
    ['rate(1 week)', 'must be rate(<n> minutes|hours|days) or cron(<minutes> <hours> <day> <month> <weekday> <year>)'],
    [
      'cron(0 * * * *)',
      'must be rate(<n> minutes|hours|days) or cron(<minutes> <hours> <day> <month> <weekday> <year>)',
    ],
    ['hourly', 'must be rate(<n> minutes|hours|days) or cron(<minutes> <hours> <day> <month> <weekday> <year>)'],
  ])('refuses %s: %s', (expression, problem) => {
    expect(driftScheduleProblem(expression)).toBe(problem);
  });
});

describe('the operations settings in the CDK context', () => {
  it('schedules an hourly check without remediation, creates the alarm topic and builds no load balancer by default', () => {
    // Act
    const config = parseConfig({});

    // Assess
    expect(config.drift).toEqual({
      schedule: 'rate(1 hour)',
      remediate: false,
      scheduleEnabled: true,
      reportRetentionDays: 90,
    });
    expect(config.alarms).toEqual({});
    expect(config.cloudcoreExposure).toMatchObject({
      enabled: false,
      internetFacing: true,
      nodePorts: { cloudhub: 30000, quic: 30001, https: 30002, stream: 30003, tunnel: 30004 },
    });
  });

  it.each([
    [
      { drift: { schedule: 'rate(1 minute)' } },
      'edgekeeper.drift.schedule: must not run more often than every 5 minutes (got "rate(1 minute)")',
    ],
    [
      { drift: { remediate: 'yes' } },
      'edgekeeper.drift.remediate: Invalid input: expected boolean, received string (got "yes")',
    ],
    [{ alarms: { email: 'ops' } }, 'edgekeeper.alarms.email: must be an email address (got "ops")'],
    [
      { alarms: { topicArn: 'ops-alarms' } },
      'edgekeeper.alarms.topicArn: must be an SNS topic ARN (arn:aws:sns:<region>:<account>:<name>) (got "ops-alarms")',
    ],
    [
      { cloudcoreExposure: { ...EXPOSURE, allowedCidrs: ['0.0.0.0/0'] } },
      'edgekeeper.cloudcoreExposure.allowedCidrs.0: must be an IPv4 CIDR with a prefix length from 1 to 32 ' +
        '(a /0 would open cloudcore to the whole internet) (got "0.0.0.0/0")',
    ],
    [
      {
        cloudcoreExposure: {
          ...EXPOSURE,
          targets: { instanceIds: ['i-0123456789abcdef0'], autoScalingGroupName: 'nodes' },
        },
      },
      'edgekeeper.cloudcoreExposure.targets: give either instanceIds or autoScalingGroupName when cloudcoreExposure.enabled is true ' +
        '(got {"instanceIds":["i-0123456789abcdef0"],"autoScalingGroupName":"nodes"})',
    ],
    [
      { cloudcoreExposure: { enabled: true } },
      'edgekeeper.cloudcoreExposure.vpcId: is required when cloudcoreExposure.enabled is true; ' +
        'edgekeeper.cloudcoreExposure.subnetIds: at least one subnet id is required when cloudcoreExposure.enabled is true; ' +
        'edgekeeper.cloudcoreExposure.allowedCidrs: at least one CIDR is required when cloudcoreExposure.enabled is true; ' +
        'edgekeeper.cloudcoreExposure.targets: give either instanceIds or autoScalingGroupName when cloudcoreExposure.enabled is true',
    ],
    [
      { cloudcore: { publicAddress: '203.0.113.10' }, cloudcoreExposure: EXPOSURE },
      'edgekeeper.cloudcore.publicAddress: must be unset when cloudcoreExposure.enabled is true: ' +
        'the load balancer\'s DNS name is cloudcore\'s public address (got "203.0.113.10")',
    ],
  ])('fails naming edgekeeper.<path>, the value and the reason for %j', (context, problem) => {
    // Act
    const error = thrown(() => parseConfig(context));

    // Assess
    expect(error.message).toBe(`${PREFIX}${problem}`);
  });

  it('takes a complete exposure, and leaves the rest of the settings alone when it is off', () => {
    // Act
    const on = parseConfig({ cloudcoreExposure: EXPOSURE });
    const off = parseConfig({ cloudcore: { publicAddress: '203.0.113.10' }, cloudcoreExposure: { enabled: false } });

    // Assess
    expect(on.cloudcoreExposure).toMatchObject(EXPOSURE);
    expect(off.cloudcore.publicAddress).toBe('203.0.113.10');
  });
});

describe('driftGroup', () => {
  it('joins step settings declared under `drift` to the schedule settings, refusing unknown keys in both', () => {
    // Prepare: a step setting the table might declare under the same group
    const group = driftGroup(z.strictObject({ graceSeconds: z.number().default(300) }).prefault({}));

    // Act
    const parsed = group.parse({ remediate: true });
    const refused = group.safeParse({ schedules: 'rate(1 hour)' });

    // Assess
    expect(parsed).toEqual({
      graceSeconds: 300,
      schedule: 'rate(1 hour)',
      remediate: true,
      scheduleEnabled: true,
      reportRetentionDays: 90,
    });
    expect(refused.success).toBe(false);
  });
});
