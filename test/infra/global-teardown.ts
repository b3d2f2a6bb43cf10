import { rmSync } from 'node:fs';
import { dirname } from 'node:path';
import { SHARED_SYNTH_ENV, stopSharedSynthesis } from './shared-synthesis';

export default function globalTeardown(): void {
  stopSharedSynthesis();
  const file = process.env[SHARED_SYNTH_ENV];
  if (file) rmSync(dirname(file), { recursive: true, force: true });
  delete process.env[SHARED_SYNTH_ENV];
}
