/**
 * Every option of voxface in one declarative table: its name, type, default, range or choices, help text and the
 * front-ends that expose it. `resolveOptions()` validates and completes options for the library; the command
 * lines (voxface, eval, bench, gallery), the HTTP server (query parameters and OpenAPI schema) and the web page
 * (URL parameters) are generated from the same rows. Adding an option is one row in `OPTIONS`; the pipeline then
 * reads it, typed, from its resolved options.
 *
 * ```ts
 * import { resolveOptions } from 'voxface';
 * const o = resolveOptions({ landmarks: 'network', volumeBlur: 0 });
 * o.flip;                     // true: the table's default
 * o.formats;                  // ['glb', 'json']
 * resolveOptions({ smooth: -1 }); // throws VoxfaceError BAD_ARGUMENT "smooth must be an integer from 0 to 1000, got -1"
 * ```
 */
import { FORMATS } from './export/formats.ts';
import type { Box } from './types.ts';
import { VoxfaceError } from './types.ts';

/** The front-ends that take options. `library` = the functions `reconstruct`, `exportResult`, `loadVoxface`. */
export const FRONT_ENDS = ['library', 'cli', 'server', 'web', 'eval', 'bench', 'gallery'] as const;
export type FrontEnd = (typeof FRONT_ENDS)[number];
/** Command-line front-ends: options are `--flag value`. */
export const COMMAND_LINES: readonly FrontEnd[] = ['cli', 'eval', 'bench', 'gallery'];

/**
 * Which stage reads an option: `reconstruct` (the pipeline), `export` (the exporters), `load` (loading the
 * model: Node only), `local` (an option of one front-end, declared beside it with the same builders).
 */
export type OptionGroup = 'reconstruct' | 'export' | 'load' | 'local';
export type OptionKind = 'int' | 'number' | 'boolean' | 'choice' | 'list' | 'box' | 'path';

/** One row of the table. `T` is the option's value type (with `undefined` when it may stay unset). */
export interface OptionSpec<T = unknown, G extends OptionGroup = OptionGroup> {
  kind: OptionKind;
  group: G;
  /** One line, lower case, no final full stop: the CLI help, the OpenAPI description, the doc comment. */
  help: string;
  /** The front-ends that accept it (table rows; a front-end's local rows are exposed by that front-end). */
  expose: readonly FrontEnd[];
  /** The value when it is not given (`undefined`: the stage decides, see `defaultText`). */
  default: T;
  /** A front-end whose default differs (e.g. the server answers with GLB only). */
  defaultFor?: Partial<Record<FrontEnd, T>>;
  /** How an `undefined` default reads in the help ("256–1024 by the face's size"). */
  defaultText?: string;
  /** Its name on command lines, in query strings and URLs (default: the key in kebab-case). */
  flag?: string;
  /** Its HTTP query / page URL parameter when that differs from `flag`. */
  param?: string;
  /** A one-letter command-line alias. */
  short?: string;
  /** The value placeholder in the help (default by kind: n, x, a|b, on|off, list, x,y,w,h, path). */
  metavar?: string;
  /** int, number: the range (inclusive unless `open`). */
  min?: number;
  max?: number;
  /** number: `min` and `max` themselves are excluded. */
  open?: boolean;
  /** choice, list: the allowed values. */
  choices?: readonly string[];
  /** list: the word that stands for every choice. */
  all?: string;
  /** list: what one item is called in messages ("format"). */
  item?: string;
  /** path: repeatable on a command line (`--photos a --photos b`); the value is a list. */
  multiple?: boolean;
  /** boolean: a command-line presence flag (`--solid`) instead of a value (`--flip on|off`). */
  switch?: boolean;
  /** Command-line presence flags that set a value: `--largest` = `--faces largest`. */
  shortcuts?: readonly { flag: string; value: T; help: string }[];
}

type Init<T, G extends OptionGroup> = Omit<OptionSpec<T, G>, 'kind' | 'expose' | 'group'> & { group?: G; expose?: readonly FrontEnd[] };
type Spec<T, G extends OptionGroup> = OptionSpec<T, G>;
const make = <T, G extends OptionGroup>(kind: OptionKind, o: Init<T, G>): Spec<T, G> =>
  ({ kind, expose: [], group: 'local', ...o }) as Spec<T, G>;

