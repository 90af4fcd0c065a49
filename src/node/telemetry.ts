/**
 * Turns onnxruntime's telemetry off for this process, unless the user has set `ORT_DISABLE_TELEMETRY`.
 *
 * onnxruntime-node sends usage events (it resolves `mobile.events.data.microsoft.com` every 15–20 s) unless
 * `ORT_DISABLE_TELEMETRY=1` is in the environment when it initialises, and keeps a device id and an event
 * database under `~/.cache/Microsoft/DeveloperTools/.onnxruntime/`. (It is silent by itself where a CI variable
 * such as `CI` or `GITHUB_ACTIONS` is set, so a test of this must run without them: test/_telemetry-run.ts.) voxface promises that photos and
 * results never leave the machine, so every module that imports `onnxruntime-node` imports this one first, as
 * a side effect: ES modules evaluate their imports in order, so the variable is set before onnxruntime loads.
 *
 * ```ts
 * import 'voxface/dist/node/telemetry.js';   // first, before anything that imports onnxruntime-node
 * import * as ort from 'onnxruntime-node';
 * ```
 *
 * To let onnxruntime send its telemetry, set `ORT_DISABLE_TELEMETRY=0` yourself.
 */

/** The environment variable onnxruntime reads once, when it initialises. */
export const TELEMETRY_ENV = 'ORT_DISABLE_TELEMETRY';

if (process.env[TELEMETRY_ENV] === undefined || process.env[TELEMETRY_ENV] === '') process.env[TELEMETRY_ENV] = '1';
