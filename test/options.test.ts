/**
 * The options table walked through every front-end: for each row and each front-end, the front-end accepts the
 * option exactly when the row exposes it there, under the row's name, with the row's default, and rejects a bad
 * value naming the option as that front-end spells it. Adding a row needs no change here.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parse as parseCli, HELP } from '../src/cli/main.ts';
import { defaultOf, FRONT_ENDS, OptionError, optionName, optionRows, optionText, optionsQuery, resolveOptions } from '../src/options.ts';
import type { FrontEnd, OptionSpec } from '../src/options.ts';
import { openapiDocument } from '../src/server/index.ts';
import { parseReconstructRequest } from '../src/server/reconstruct.ts';
import { HttpError } from '../src/server/errors.ts';
import { parseEvalArgs } from '../eval/eval.ts';
import { BENCH_OPTIONS, parseBenchArgs } from '../bench/bench.ts';
import { parseGalleryArgs } from '../scripts/gallery.ts';
import { commandLineHelp } from '../src/options.ts';
import { pageOptions, serverQuery } from '../web/src/options.ts';

const JPEG = Buffer.from([0xff, 0xd8, 0xff]);

/** A valid value other than the default, and its text form. */
function sample(spec: OptionSpec): { value: unknown; text: string } {
  const d = defaultOf(spec);
  let value: unknown;
  switch (spec.kind) {
    case 'int':
      value = spec.min! + 1 === d ? spec.min! + 2 : spec.min! + 1;
      break;
    case 'number':
      value = (spec.min! + spec.max!) / 2 === d ? (spec.min! + 3 * spec.max!) / 4 : (spec.min! + spec.max!) / 2;
      break;
    case 'boolean':
      value = !d;
      break;
    case 'choice':
      value = spec.choices!.find((c) => c !== d);
      break;
    case 'list':
      value = [spec.choices!.at(-1)];
      break;
    case 'box':
      value = [10, 20, 30, 40];
      break;
    case 'path':
      value = spec.multiple ? ['a'] : 'some/model.onnx';
      break;
  }
  return { value, text: optionText(spec, value) };
}

/** Text that no front-end may accept (empty text means "not given" in URLs, so paths are left out there). */
function badText(spec: OptionSpec, url: boolean): string | undefined {
  return { int: '1.5', number: 'x', boolean: 'maybe', choice: 'nope', list: 'nope', box: '1,2,3', path: url ? undefined : '' }[spec.kind];
}
const badValue = (spec: OptionSpec): unknown => ({ int: 0.5, number: NaN, boolean: 'yes', choice: 'nope', list: ['nope'], box: [1, 2, 3], path: '' })[spec.kind];

/** The command-line arguments that set the option (a switch is its flag alone). */
const args = (key: string, spec: OptionSpec, fe: FrontEnd, text: string) =>
  spec.kind === 'boolean' && spec.switch ? (text === 'on' ? [optionName(key, fe)] : []) : [optionName(key, fe), text];

/** Each command line's parser → the table options it resolved. */
const commandLines: Record<string, (argv: string[]) => Record<string, unknown>> = {
  cli: (argv) => {
    const r = parseCli(['photo.jpg', ...argv]);
    assert.ok(typeof r === 'object');
    return r.opts.options;
  },
  eval: (argv) => {
    const r = parseEvalArgs(['dataset', ...argv]);
    assert.ok(typeof r === 'object');
    return resolveOptions(r.options, 'eval');
  },
  bench: (argv) => parseBenchArgs(argv).options,
  gallery: (argv) => parseGalleryArgs(argv).options,
};
const helps: Record<string, string> = {
  cli: HELP,
  bench: commandLineHelp('bench', BENCH_OPTIONS),
};

const server = (query: string) => parseReconstructRequest({ 'content-type': 'image/jpeg' }, new URLSearchParams(query), JPEG).options as Record<string, unknown>;

test('every front-end is walked', () => {
  assert.deepEqual([...FRONT_ENDS].sort(), ['bench', 'cli', 'eval', 'gallery', 'library', 'server', 'web'].sort());
  for (const [key, spec] of optionRows()) assert.ok(spec.expose.includes('library'), `${key}: every option is an option of the library`);
});

