/**
 * Command lines from the options table (src/options.ts): `voxface`, `npm run eval`, `npm run bench` and the
 * gallery script parse their flags here, so each takes the table's rows it exposes plus its own local rows.
 *
 * ```ts
 * import { option } from '../options.ts';
 * const LOCAL = { out: option.path({ default: 'out', short: 'o', help: 'output folder' }) };
 * const { options, local, positionals } = parseCommandLine(['a.jpg', '--flip', 'off'], 'cli', LOCAL);
 * options.flip;   // false
 * local.out;      // 'out'
 * ```
 */
import { parseArgs } from 'node:util';
import { optionsFromText, parseArgsConfig, resolveOptions, resolveTable } from '../options.ts';
import type { FrontEnd, OptionTable, Options, OptionsInput, ValuesOf } from '../options.ts';
import { VoxfaceError } from '../types.ts';

/** What a command line gets: complete table options, its local values, the positionals. */
export interface CommandLine<L extends OptionTable> {
  /** Every option of the table, defaults (this front-end's) filled in. */
  options: Options;
  /** The table options given on the line. */
  given: OptionsInput;
  local: ValuesOf<L>;
  positionals: string[];
}

/**
 * Parses a command line with the table's rows for `frontEnd` and its own `local` rows. Throws `VoxfaceError`
 * ('BAD_ARGUMENT') for an unknown flag or a bad value, naming the flag. With a local `help` or `version` switch
 * given, the table's flags are not checked.
 */
export function parseCommandLine<L extends OptionTable>(argv: string[], frontEnd: FrontEnd, local: L = {} as L): CommandLine<L> {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: parseArgsConfig(frontEnd, local), allowPositionals: true, strict: true });
  } catch (e) {
    throw new VoxfaceError('BAD_ARGUMENT', (e as Error).message);
  }
  const values = parsed.values as Record<string, string | string[] | boolean | undefined>;
  const localValues = resolveTable(local, optionsFromText(values, frontEnd, local, () => true), frontEnd, frontEnd);
  const flags = localValues as Record<string, unknown>;
  const given = (flags.help === true || flags.version === true ? {} : optionsFromText(values, frontEnd)) as OptionsInput;
  return { options: resolveOptions(given, frontEnd), given, local: localValues, positionals: parsed.positionals };
}
