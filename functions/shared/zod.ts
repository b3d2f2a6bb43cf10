/*
 * zod for every schema a Lambda step builds: zod/mini, with the English messages zod classic loads by itself.
 * Classic gives each schema instance ~50 bound methods (`.optional()`, `.min()`, …): ~66 KB more in every step's
 * bundle and ~10 ms more of its cold start building the ~200 schemas a step holds (ADR 0016). zod/mini builds the
 * same schemas with functions (`z.optional(x)`, `x.check(z.minimum(1))`) and parses them with the same core, so the
 * issues and their messages are the same. A module that builds schemas a step loads imports this one, never 'zod':
 * one classic import anywhere in a step brings all of classic back.
 */
import { en } from 'zod/locales';
import { config } from 'zod/mini';

// zod/mini loads no locale: without this, every default message would be "Invalid input".
config(en());

export * from 'zod/mini';
