import { describe, expect, it } from 'vitest';
import { parseArgs, UsageError } from '../../src/cli/args.js';
import { DEFAULT_FINAL_TIMEOUT_MS, resolveCliConfig } from '../../src/cli/config.js';
import { exitStatus } from '../../src/cli/exit-status.js';
import { HELP } from '../../src/cli/help.js';
import { createJobMetrics, withJobMetrics } from '../../src/cli/job-metrics.js';
import { main } from '../../src/cli/main.js';
import { createCliPlatform } from '../../src/cli/platform.js';
import { ConfigError } from '../../src/errors.js';

function run(argv: string[]) {
  const request = parseArgs(argv);
  if (request.kind !== 'run') throw new Error(`Expected a run, got ${request.kind}`);
  return request;
}

function usageError(argv: string[]): string {
  try {
    parseArgs(argv);
  } catch (error) {
    expect(error).toBeInstanceOf(UsageError);
    return (error as Error).message;
  }
  throw new Error(`Expected ${JSON.stringify(argv)} to be refused`);
}

describe('reading the command line', () => {
  it('takes every flag, in both --flag value and --flag=value forms', () => {
    const request = run([
      '--pushgateway',
      'http://gw.example:9091/pgw',
      '--pushgateway-method=put',
      '--job',
      'nightly',
      '--instance=box-1',
      '--label',
      'team=data',
      '--label=env=prod=eu',
      '--interval',
      '0.5',
      '--timeout=2',
      '--final-timeout',
      '1.5',
      '--',
      './backup.sh',
      '--full',
    ]);
    expect(request).toEqual({
      kind: 'run',
      command: './backup.sh',
      args: ['--full'],
      flags: {
        target: { type: 'pushgateway', url: 'http://gw.example:9091/pgw' },
        pushgatewayMethod: 'PUT',
        job: 'nightly',
        instance: 'box-1',
        labels: { team: 'data', env: 'prod=eu' },
        intervalMs: 500,
        timeoutMs: 2000,
        finalTimeoutMs: 1500,
      },
    });
  });

  it('takes the remote-write and textfile targets', () => {
    expect(run(['--remote-write', 'https://prom/api/v1/write', '--', 'x']).flags.target).toEqual({
      type: 'remote-write',
      url: 'https://prom/api/v1/write',
    });
    expect(run(['--textfile', '/var/lib/ne/job.prom', '--', 'x']).flags.target).toEqual({
      type: 'textfile',
      path: '/var/lib/ne/job.prom',
    });
  });

  it('leaves everything after -- to the command, options and a second -- included', () => {
    expect(run(['--job', 'j', '--', 'ls', '--help', '--', '-l'])).toMatchObject({
      command: 'ls',
      args: ['--help', '--', '-l'],
    });
  });

  it('starts the command at the first argument that is not an option', () => {
    expect(run(['--job', 'j', 'sleep', '1', '--version'])).toMatchObject({
      command: 'sleep',
      args: ['1', '--version'],
      flags: { job: 'j', labels: {} },
    });
  });

  it('has no flags set when none are given', () => {
    expect(run(['--', 'true'])).toEqual({ kind: 'run', command: 'true', args: [], flags: { labels: {} } });
  });

  it('answers --help, -h and --version before anything else', () => {
    expect(parseArgs(['--help'])).toEqual({ kind: 'help' });
    expect(parseArgs(['--job', 'x', '-h', '--', 'y'])).toEqual({ kind: 'help' });
    expect(parseArgs(['--version'])).toEqual({ kind: 'version' });
  });

  it.each([
    [['--bogus', '--', 'x'], 'Unknown option --bogus; procpush --help lists the options'],
    [['-x', 'y'], 'Unknown option -x; procpush --help lists the options'],
    [[], 'Expected a command to run: procpush [options] -- <command> [args...]'],
    [['--job', 'j', '--'], 'Expected a command to run: procpush [options] -- <command> [args...]'],
    [['--job'], 'Expected a value after --job'],
    [['--job', '--', 'x'], 'Expected a value after --job'],
    [['--job=', '--', 'x'], 'Expected --job to be a non-empty name, got ""'],
    [['--instance', '', 'x'], 'Expected --instance to be a non-empty name, got ""'],
    [['--interval', 'abc', 'x'], 'Expected --interval to be a number of seconds of at least 0.01, got "abc"'],
    [
      ['--interval', '0.001', 'x'],
      'Expected --interval to be a number of seconds of at least 0.01, got "0.001"',
    ],
    [['--interval', '', 'x'], 'Expected --interval to be a number of seconds of at least 0.01, got ""'],
    [['--timeout', '0', 'x'], 'Expected --timeout to be a positive number of seconds, got "0"'],
    [['--timeout', 'Infinity', 'x'], 'Expected --timeout to be a positive number of seconds, got "Infinity"'],
    [['--final-timeout', '-1', 'x'], 'Expected --final-timeout to be a positive number of seconds, got "-1"'],
    [['--pushgateway', 'gw:9091', 'x'], 'Expected --pushgateway to be an http(s) URL, got "gw:9091"'],
    [['--remote-write', 'ftp://x/y', 'x'], 'Expected --remote-write to be an http(s) URL, got "ftp://x/y"'],
    [['--textfile', '', 'x'], 'Expected --textfile to be a file path, got ""'],
    [['--pushgateway-method', 'PATCH', 'x'], 'Expected --pushgateway-method to be PUT or POST, got "PATCH"'],
    [
      ['--label', 'team', 'x'],
      'Expected --label to be name=value with a label name like [a-zA-Z_][a-zA-Z0-9_]*, got "team"',
    ],
    [
      ['--label', '1x=y', 'x'],
      'Expected --label to be name=value with a label name like [a-zA-Z_][a-zA-Z0-9_]*, got "1x=y"',
    ],
    [
      ['--label', '__name__=y', 'x'],
      'Expected --label to be a label name not starting with "__" (reserved), got "__name__=y"',
    ],
    [['--label', 'job=y', 'x'], 'Expected no "job" label in --label; set it with --job'],
    [['--label', 'instance=y', 'x'], 'Expected no "instance" label in --label; set it with --instance'],
    [['--job', 'a', '--job', 'b', 'x'], 'Expected --job once, got it twice'],
    [
      ['--pushgateway', 'http://a', '--remote-write', 'http://b', 'x'],
      'Expected one target, got both --pushgateway and --remote-write',
    ],
    [
      ['--textfile', '/a.prom', '--pushgateway=http://b', 'x'],
      'Expected one target, got both --textfile and --pushgateway',
    ],
  ])('refuses %j with one line', (argv, message) => {
    expect(usageError(argv)).toBe(message);
    expect(message).not.toContain('\n');
  });

  it('does not echo the password of a URL it refuses', () => {
    expect(usageError(['--pushgateway', 'ftp://user:secret@gw/', 'x'])).not.toContain('secret');
  });

  it('documents every flag it accepts in the help text', () => {
    for (const flag of [
      '--pushgateway',
      '--remote-write',
      '--textfile',
      '--pushgateway-method',
      '--job',
      '--instance',
      '--label',
      '--interval',
      '--timeout',
      '--final-timeout',
      '--help',
      '--version',
    ]) {
      expect(HELP).toContain(`${flag} `);
    }
  });
});