/**
 * Row builders (for the table here, and for a front-end's own options beside it).
 *
 * ```ts
 * const LOCAL = { limit: option.optInt({ min: 1, max: 1e6, default: undefined, help: 'only the first n images' }) };
 * ```
 */
export const option = {
  int: <G extends OptionGroup = 'local'>(o: Init<number, G> & { min: number; max: number }) => make<number, G>('int', o),
  /** An integer that may stay unset (the stage picks, see `defaultText`). */
  optInt: <G extends OptionGroup = 'local'>(o: Init<number | undefined, G> & { min: number; max: number }) => make<number | undefined, G>('int', o),
  number: <G extends OptionGroup = 'local'>(o: Init<number, G> & { min: number; max: number }) => make<number, G>('number', o),
  optNumber: <G extends OptionGroup = 'local'>(o: Init<number | undefined, G> & { min: number; max: number }) =>
    make<number | undefined, G>('number', o),
  boolean: <G extends OptionGroup = 'local'>(o: Init<boolean, G>) => make<boolean, G>('boolean', o),
  choice: <const C extends string, G extends OptionGroup = 'local'>(o: Init<NoInfer<C>, G> & { choices: readonly C[] }) => make<C, G>('choice', o),
  list: <const C extends string, G extends OptionGroup = 'local'>(o: Init<NoInfer<C>[], G> & { choices: readonly C[]; item: string }) =>
    make<C[], G>('list', o),
  box: <G extends OptionGroup = 'local'>(o: Init<Box | undefined, G>) => make<Box | undefined, G>('box', o),
  path: <G extends OptionGroup = 'local'>(o: Init<string, G>) => make<string, G>('path', o),
  optPath: <G extends OptionGroup = 'local'>(o: Init<string | undefined, G>) => make<string | undefined, G>('path', o),
  /** A repeatable path (`--photos a --photos b`). */
  paths: <G extends OptionGroup = 'local'>(o: Init<string[], G>) => make<string[], G>('path', { ...o, multiple: true }),
};

/** Options of the mesh and landmarks: every front-end (each of them reconstructs photos). */
const RECONSTRUCTING: readonly FrontEnd[] = FRONT_ENDS;

