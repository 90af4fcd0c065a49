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
import { optionsFromText, optionsQuery } from '../../src/options.ts';
import type { OptionsInput } from '../../src/options.ts';

/** The table options given in a URL query string (throws OptionError, naming the parameter, for a bad one). */
export function pageOptions(search: string): OptionsInput {
  return optionsFromText(new URLSearchParams(search), 'web') as OptionsInput;
}

/** The server query for the page's options, every face, and the formats the page offers. */
export function serverQuery(options: OptionsInput, formats: string): string {
  const q = optionsQuery({ faces: 'all', ...options }, 'server');
  q.set('formats', formats);
  return q.toString();
}