describe('configuration from flags and the environment', () => {
  const resolve = (argv: string[], env: NodeJS.ProcessEnv = {}) => {
    const request = run(argv);
    return resolveCliConfig(request.flags, createCliPlatform(request.command, env));
  };

  it("names the job after the command's file and prints to stderr when no target is set", () => {
    const { reporter, finalTimeoutMs } = resolve(['--', '/opt/jobs/backup.sh', '--full']);
    expect(reporter.job).toBe('backup.sh');
    expect(reporter.target).toEqual({ type: 'console' });
    expect(reporter.shutdown).toBe(false);
    expect(finalTimeoutMs).toBe(DEFAULT_FINAL_TIMEOUT_MS);
  });

  it('pushes to the Pushgateway with POST unless PUT is asked for, also for a gateway set in the environment', () => {
    expect(resolve(['--pushgateway', 'http://gw:9091', 'x']).reporter.target).toMatchObject({
      method: 'POST',
    });
    const env = { RESOURCE_ATTRIBUTION_PUSHGATEWAY_URL: 'http://env-gw:9091' };
    expect(resolve(['x'], env).reporter.target).toEqual({
      type: 'pushgateway',
      url: 'http://env-gw:9091',
      method: 'POST',
    });
    expect(resolve(['--pushgateway-method', 'PUT', 'x'], env).reporter.target).toMatchObject({
      method: 'PUT',
    });
  });

  it('lets flags win over the environment and adds --label to its labels', () => {
    const env = {
      RESOURCE_ATTRIBUTION_PUSHGATEWAY_URL: 'http://env-gw:9091',
      RESOURCE_ATTRIBUTION_JOB: 'env-job',
      RESOURCE_ATTRIBUTION_INSTANCE: 'env-instance',
      RESOURCE_ATTRIBUTION_UPDATE_INTERVAL_SECS: '30',
      RESOURCE_ATTRIBUTION_LABELS: 'team=env,region=eu',
    };
    expect(resolve(['x'], env).reporter).toMatchObject({
      job: 'env-job',
      instance: 'env-instance',
      intervalMs: 30_000,
    });
    const { reporter } = resolve(
      [
        '--remote-write',
        'http://prom/api/v1/write',
        '--job',
        'j',
        '--instance',
        'i',
        '--interval',
        '2',
        '--label',
        'team=flag',
        'x',
      ],
      env,
    );
    expect(reporter.target).toEqual({ type: 'remote-write', url: 'http://prom/api/v1/write' });
    expect(reporter.intervalMs).toBe(2000);
    expect(reporter.labels).toEqual({ team: 'flag', region: 'eu', job: 'j', instance: 'i' });
  });

  it('maps the timeouts onto the reporter', () => {
    const { reporter, finalTimeoutMs } = resolve([
      '--interval',
      '1',
      '--timeout',
      '0.25',
      '--final-timeout',
      '3',
      'x',
    ]);
    expect(reporter.timeoutMs).toBe(250);
    expect(reporter.flushTimeoutMs).toBe(1000);
    expect(finalTimeoutMs).toBe(3000);
  });

  it("reports a bad environment with the library's message", () => {
    expect(() => resolve(['x'], { RESOURCE_ATTRIBUTION_UPDATE_INTERVAL_SECS: 'soon' })).toThrow(
      new ConfigError(
        'RESOURCE_ATTRIBUTION_UPDATE_INTERVAL_SECS',
        'Expected RESOURCE_ATTRIBUTION_UPDATE_INTERVAL_SECS to be a positive number of seconds (at least 0.01), got "soon"',
      ),
    );
  });

  it('refuses --pushgateway-method without a Pushgateway', () => {
    expect(() => resolve(['--pushgateway-method', 'PUT', '--textfile', '/tmp/x.prom', 'x'])).toThrow(
      'Expected a Pushgateway target with --pushgateway-method, got textfile',
    );
  });
});