/** The table. Keys are the library's names (camelCase); command lines and URLs use `flag` (kebab-case). */
export const OPTIONS = {
  faces: option.choice({
    group: 'reconstruct',
    choices: ['all', 'largest'],
    default: 'all',
    defaultFor: { bench: 'largest' },
    help: 'every face (largest first) or only the largest',
    expose: ['library', 'cli', 'server', 'web', 'bench'],
    shortcuts: [
      { flag: 'largest', value: 'largest', help: 'only the largest face of each photo (= --faces largest)' },
      { flag: 'all-faces', value: 'all', help: 'every face (= --faces all)' },
    ],
  }),
  box: option.box({
    group: 'reconstruct',
    default: undefined,
    defaultText: 'found by the detector',
    help: 'the face box x,y,w,h in photo pixels (skips the detector)',
    expose: ['library', 'cli', 'server'],
  }),
  refine: option.boolean({
    group: 'reconstruct',
    default: true,
    help: 'a second network pass on a crop re-centred on the landmarks of the first',
    expose: RECONSTRUCTING,
  }),
  flip: option.boolean({
    group: 'reconstruct',
    default: true,
    help: 'test-time flip: average the network on the crop and its mirror (off is faster)',
    expose: RECONSTRUCTING,
  }),
  shape: option.choice({
    group: 'reconstruct',
    choices: ['prior', 'network'],
    default: 'prior',
    help: "the surface: prior (the ICT face fitted to Face Mesh, on ICT's topology) or network (the network volume's surface, see --mesh)",
    expose: RECONSTRUCTING,
  }),
  mesh: option.choice({
    group: 'reconstruct',
    choices: ['template', 'isosurface'],
    default: 'template',
    help: "with shape network: template (ICT's topology, the prior moved onto the network's surface) or isosurface (marching cubes)",
    expose: RECONSTRUCTING,
  }),
  head: option.boolean({
    group: 'reconstruct',
    default: false,
    switch: true,
    help: "ICT's whole head and neck (no hair) instead of the face, textured where the photo sees it (shape prior, mesh template)",
    expose: RECONSTRUCTING,
  }),
  landmarks: option.choice({
    group: 'reconstruct',
    choices: ['fit', 'fused', 'network'],
    default: 'fit',
    help: "the 68 landmarks: fit (the benchmark's 68 points on the fitted face, AFLW2000-3D's convention; the isosurface shape uses fused), fused (x, y of Face Mesh's where it fits and the head turns < 45°, else the network's; ICT's landmark vertices) or network",
    expose: RECONSTRUCTING,
  }),
  landmarkSource: option.choice({
    group: 'reconstruct',
    choices: ['real', 'synthetic'],
    default: 'real',
    flag: 'landmark-source',
    help: "the 68 points the prior is fitted to where Face Mesh is not used: real (models/landmarks68.onnx, trained on real AFLW photos; research-only terms) or synthetic (the volume network's, trained on renders only)",
    expose: RECONSTRUCTING,
  }),
  identity: option.choice({
    group: 'reconstruct',
    choices: ['on', 'shape', 'off'],
    default: 'on',
    help: "identity from the image (shape prior): on: the fit is pulled toward the ICT identity regressed from a face-recognition embedding of the face (dlib's ResNet, models/identity-encoder.onnx and models/identity-map.json); shape: also from the shape-identity network (models/identity-shape.onnx, trained on renders: more shape on renders, no gain shown on real photos yet); off: toward the mean face",
    expose: RECONSTRUCTING,
  }),
  surfaceLandmarks: option.choice({
    group: 'reconstruct',
    choices: ['on', 'off'],
    default: 'on',
    flag: 'surface-landmarks',
    help: "on: the fitted face's nose, lips, eyes and brows moved onto the benchmark's 68 points (offsets learned on AFLW2000-3D fit/: real noses and lips stand 4–5 mm further out than ICT's fitted surface), so a face in profile keeps the photo's outline; off: ICT's own surface",
    expose: RECONSTRUCTING,
  }),
  silhouette: option.choice({
    group: 'reconstruct',
    choices: ['auto', 'off'],
    default: 'auto',
    help: "auto: a face turned 45° or more has its identity (and its lips' and jaw's thrust) refitted so its profile outline (brow, nose, lips, chin) meets the photo's edges, its 68 landmarks held (src/prior/silhouette.ts; ICT's topology); off: the fit to the landmarks alone",
    expose: RECONSTRUCTING,
  }),
  volume: option.choice({
    group: 'reconstruct',
    choices: ['auto', 'on', 'off'],
    default: 'auto',
    help: "the volume network (VRN): auto (only where its output is used: the volume and nrrd formats, shape network, landmark-source synthetic, landmarks network or fused where Face Mesh does not fit, a guided model), on (every face, its volume kept) or off (never: an error where it is needed)",
    expose: RECONSTRUCTING,
  }),
  volumeBlur: option.number({
    group: 'reconstruct',
    min: 0,
    max: 8,
    default: 1,
    metavar: 'σ',
    help: 'Gaussian blur of the volume before meshing, in voxels (0: none)',
    expose: RECONSTRUCTING,
  }),
  iso: option.number({
    group: 'reconstruct',
    min: 0,
    max: 1,
    open: true,
    default: 0.5,
    help: 'occupancy level of the isosurface',
    expose: RECONSTRUCTING,
  }),
  smooth: option.int({
    group: 'reconstruct',
    min: 0,
    max: 1000,
    default: 10,
    help: 'Taubin smoothing iterations on the surface',
    expose: RECONSTRUCTING,
  }),
  maxTriangles: option.optInt({
    group: 'reconstruct',
    min: 100,
    max: 10_000_000,
    default: undefined,
    defaultText: 'keep all',
    help: 'decimate each mesh to at most n triangles',
    expose: ['library', 'cli', 'server', 'web', 'bench', 'gallery'],
  }),
  textureSize: option.optInt({
    group: 'reconstruct',
    min: 16,
    max: 4096,
    default: undefined,
    defaultText: "256–1024 by the face's size in the photo",
    defaultFor: { gallery: 16 },
    help: 'texture map side in texels',
    expose: ['library', 'cli', 'server', 'web', 'bench', 'gallery'],
  }),
  formats: option.list({
    group: 'export',
    choices: FORMATS,
    all: 'all',
    item: 'format',
    default: ['glb', 'json'],
    defaultFor: { server: ['glb'] },
    flag: 'format',
    param: 'formats',
    short: 'f',
    help: `output formats: a comma list of ${FORMATS.join(',')} or all`,
    expose: ['library', 'cli', 'server'],
  }),
  frame: option.choice({
    group: 'export',
    choices: ['y-up', 'photo'],
    default: 'y-up',
    help: 'mesh file frame: y-up (upright in viewers) or photo (= the JSON frame)',
    expose: ['library', 'cli', 'server', 'web'],
  }),
  solidSTL: option.boolean({
    group: 'export',
    default: false,
    switch: true,
    flag: 'solid',
    help: 'STL as a closed, printable solid instead of the open face surface',
    expose: ['library', 'cli', 'server', 'web'],
  }),
  model: option.optPath({
    group: 'load',
    default: undefined,
    defaultText: 'models/vrn-compact.onnx of this package',
    help: 'the ONNX model (its .json sidecar beside it)',
    expose: ['library', 'cli', 'eval', 'bench', 'gallery'],
  }),
  threads: option.optInt({
    group: 'load',
    min: 1,
    max: 256,
    default: undefined,
    defaultText: "onnxruntime's choice; BlazeFace and Face Mesh 1",
    defaultFor: { gallery: 2 },
    help: 'CPU threads for the networks (onnxruntime intra-op threads; given, every network uses it)',
    expose: ['library', 'cli', 'eval', 'bench', 'gallery'],
  }),
};

