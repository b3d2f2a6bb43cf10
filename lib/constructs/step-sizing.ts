/**
 * The memory every step Lambda gets (MB). Lambda gives CPU in proportion to it and bills each invocation's duration
 * by it (GB-seconds), so the benchmark's cost per onboarding reads it from here too.
 */
export const STEP_MEMORY_MB = 512;
