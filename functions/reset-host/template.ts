/**
 * The reset script template: functions/shared/scripts/reset-edge-node.sh, embedded as a string module by
 * functions/shared/scripts/embed-scripts.ts (the project's one mechanism for host scripts: esbuild, swc and tsx load
 * it with a plain import). test/unit/remove/reset-host.test.ts fails when the embedded copy is stale.
 */
export { script as RESET_SCRIPT_TEMPLATE } from '../shared/scripts/generated/reset-edge-node';