/** Any table of options (OPTIONS, or a front-end's local rows). */
export type OptionTable = Record<string, OptionSpec<unknown>>;
/** The value types of a table. */
export type ValuesOf<T extends OptionTable> = { -readonly [K in keyof T]: T[K] extends OptionSpec<infer V, OptionGroup> ? V : never };
export type OptionKey = keyof typeof OPTIONS;
/** Complete options: what `resolveOptions()` returns. */
export type Options = ValuesOf<typeof OPTIONS>;
/** Options as callers give them: any subset. */
export type OptionsInput = { [K in OptionKey]?: Options[K] | undefined };
/** The keys of the table's rows of one group. */
export type KeysOf<G extends OptionGroup> = { [K in OptionKey]: (typeof OPTIONS)[K] extends OptionSpec<unknown, G> ? K : never }[OptionKey];
/** The pipeline's options, resolved. */
export type ReconstructSettings = Pick<Options, KeysOf<'reconstruct'>>;
/** The exporters' options, resolved. */
export type ExportSettings = Pick<Options, KeysOf<'export'>>;

/** A bad option value: a `VoxfaceError('BAD_ARGUMENT')` that knows which option (its table key) and the problem. */
export class OptionError extends VoxfaceError {
  constructor(
    /** The table key (e.g. `textureSize`), whatever the front-end calls it. */
    public readonly option: string,
    /** What is wrong, without the option's name ("must be an integer from 16 to 4096"). */
    public readonly problem: string,
    message: string,
  ) {
    super('BAD_ARGUMENT', message);
    this.name = 'OptionError';
  }
}

const entries = <T extends OptionTable>(table: T) => Object.entries(table) as [keyof T & string, OptionSpec][];
const kebab = (key: string) => key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
const isCommandLine = (fe: FrontEnd) => COMMAND_LINES.includes(fe);

/** The name of a flag/parameter of an option in a front-end's own syntax. */
function flagOf(key: string, spec: OptionSpec, frontEnd: FrontEnd): string {
  if (frontEnd === 'library') return key;
  if (isCommandLine(frontEnd)) return spec.flag ?? kebab(key);
  return spec.param ?? spec.flag ?? kebab(key);
}

/**
 * How a front-end names an option: `--texture-size` (command lines), `texture-size` (HTTP query and page URL),
 * `textureSize` (library).
 */
