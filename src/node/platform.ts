/** The Node platform: `/proc` sampling, the `node:http(s)` transport, the textfile target, signal hooks. */
import { existsSync, readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { basename, extname } from 'node:path';
import type { ConfigContext } from '../config.js';
import type { Platform } from '../platform.js';
import { createProcSampler } from '../sample/proc-reader.js';
import { createRuntimeSampler } from '../sample/runtime-sampler.js';
import { createTextfileTarget } from '../targets/textfile.js';
import { createNodeTransport } from '../transport/node-http.js';
import { installShutdown } from './shutdown.js';

/** Creates the Node platform; `stream` is where the console target prints (the CLI uses stderr). */
export function createNodePlatform(
  stream: 'stdout' | 'stderr' = 'stdout',
  env: NodeJS.ProcessEnv = process.env,
): Platform {
  return {
    context: (): ConfigContext => ({
      env,
      hostname: hostname(),
      pid: process.pid,
      defaultJob: defaultJob(),
      readFile: (path) => readFileSync(path, 'utf8'),
    }),
    createSampler: () => (existsSync('/proc/self/stat') ? createProcSampler() : createRuntimeSampler()),
    createTransport: (config) => createNodeTransport({ tls: config.tls, env }),
    createTextfileTarget: (config) => {
      if (config.target.type !== 'textfile') throw new TypeError('Expected a textfile target');
      return createTextfileTarget(config.target, config.labels, config.overhead);
    },
    write: (text) => process[stream].write(text),
    warn: (message) => process.emitWarning(message, { code: 'PROCPUSH' }),
    installShutdown: (reporter, config) =>
      config.shutdown === false
        ? () => {}
        : installShutdown(reporter, config.shutdown.signals, config.shutdown.timeoutMs),
  };
}

/** The script's file name without extension (`node jobs/nightly.js` gives "nightly"), else "procpush". */
function defaultJob(): string {
  const script = process.argv[1];
  if (!script) return 'procpush';
  const name = basename(script, extname(script));
  return name === '' || name === 'index' || name === 'main' ? 'procpush' : name;
}
