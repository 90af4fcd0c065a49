/**
 * The page's options: the rows of the options table (src/options.ts) exposed to 'web', read from the page's URL
 * (`/?landmarks=network&flip=off&texture-size=512`), used by device mode and forwarded to the server in server
 * mode.
 *
 * ```ts
 * const options = pageOptions(location.search);   // { landmarks: 'network', flip: false, textureSize: 512 }
 * fetch(`/api/v1/reconstruct?${serverQuery(options, 'all')}`, { method: 'POST', body: photo });
 * ```
 */
import { FORMATS, VOLUME_FORMATS } from '../../src/export/formats.ts';
import type { Format } from '../../src/export/formats.ts';
import { optionsFromText, optionsQuery } from '../../src/options.ts';
import type { OptionsInput } from '../../src/options.ts';

/** The table options given in a URL query string (throws OptionError, naming the parameter, for a bad one). */
export function pageOptions(search: string): OptionsInput {
  return optionsFromText(new URLSearchParams(search), 'web') as OptionsInput;
}

/**
 * The formats the page offers: every one, the volume network's (volume, nrrd) only where it runs anyway (`volume=on`,
 * `shape=network`); by default it does not run, and the page gets its model sooner.
 *
 * ```ts
 * pageFormats({});               // ['glb', 'obj', 'ply', 'stl', 'depth', 'json']
 * pageFormats({ volume: 'on' }); // every format
 * ```
 */
export function pageFormats(options: OptionsInput): Format[] {
  const volume = options.volume === 'on' || (options.shape === 'network' && options.volume !== 'off');
  return FORMATS.filter((f) => volume || !VOLUME_FORMATS.includes(f));
}

/** The server query for the page's options, every face, and the formats the page offers. */
export function serverQuery(options: OptionsInput, formats: string): string {
  const q = optionsQuery({ faces: 'all', ...options }, 'server');
  q.set('formats', formats);
  return q.toString();
}