export function optionName(key: OptionKey | string, frontEnd: FrontEnd = 'library', table: OptionTable = OPTIONS): string {
  const spec = table[key] as OptionSpec | undefined;
  if (!spec) return key;
  const name = flagOf(key, spec, frontEnd);
  return isCommandLine(frontEnd) ? `--${name}` : name;
}

/** The rows of the table a front-end exposes, in table order. */
export function optionsOf(frontEnd: FrontEnd): [OptionKey, OptionSpec][] {
  return entries(OPTIONS).filter(([, s]) => s.expose.includes(frontEnd));
}

/** The default of a row in a front-end (a copy for lists and boxes). */
export function defaultOf<T>(spec: OptionSpec<T>, frontEnd: FrontEnd = 'library'): T {
  const d = spec.defaultFor && frontEnd in spec.defaultFor ? (spec.defaultFor[frontEnd] as T) : spec.default;
  return (Array.isArray(d) ? [...d] : d) as T;
}

const or = (xs: readonly string[]) => (xs.length === 2 ? `${xs[0]} or ${xs[1]}` : `one of ${xs.join(', ')}`);

/** What is wrong with a value (undefined when it is right). */
function problemOf(spec: OptionSpec, v: unknown): string | undefined {
  switch (spec.kind) {
    case 'int':
      return typeof v === 'number' && Number.isInteger(v) && v >= spec.min! && v <= spec.max! ? undefined : `must be an integer from ${spec.min} to ${spec.max}`;
    case 'number': {
      const ok = typeof v === 'number' && Number.isFinite(v) && (spec.open ? v > spec.min! && v < spec.max! : v >= spec.min! && v <= spec.max!);
      return ok ? undefined : spec.open ? `must be a number between ${spec.min} and ${spec.max} (both excluded)` : `must be a number from ${spec.min} to ${spec.max}`;
    }
    case 'boolean':
      return typeof v === 'boolean' ? undefined : 'must be true or false';
    case 'choice':
      return typeof v === 'string' && spec.choices!.includes(v) ? undefined : `must be ${or(spec.choices!)}`;
    case 'list': {
      if (!Array.isArray(v)) return `must be a list of ${spec.item}s (${spec.choices!.join(', ')})`;
      const bad = v.find((x) => typeof x !== 'string' || !spec.choices!.includes(x));
      if (bad !== undefined) return `has an unknown ${spec.item} "${String(bad)}" (known: ${spec.choices!.join(', ')}${spec.all ? `, ${spec.all}` : ''})`;
      return v.length === 0 ? `needs at least one ${spec.item}` : undefined;
    }
    case 'box':
      return Array.isArray(v) && v.length === 4 && v.every((x) => typeof x === 'number' && Number.isFinite(x)) && v[2] > 0 && v[3] > 0
        ? undefined
        : 'needs x,y,w,h with positive w and h';
    case 'path':
      if (spec.multiple) return Array.isArray(v) && v.every((x) => typeof x === 'string' && x.length > 0) ? undefined : 'must be non-empty paths';
      return typeof v === 'string' && v.length > 0 ? undefined : 'must be a non-empty path';
  }
}

const shown = (v: unknown) => (typeof v === 'string' ? `"${v}"` : Array.isArray(v) ? `[${v.join(',')}]` : String(v));

function fail(key: string, spec: OptionSpec, problem: string, value: unknown, name: string): never {
  // an unknown list item names itself; other problems show the value given
  const got = spec.kind === 'list' && problem.startsWith('has an unknown') ? '' : `, got ${shown(value)}`;
  throw new OptionError(key, problem, `${name} ${problem}${got}`);
}

/** A valid value as stored (lists without repeats, boxes copied). */
const normalise = (spec: OptionSpec, v: unknown): unknown =>
  spec.kind === 'list' ? [...new Set(v as string[])] : Array.isArray(v) ? [...v] : v;

/**
 * Validates options and fills in every default: the complete options of the table. Throws
 * `OptionError` (a `VoxfaceError` with code 'BAD_ARGUMENT') naming the option by its key, for a bad value
 * or a key that is no option. `frontEnd` picks that front-end's defaults (`defaultFor`).
 *
 * ```ts
 * const o = resolveOptions({ textureSize: 512 }); // o.smooth === 10, o.textureSize === 512
 * ```
 */
