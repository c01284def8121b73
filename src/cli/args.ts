/**
 * The command line of `procpush [options] -- <command> [args...]`: a pure parser, so every flag and every bad
 * value is testable without spawning anything. Options end at `--` or at the first argument that is not an
 * option, so `procpush --job x sleep 1` works too; everything after belongs to the command, untouched.
 */
import { describeInput, LABEL_NAME } from '../config-schema.js';
import type { PushgatewayTarget, RemoteWriteTarget, TextfileTarget } from '../types.js';

/** What the user asked for on the command line, before the environment is consulted. */
export interface CliFlags {
  /** From `--pushgateway`, `--remote-write` or `--textfile`; absent: the environment decides. */
  readonly target?: PushgatewayTarget | RemoteWriteTarget | TextfileTarget;
  /** `--pushgateway-method`; absent: POST (see the help text for why). */
  readonly pushgatewayMethod?: 'PUT' | 'POST';
  readonly job?: string;
  readonly instance?: string;
  /** `--label k=v`, repeatable; empty when none was given. */
  readonly labels: Readonly<Record<string, string>>;
  readonly intervalMs?: number;
  readonly timeoutMs?: number;
  readonly finalTimeoutMs?: number;
}

/** The parsed command line. */
export type CliRequest =
  | { readonly kind: 'help' }
  | { readonly kind: 'version' }
  | { readonly kind: 'run'; readonly flags: CliFlags; readonly command: string; readonly args: string[] };

/** A bad command line: printed as one line, exit status 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };
type Setter = (flags: Mutable<CliFlags>, value: string, name: string) => void;

const TARGET_FLAGS = ['--pushgateway', '--remote-write', '--textfile'];

/** The options that take a value, and how each lands in the flags. */
const OPTIONS: Record<string, Setter> = {
  '--pushgateway': (flags, value, name) => {
    flags.target = { type: 'pushgateway', url: httpUrl(name, value) };
  },
  '--remote-write': (flags, value, name) => {
    flags.target = { type: 'remote-write', url: httpUrl(name, value) };
  },
  '--textfile': (flags, value, name) => {
    flags.target = { type: 'textfile', path: nonEmpty(name, value, 'a file path') };
  },
  '--pushgateway-method': (flags, value, name) => {
    const method = value.toUpperCase();
    if (method !== 'PUT' && method !== 'POST') throw expected(name, 'PUT or POST', value);
    flags.pushgatewayMethod = method;
  },
  '--job': (flags, value, name) => {
    flags.job = nonEmpty(name, value, 'a non-empty name');
  },
  '--instance': (flags, value, name) => {
    flags.instance = nonEmpty(name, value, 'a non-empty name');
  },
  '--label': (flags, value, name) => {
    const [key, labelValue] = label(name, value);
    flags.labels = { ...flags.labels, [key]: labelValue };
  },
  '--interval': (flags, value, name) => {
    // The reporter's floor is 10 ms; say it in the flag's unit.
    flags.intervalMs = Math.round(seconds(name, value, 0.01) * 1000);
  },
  '--timeout': (flags, value, name) => {
    flags.timeoutMs = seconds(name, value) * 1000;
  },
  '--final-timeout': (flags, value, name) => {
    flags.finalTimeoutMs = seconds(name, value) * 1000;
  },
};

/** Parses the arguments after `procpush`; throws `UsageError` with a one-line message. */
export function parseArgs(argv: readonly string[]): CliRequest {
  const flags: Mutable<CliFlags> = { labels: {} };
  const given = new Set<string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === '--') return withCommand(flags, argv.slice(i + 1));
    if (arg === '-h' || arg === '--help') return { kind: 'help' };
    if (arg === '--version') return { kind: 'version' };
    if (!arg.startsWith('-') || arg === '-') return withCommand(flags, argv.slice(i));

    const eq = arg.indexOf('=');
    const name = arg.startsWith('--') && eq > 0 ? arg.slice(0, eq) : arg;
    const set = OPTIONS[name];
    if (!set) throw new UsageError(`Unknown option ${name}; procpush --help lists the options`);
    let value: string | undefined;
    if (name !== arg) value = arg.slice(eq + 1);
    else value = argv[++i];
    if (value === undefined || value === '--') throw new UsageError(`Expected a value after ${name}`);

    if (name !== '--label' && given.has(name)) throw new UsageError(`Expected ${name} once, got it twice`);
    const otherTarget = TARGET_FLAGS.find((flag) => flag !== name && given.has(flag));
    if (TARGET_FLAGS.includes(name) && otherTarget !== undefined) {
      throw new UsageError(`Expected one target, got both ${otherTarget} and ${name}`);
    }
    given.add(name);
    set(flags, value, name);
  }
  return withCommand(flags, []);
}

function withCommand(flags: CliFlags, rest: string[]): CliRequest {
  const [command, ...args] = rest;
  if (command === undefined || command === '') {
    throw new UsageError('Expected a command to run: procpush [options] -- <command> [args...]');
  }
  return { kind: 'run', flags, command, args };
}

function expected(name: string, what: string, value: string): UsageError {
  return new UsageError(`Expected ${name} to be ${what}, got ${describeInput(value)}`);
}

function seconds(name: string, value: string, minimum?: number): number {
  const number = value.trim() === '' ? Number.NaN : Number(value);
  if (minimum !== undefined) {
    if (!(Number.isFinite(number) && number >= minimum))
      throw expected(name, `a number of seconds of at least ${minimum}`, value);
  } else if (!(Number.isFinite(number) && number > 0)) {
    throw expected(name, 'a positive number of seconds', value);
  }
  return number;
}

function httpUrl(name: string, value: string): string {
  if (URL.canParse(value) && /^https?:$/.test(new URL(value).protocol)) return value;
  throw expected(name, 'an http(s) URL', value);
}

function nonEmpty(name: string, value: string, what: string): string {
  if (value === '') throw expected(name, what, value);
  return value;
}

function label(name: string, value: string): [string, string] {
  const eq = value.indexOf('=');
  const key = eq < 0 ? '' : value.slice(0, eq);
  if (!LABEL_NAME.test(key)) {
    throw expected(name, 'name=value with a label name like [a-zA-Z_][a-zA-Z0-9_]*', value);
  }
  if (key.startsWith('__')) throw expected(name, 'a label name not starting with "__" (reserved)', value);
  if (key === 'job' || key === 'instance') {
    throw new UsageError(`Expected no "${key}" label in ${name}; set it with --${key}`);
  }
  return [key, value.slice(eq + 1)];
}
