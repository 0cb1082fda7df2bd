import { registry } from '@stepcoder/core';
import { registerBackends } from './backend.js';

export * from './base.js';

registerBackends(registry);
