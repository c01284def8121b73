// Sampling: the time of one sample of this process. Usage: node --expose-gc sampling.mjs <contender>
import { readFileSync } from 'node:fs';
import { DIST, emit, timePerOp } from './common.mjs';

async function contender(name) {
  switch (name) {
    case 'floor':
      // The least any /proc sampler can do: read both files, no decoding, no parsing.
      return () => {
        readFileSync('/proc/self/stat');
        readFileSync('/proc/self/status');
      };
    case 'procpush': {
      const { createProcSampler } = await import(new URL('sample/proc-reader.js', DIST).href);
      const sampler = createProcSampler();
      return () => {
        const { errors } = sampler.sample();
        if (errors.length > 0) throw errors[0];
      };
    }
    case 'pidusage': {
      const { default: pidusage } = await import('pidusage');
      return () => pidusage(process.pid);
    }
    case 'prom-client': {
      const { collectDefaultMetrics, register } = await import('prom-client');
      collectDefaultMetrics();
      return () => register.metrics();
    }
    default:
      throw new Error(`Expected floor, procpush, pidusage or prom-client, got ${name}`);
  }
}

const op = await contender(process.argv[2]);
emit(await timePerOp(op));
process.exit(0);