export function resolveOptions(input: OptionsInput = {}, frontEnd: FrontEnd = 'library'): Options {
  for (const key of Object.keys(input)) {
    if (!Object.hasOwn(OPTIONS, key)) throw new OptionError(key, 'is no voxface option', `"${key}" is no voxface option (known: ${Object.keys(OPTIONS).join(', ')})`);
  }
  return resolveTable(OPTIONS, input as Record<string, unknown>, frontEnd, 'library');
}

/**
 * `resolveOptions` for any table (a front-end's local rows): defaults filled in, values checked, errors naming
 * options as `naming` spells them.
 */
export function resolveTable<T extends OptionTable>(table: T, input: Record<string, unknown>, frontEnd: FrontEnd, naming: FrontEnd): ValuesOf<T> {
  const out: Record<string, unknown> = {};
  for (const [key, spec] of entries(table)) {
    const v = input[key];
    if (v === undefined) {
      out[key] = defaultOf(spec, frontEnd);
      continue;
    }
    const problem = problemOf(spec, v);
    if (problem) fail(key, spec, problem, v, optionName(key, naming, table));
    out[key] = normalise(spec, v);
  }
  return out as ValuesOf<T>;
}

/** A value from its text form (command line, query string): still to be validated. */
function fromText(spec: OptionSpec, raw: string): unknown {
  const s = raw.trim();
  switch (spec.kind) {
    case 'int':
    case 'number':
      return s === '' ? NaN : Number(s);
    case 'boolean': {
      const t = s.toLowerCase();
      if (['on', 'true', '1'].includes(t)) return true;
      if (['off', 'false', '0'].includes(t)) return false;
      return raw;
    }
    case 'choice':
      return s;
    case 'list': {
      const items = s.split(',').map((x) => x.trim().toLowerCase()).filter(Boolean);
      return spec.all && items.includes(spec.all) ? [...spec.choices!] : items;
    }
    case 'box':
      return s.split(',').map((x) => (x.trim() === '' ? NaN : Number(x)));
    case 'path':
      return raw;
  }
}

/** The problem in text terms (booleans are on or off there). */
const textProblem = (spec: OptionSpec, v: unknown) =>
  spec.kind === 'boolean' && typeof v !== 'boolean' ? 'must be on or off (or 1/0, true/false)' : problemOf(spec, v);

/**
 * Reads options from text values as a front-end receives them, keyed by that front-end's names (`texture-size`;
 * booleans of command-line switches and shortcuts as `true`). Names of other front-ends' options are ignored
 * (command lines reject unknown flags earlier). Returns only the options given, validated; throws `OptionError`
 * naming the option as that front-end spells it (`--texture-size` on a command line, `texture-size` in a URL).
 *
 * ```ts
 * optionsFromText(new URLSearchParams('landmarks=network&flip=off'), 'server'); // { landmarks: 'network', flip: false }
 * ```
 */
export function optionsFromText(
  values: URLSearchParams | Map<string, string> | Record<string, string | string[] | boolean | undefined>,
  frontEnd: FrontEnd,
  table: OptionTable = OPTIONS,
  exposed: (spec: OptionSpec) => boolean = (s) => s.expose.includes(frontEnd),
): Record<string, unknown> {
  const get = (name: string): string | string[] | boolean | undefined => {
    if (values instanceof URLSearchParams) return values.has(name) ? values.getAll(name).at(-1) : undefined;
    if (values instanceof Map) return values.get(name);
    return values[name];
  };
  const out: Record<string, unknown> = {};
  for (const [key, spec] of entries(table)) {
    if (!exposed(spec)) continue;
    const flag = flagOf(key, spec, frontEnd);
    const name = optionName(key, frontEnd, table);
    const raw = get(flag);
    let value: unknown;
    let from = name;
    if (raw === true) value = true;
    else if (Array.isArray(raw)) {
      value = raw;
      const problem = problemOf(spec, value);
      if (problem) fail(key, spec, problem, raw, name);
    } else if (typeof raw === 'string' && !(raw.trim() === '' && !isCommandLine(frontEnd))) {
      value = fromText(spec, raw);
      const problem = textProblem(spec, value);
      if (problem) fail(key, spec, problem, raw, name);
    }
    if (isCommandLine(frontEnd)) {
      for (const s of spec.shortcuts ?? []) {
        if (get(s.flag) !== true) continue;
        if (value !== undefined && JSON.stringify(value) !== JSON.stringify(s.value)) {
          throw new OptionError(key, 'given twice', `${from} and --${s.flag} exclude each other`);
        }
        value = s.value;
        from = `--${s.flag}`;
      }
    }
    if (value !== undefined) out[key] = normalise(spec, value);
  }
  return out;
}

