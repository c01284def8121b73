/** Picks the target driver for a resolved configuration. */
import type { ResolvedConfig } from '../config.js';
import { ConfigError } from '../errors.js';
import type { Platform } from '../platform.js';
import type { Transport } from '../transport/types.js';
import { createConsoleTarget } from './console.js';
import { createPushgatewayTarget } from './pushgateway.js';
import { createRemoteWriteTarget } from './remote-write.js';
import type { TargetDriver } from './types.js';

/** The driver and, for network targets, the transport it sends on. */
export interface CreatedTarget {
  readonly driver: TargetDriver;
  readonly transport: Transport | undefined;
}

/** Creates the configured target on this platform. */
export function createTarget(config: ResolvedConfig, platform: Platform): CreatedTarget {
  const { target } = config;
  switch (target.type) {
    case 'console':
      return {
        driver: createConsoleTarget(config.labels, config.overhead, (text) => platform.write(text)),
        transport: undefined,
      };
    case 'textfile': {
      if (!platform.createTextfileTarget) {
        throw new ConfigError(
          'target.type',
          'The textfile target needs a file system; this runtime has none',
        );
      }
      return { driver: platform.createTextfileTarget(config), transport: undefined };
    }
    case 'pushgateway': {
      const transport = platform.createTransport(config);
      return { driver: createPushgatewayTarget({ ...config, target }, transport), transport };
    }
    case 'remote-write': {
      const transport = platform.createTransport(config);
      return { driver: createRemoteWriteTarget({ ...config, target }, transport), transport };
    }
  }
}