for (const [key, spec] of optionRows()) {
  test(`option ${key}: ${spec.expose.join(', ')}`, () => {
    const { value, text } = sample(spec);

    // library: resolveOptions validates, defaults, and names the option by its key, never a flag
    assert.deepEqual(resolveOptions({})[key], defaultOf(spec));
    assert.deepEqual(resolveOptions({ [key]: value })[key], value);
    assert.throws(
      () => resolveOptions({ [key]: badValue(spec) }),
      (e: unknown) => e instanceof OptionError && e.code === 'BAD_ARGUMENT' && e.option === key && e.message.startsWith(`${key} `),
    );

    // command lines: the flag exists exactly where exposed, with the front-end's default, and a bad value names it
    for (const [fe, parse] of Object.entries(commandLines) as [FrontEnd, (argv: string[]) => Record<string, unknown>][]) {
      const flag = optionName(key, fe);
      if (!spec.expose.includes(fe)) {
        if (!(spec.kind === 'boolean' && spec.switch && text !== 'on')) assert.throws(() => parse(args(key, spec, fe, text)), /Unknown option/, `${fe} must not take ${flag}`);
        continue;
      }
      assert.deepEqual(parse([])[key], defaultOf(spec, fe), `${fe}: default of ${flag}`);
      assert.deepEqual(parse(args(key, spec, fe, text))[key], value, `${fe}: ${flag} ${text}`);
      const bad = badText(spec, false);
      if (bad !== undefined && !(spec.kind === 'boolean' && spec.switch)) {
        assert.throws(() => parse([flag, bad]), (e: unknown) => e instanceof Error && e.message.startsWith(`${flag} `), `${fe}: ${flag} ${bad}`);
      }
      if (helps[fe]) assert.ok(helps[fe].includes(`--${flag.slice(2)}`), `${fe} help lists ${flag}`);
    }

    // server: query parameter (and form field) with its OpenAPI schema; a bad value is a 400 naming the parameter
    const param = optionName(key, 'server');
    const parameters = (openapiDocument().paths['/api/v1/reconstruct'].post as unknown as { parameters: { name: string; schema: { default?: unknown } }[] }).parameters;
    const documented = parameters.find((p) => p.name === param);
    if (spec.expose.includes('server')) {
      assert.ok(documented, `OpenAPI documents ${param}`);
      const d = defaultOf(spec, 'server');
      if (d !== undefined) assert.deepEqual(documented!.schema.default, documented!.schema.default === d ? d : optionText(spec, d));
      assert.deepEqual(server('')[key], defaultOf(spec, 'server'));
      assert.deepEqual(server(`${param}=${encodeURIComponent(text)}`)[key], value);
      const bad = badText(spec, true);
      if (bad !== undefined) {
        assert.throws(
          () => server(`${param}=${encodeURIComponent(bad)}`),
          (e: unknown) => e instanceof HttpError && e.status === 400 && e.message.startsWith(`${param} `),
        );
      }
    } else {
      assert.equal(documented, undefined, `OpenAPI must not document ${param}`);
      assert.deepEqual(server(`${param}=${encodeURIComponent(text)}`)[key], defaultOf(spec, 'server'), `the server ignores ${param}`);
    }

    // the page: its URL parameters; what it forwards to the server means the same there
    const fromUrl = pageOptions(`?${optionName(key, 'web')}=${encodeURIComponent(text)}`);
    if (spec.expose.includes('web')) {
      assert.deepEqual(fromUrl[key], value);
      if (spec.expose.includes('server')) assert.deepEqual(server(serverQuery(fromUrl, 'glb'))[key], value);
      const bad = badText(spec, true);
      if (bad !== undefined) assert.throws(() => pageOptions(`?${optionName(key, 'web')}=${encodeURIComponent(bad)}`), OptionError);
    } else {
      assert.equal(fromUrl[key], undefined, `the page must not take ${key}`);
      assert.equal(optionsQuery({ [key]: value }, 'web').toString(), '');
    }
  });
}

test('front-end shortcuts and conflicts', () => {
  const cli = (...argv: string[]) => {
    const r = parseCli(['a.jpg', ...argv]);
    assert.ok(typeof r === 'object');
    return r.opts;
  };
  assert.equal(cli('--largest').options.faces, 'largest');
  assert.equal(cli('--all-faces').options.faces, 'all');
  assert.throws(() => cli('--largest', '--all-faces'), /--largest and --all-faces exclude each other/);
  assert.throws(() => cli('--faces', 'all', '--largest'), /exclude each other/);
  assert.deepEqual(cli('-f', 'all').options.formats.length, 8);
  assert.deepEqual(cli('-f', 'obj,glb,obj').options.formats, ['obj', 'glb']);
  assert.throws(() => cli('-f', ''), /--format needs at least one format/);
  // the drifts the table removed: eval checks its volume blur, bench's flag is --texture-size with the real default
  assert.throws(() => parseEvalArgs(['ds', '--volume-blur', 'x']), /--volume-blur must be a number from 0 to 8, got "x"/);
  assert.throws(() => parseBenchArgs(['--texture', '1024']), /Unknown option '--texture'/);
  assert.match(commandLineHelp('bench', BENCH_OPTIONS), /--texture-size <n> +texture map side in texels \(default: 256–1024/);
  // --help is answered before any other flag is checked
  assert.equal(parseCli(['--help', '--smooth', 'x']), 'help');
});
