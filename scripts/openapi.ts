import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import * as routes from '../functions/api/routes';
import { renderOpenApi } from '../lib/openapi';

/**
 * Writes docs/openapi.yaml from the routes of functions/api/routes.ts. The file stays committed (the README links
 * it, `edgekeeper serve` serves it); test/unit/openapi.test.ts fails when it differs from what this script writes.
 *
 * Usage: `npm run openapi` (write) or `... --check` (exit 1 when stale).
 */
export const OPENAPI_DOC = join(__dirname, '..', 'docs', 'openapi.yaml');

/** The document as this version of the routes describes it; routes.ts's exported schemas keep their names. */
export function renderOpenApiDoc(): string {
  // zod's core class: OnboardBody is a step's zod/mini schema, the other exports classic ones
  const named = Object.fromEntries(Object.entries(routes).filter(([, value]) => value instanceof z.core.$ZodType));
  return renderOpenApi(routes.API_ROUTES, { ...named, ApiError: routes.ApiError });
}

if (require.main === module) {
  const text = renderOpenApiDoc();
  let current: string | undefined;
  try {
    current = readFileSync(OPENAPI_DOC, 'utf8');
  } catch {
    current = undefined;
  }
  if (process.argv.includes('--check')) {
    console.log(current === text ? `${OPENAPI_DOC} is up to date` : `stale ${OPENAPI_DOC}`);
    if (current !== text) process.exit(1);
  } else if (current !== text) {
    writeFileSync(OPENAPI_DOC, text);
    console.log(`wrote ${OPENAPI_DOC}`);
  }
}
