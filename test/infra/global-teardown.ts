import { rmSync } from 'node:fs';
import { dirname } from 'node:path';
import { SHARED_SYNTH_ENV } from './synth';

export default function globalTeardown(): void {
  const file = process.env[SHARED_SYNTH_ENV];
  if (file) rmSync(dirname(file), { recursive: true, force: true });
  delete process.env[SHARED_SYNTH_ENV];
}