/**
 * The complete options of a front-end from its text values: `optionsFromText` + `resolveOptions` with that
 * front-end's defaults.
 *
 * ```ts
 * const o = parseOptions(url.searchParams, 'server'); // o.formats === ['glb'] unless formats= is given
 * ```
 */
export function parseOptions(values: Parameters<typeof optionsFromText>[0], frontEnd: FrontEnd): Options {
  return resolveOptions(optionsFromText(values, frontEnd) as OptionsInput, frontEnd);
}

/** Text form of a value (the inverse of parsing): for query strings. */
export function optionText(spec: OptionSpec, v: unknown): string {
  if (spec.kind === 'boolean') return v ? 'on' : 'off';
  if (Array.isArray(v)) return v.join(',');
  return String(v);
}

/**
 * The query string for `options` in a front-end's names (only the options it exposes and that are set), e.g.
 * what the page sends to the server.
 *
 * ```ts
 * optionsQuery({ landmarks: 'network', textureSize: 512 }, 'server').toString(); // "texture-size=512&landmarks=network"
 * ```
 */
export function optionsQuery(options: OptionsInput, frontEnd: FrontEnd): URLSearchParams {
  const q = new URLSearchParams();
  for (const [key, spec] of optionsOf(frontEnd)) {
    const v = options[key];
    if (v !== undefined) q.set(flagOf(key, spec, frontEnd), optionText(spec, v));
  }
  return q;
}

// ---- command lines ---------------------------------------------------------------------------------------

/** Node's `util.parseArgs` option config. */
export type ParseArgsConfig = Record<string, { type: 'string' | 'boolean'; short?: string; multiple?: boolean }>;

function commandLineRows(frontEnd: FrontEnd, local: OptionTable): [string, OptionSpec, boolean][] {
  return [...optionsOf(frontEnd).map(([k, s]) => [k, s, false] as [string, OptionSpec, boolean]), ...entries(local).map(([k, s]) => [k, s, true] as [string, OptionSpec, boolean])];
}

/** The `parseArgs` config of a command line: the table's rows it exposes, then its local rows. */
export function parseArgsConfig(frontEnd: FrontEnd, local: OptionTable = {}): ParseArgsConfig {
  const config: ParseArgsConfig = {};
  for (const [key, spec] of commandLineRows(frontEnd, local)) {
    const flag = flagOf(key, spec, frontEnd);
    config[flag] = {
      type: spec.kind === 'boolean' && spec.switch ? 'boolean' : 'string',
      ...(spec.short ? { short: spec.short } : {}),
      ...(spec.multiple ? { multiple: true } : {}),
    };
    for (const s of spec.shortcuts ?? []) config[s.flag] = { type: 'boolean' };
  }
  return config;
}

const METAVAR: Record<OptionKind, string> = { int: 'n', number: 'x', boolean: 'on|off', choice: '', list: 'list', box: 'x,y,w,h', path: 'path' };

/** "(default: 10)", or '' when there is nothing to say. */
function defaultNote(spec: OptionSpec, frontEnd: FrontEnd): string {
  if (spec.kind === 'boolean' && spec.switch) return '';
  const d = defaultOf(spec, frontEnd);
  if (d === undefined || (Array.isArray(d) && d.length === 0)) return spec.defaultText ? ` (default: ${spec.defaultText})` : '';
  return ` (default: ${optionText(spec, d)})`;
}

/**
 * The options part of a command line's `--help`: one line per flag, generated from the rows.
 *
 * ```ts
 * console.log(`Options:\n${commandLineHelp('eval', LOCAL)}`);
 * ```
 */