describe('exit status and errors', () => {
  it("is the command's code, or 128+n for signal n", () => {
    expect(exitStatus(0, null)).toBe(0);
    expect(exitStatus(3, null)).toBe(3);
    expect(exitStatus(null, 'SIGTERM')).toBe(143);
    expect(exitStatus(null, 'SIGKILL')).toBe(137);
    expect(exitStatus(null, 'SIGINT')).toBe(130);
  });

  it('returns 2 for a bad command line and a bad environment, without running anything', async () => {
    expect(await main(['--interval', 'x', '--', 'true'], {})).toBe(2);
    expect(await main(['--', 'true'], { RESOURCE_ATTRIBUTION_REMOTE_WRITE_URL: 'nope' })).toBe(2);
  });
});

describe('the job gauges', () => {
  it('push the duration while running, then the exit code, and the success time only after a 0', () => {
    const clock = { uptime: 10, now: 1_700_000_000_500 };
    const job = createJobMetrics(
      8,
      () => clock.uptime,
      () => clock.now,
    );
    const sampler = withJobMetrics(undefined, job, () => 42);
    expect(sampler.sample().sample).toEqual({
      timestampMs: 42,
      extra: [{ name: 'procpush_job_duration_seconds', help: expect.any(String), value: 2 }],
    });
    clock.uptime = 11.5;
    job.end(0);
    clock.uptime = 20;
    expect(job.points().map((p) => [p.name, p.value])).toEqual([
      ['procpush_job_duration_seconds', 3.5],
      ['procpush_job_exit_code', 0],
      ['procpush_job_last_success_timestamp_seconds', 1_700_000_000.5],
    ]);
  });

  it('leave out the success time after a failure', () => {
    const job = createJobMetrics(0, () => 1);
    job.end(137);
    expect(job.points().map((p) => p.name)).toEqual([
      'procpush_job_duration_seconds',
      'procpush_job_exit_code',
    ]);
  });

  it('keep the metrics of the tree sampler', () => {
    const job = createJobMetrics(0, () => 1);
    const tree = { sample: () => ({ sample: { timestampMs: 1, memoryBytes: 5 }, errors: [] }) };
    expect(withJobMetrics(tree, job).sample().sample).toMatchObject({
      memoryBytes: 5,
      extra: [{ value: 1 }],
    });
  });
});