export function commandLineHelp(frontEnd: FrontEnd, local: OptionTable = {}): string {
  const lines: [string, string][] = [];
  for (const [key, spec] of commandLineRows(frontEnd, local)) {
    const flag = flagOf(key, spec, frontEnd);
    const meta = spec.kind === 'boolean' && spec.switch ? '' : ` <${spec.metavar ?? (METAVAR[spec.kind] || spec.choices!.join('|'))}>`;
    lines.push([`${spec.short ? `-${spec.short}, ` : '    '}--${flag}${meta}`, `${spec.help}${defaultNote(spec, frontEnd)}`]);
    for (const s of spec.shortcuts ?? []) lines.push([`    --${s.flag}`, s.help]);
  }
  const width = Math.min(26, Math.max(...lines.map(([l]) => l.length)) + 2);
  return lines.map(([l, r]) => `  ${l.length + 2 > width ? `${l}\n  ${' '.repeat(width)}` : l.padEnd(width)}${r}`).join('\n');
}

// ---- HTTP: OpenAPI / JSON schema --------------------------------------------------------------------------

/** A JSON-schema / OpenAPI 3.0 schema of a row's text form (query strings and form fields are text). */
export function optionSchema(spec: OptionSpec, frontEnd: FrontEnd = 'server'): Record<string, unknown> {
  const d = defaultOf(spec, frontEnd);
  const withDefault = (s: Record<string, unknown>) => (d === undefined ? s : { ...s, default: s.type === 'string' ? optionText(spec, d) : d });
  switch (spec.kind) {
    case 'int':
      return withDefault({ type: 'integer', minimum: spec.min, maximum: spec.max });
    case 'number':
      return withDefault({ type: 'number', minimum: spec.min, maximum: spec.max });
    case 'boolean':
      return withDefault({ type: 'string', enum: ['on', 'off', '1', '0', 'true', 'false'] });
    case 'choice':
      return withDefault({ type: 'string', enum: [...spec.choices!] });
    case 'list':
      return withDefault({ type: 'string', example: spec.choices!.slice(0, 2).join(',') });
    case 'box':
      return { type: 'string', example: '120,80,200,240' };
    case 'path':
      return withDefault({ type: 'string' });
  }
}

/** The description of a row in an API document: its help and default. */
export function optionDescription(spec: OptionSpec, frontEnd: FrontEnd = 'server'): string {
  const h = spec.help[0].toUpperCase() + spec.help.slice(1);
  const range = spec.kind === 'number' && spec.open ? `; between ${spec.min} and ${spec.max}, both excluded` : '';
  const d = defaultNote(spec, frontEnd).replace(/^ \(default: (.*)\)$/, ' Default: $1.');
  return `${h}${range}.${d}`;
}

/**
 * OpenAPI 3 query parameters for the rows a front-end exposes (and its local rows).
 *
 * ```ts
 * spec.paths['/api/v1/reconstruct'].post.parameters = openapiParameters('server', { inline: INLINE });
 * ```
 */
export function openapiParameters(frontEnd: FrontEnd = 'server', local: OptionTable = {}): Record<string, unknown>[] {
  const rows: [string, OptionSpec][] = [...optionsOf(frontEnd), ...entries(local)];
  return rows.map(([key, spec]) => ({ name: flagOf(key, spec, frontEnd), in: 'query', schema: optionSchema(spec, frontEnd), description: optionDescription(spec, frontEnd) }));
}

/** A JSON schema object of the rows a front-end exposes (and its local rows), e.g. a querystring or form schema. */
export function optionsObjectSchema(frontEnd: FrontEnd = 'server', local: OptionTable = {}): { type: 'object'; properties: Record<string, unknown> } {
  const rows: [string, OptionSpec][] = [...optionsOf(frontEnd), ...entries(local)];
  return {
    type: 'object',
    properties: Object.fromEntries(rows.map(([key, spec]) => [flagOf(key, spec, frontEnd), { ...optionSchema(spec, frontEnd), description: optionDescription(spec, frontEnd) }])),
  };
}

/** Every row of the table with its key (for documentation and tests). */
export function optionRows(): [OptionKey, OptionSpec][] {
  return entries(OPTIONS);
}

/** Whether the key is a row of the table. */
export const isOptionKey = (key: string): key is OptionKey => Object.hasOwn(OPTIONS, key);
