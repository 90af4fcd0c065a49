/**
 * Writes src/simd/kernels-wasm.ts: the WebAssembly SIMD kernels of src/simd/kernels.ts as bytes (base64), assembled
 * from the text below by wabt (a dev dependency; the runtime needs only the bytes). Rerun after changing the text:
 *
 *   node --import tsx scripts/build-simd.ts
 *
 * The kernels: `axpyN(out, n, a_0 … a_{N−1}, c_0 … c_{N−1})` adds Σ_k c_k · a_k[i] to out[i] for i < n, every
 * pointer a byte offset into the imported memory, f32 throughout, four floats per SIMD lane and the last n mod 4 one
 * at a time; N = 8, 4 and 1.
 */
import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';

const require = createRequire(import.meta.url);
const wabtInit = require('wabt') as () => Promise<{
  parseWat(name: string, text: string, features: Record<string, boolean>): { toBinary(o: object): { buffer: Uint8Array }; validate(): void; destroy(): void };
}>;

/** The text of one axpyN kernel. */
function axpy(N: number): string {
  const ks = Array.from({ length: N }, (_, k) => k);
  const params = ['(param $out i32) (param $n i32)', ...ks.map((k) => `(param $a${k} i32)`), ...ks.map((k) => `(param $c${k} f32)`)].join(' ');
  const locals = ['(local $i i32) (local $end i32) (local $acc v128) (local $s f32)', ...ks.map((k) => `(local $v${k} v128)`)].join(' ');
  const splats = ks.map((k) => `(local.set $v${k} (f32x4.splat (local.get $c${k})))`).join('\n    ');
  const vecTerm = (k: number) => `(f32x4.mul (v128.load (i32.add (local.get $a${k}) (local.get $i))) (local.get $v${k}))`;
  const sclTerm = (k: number) => `(f32.mul (f32.load (i32.add (local.get $a${k}) (local.get $i))) (local.get $c${k}))`;
  const vecSum = ks.slice(1).reduce((acc, k) => `(f32x4.add ${acc} ${vecTerm(k)})`, vecTerm(0));
  const sclSum = ks.slice(1).reduce((acc, k) => `(f32.add ${acc} ${sclTerm(k)})`, sclTerm(0));
  return `
  (func (export "axpy${N}") ${params} ${locals}
    ${splats}
    (local.set $end (i32.shl (i32.and (local.get $n) (i32.const -4)) (i32.const 2)))
    (block $vdone (loop $vloop
      (br_if $vdone (i32.ge_u (local.get $i) (local.get $end)))
      (local.set $acc ${vecSum})
      (v128.store (i32.add (local.get $out) (local.get $i))
        (f32x4.add (v128.load (i32.add (local.get $out) (local.get $i))) (local.get $acc)))
      (local.set $i (i32.add (local.get $i) (i32.const 16)))
      (br $vloop)))
    (local.set $end (i32.shl (local.get $n) (i32.const 2)))
    (block $sdone (loop $sloop
      (br_if $sdone (i32.ge_u (local.get $i) (local.get $end)))
      (local.set $s ${sclSum})
      (f32.store (i32.add (local.get $out) (local.get $i))
        (f32.add (f32.load (i32.add (local.get $out) (local.get $i))) (local.get $s)))
      (local.set $i (i32.add (local.get $i) (i32.const 4)))
      (br $sloop))))`;
}

/**
 * The pull-push fill's kernels (src/texture/fill.ts) on RGBA texels (premultiplied colour, confidence in a), four f32
 * per texel, byte offsets:
 * - `pull(fine, fw, fh, coarse)`: each coarse texel sums its 2 × 2 children (fw and fh even), then keeps a confidence
 *   min(Σa, 1) and the colour scaled by the same factor: s · (min(Σa, 1) / Σa), 0 where Σa = 0;
 * - `push(fine, fw, fh, coarse, cw, ch, cols)`: each fine texel missing confidence (a < 1) gets (1 − a) times the
 *   coarse level bilinearly at its centre, and a = 1; `cols` holds per fine column its two coarse columns' byte
 *   offsets (i32, i32) and the second's weight (f32);
 * - `bytes(src, n, dst)`: n texels' r, g, b × 255 rounded half to even and clamped to 0…255 (NaN → 0) as 3 bytes each
 *   (writes one byte past the last texel).
 */
const fill = `
  (func (export "pull") (param $fine i32) (param $fw i32) (param $fh i32) (param $coarse i32)
    (local $w i32) (local $h i32) (local $i i32) (local $j i32) (local $row i32) (local $stride i32) (local $f i32)
    (local $o i32) (local $s v128) (local $sa f32) (local $conf f32) (local $norm f32)
    (local.set $w (i32.shr_u (local.get $fw) (i32.const 1)))
    (local.set $h (i32.shr_u (local.get $fh) (i32.const 1)))
    (local.set $stride (i32.shl (local.get $fw) (i32.const 4)))
    (local.set $o (local.get $coarse))
    (block $jdone (loop $jloop
      (br_if $jdone (i32.ge_u (local.get $j) (local.get $h)))
      (local.set $f (i32.add (local.get $fine) (i32.mul (i32.shl (local.get $j) (i32.const 1)) (local.get $stride))))
      (local.set $i (i32.const 0))
      (block $idone (loop $iloop
        (br_if $idone (i32.ge_u (local.get $i) (local.get $w)))
        (local.set $s (f32x4.add (f32x4.add (f32x4.add
          (v128.load (local.get $f)) (v128.load offset=16 (local.get $f)))
          (v128.load (i32.add (local.get $f) (local.get $stride))))
          (v128.load offset=16 (i32.add (local.get $f) (local.get $stride)))))
        (local.set $sa (f32x4.extract_lane 3 (local.get $s)))
        (local.set $conf (f32.min (local.get $sa) (f32.const 1)))
        (local.set $norm (select (f32.div (local.get $conf) (local.get $sa)) (f32.const 0) (f32.gt (local.get $sa) (f32.const 0))))
        (v128.store (local.get $o) (f32x4.mul (local.get $s) (f32x4.splat (local.get $norm))))
        (local.set $o (i32.add (local.get $o) (i32.const 16)))
        (local.set $f (i32.add (local.get $f) (i32.const 32)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $iloop)))
      (local.set $j (i32.add (local.get $j) (i32.const 1)))
      (br $jloop))))
  (func (export "push") (param $fine i32) (param $fw i32) (param $fh i32) (param $coarse i32) (param $cw i32) (param $ch i32) (param $cols i32)
    (local $i i32) (local $j i32) (local $k i32) (local $c i32) (local $r0 i32) (local $r1 i32) (local $y0 i32)
    (local $cy f32) (local $ty f32) (local $uy f32) (local $tx f32) (local $ux f32) (local $miss f32)
    (local $x0 i32) (local $x1 i32) (local $p v128) (local $q v128) (local $b v128)
    (local.set $k (local.get $fine))
    (block $jdone (loop $jloop
      (br_if $jdone (i32.ge_u (local.get $j) (local.get $fh)))
      ;; cy = min(max((j + 0.5) / 2 − 0.5, 0), ch − 1); y0 = floor(cy); y1 = min(y0 + 1, ch − 1)
      (local.set $cy (f32.min (f32.max (f32.sub (f32.div (f32.add (f32.convert_i32_u (local.get $j)) (f32.const 0.5)) (f32.const 2)) (f32.const 0.5)) (f32.const 0))
        (f32.convert_i32_u (i32.sub (local.get $ch) (i32.const 1)))))
      (local.set $y0 (i32.trunc_f32_u (f32.floor (local.get $cy))))
      (local.set $ty (f32.sub (local.get $cy) (f32.convert_i32_u (local.get $y0))))
      (local.set $uy (f32.sub (f32.const 1) (local.get $ty)))
      (local.set $r0 (i32.add (local.get $coarse) (i32.shl (i32.mul (local.get $y0) (local.get $cw)) (i32.const 4))))
      (local.set $r1 (i32.add (local.get $coarse) (i32.shl (i32.mul
        (select (i32.add (local.get $y0) (i32.const 1)) (i32.sub (local.get $ch) (i32.const 1)) (i32.lt_u (i32.add (local.get $y0) (i32.const 1)) (local.get $ch)))
        (local.get $cw)) (i32.const 4))))
      (local.set $i (i32.const 0))
      (local.set $c (local.get $cols))
      (block $idone (loop $iloop
        (br_if $idone (i32.ge_u (local.get $i) (local.get $fw)))
        (local.set $miss (f32.sub (f32.const 1) (f32.load offset=12 (local.get $k))))
        (if (f32.gt (local.get $miss) (f32.const 0))
          (then
            (local.set $x0 (i32.load (local.get $c)))
            (local.set $x1 (i32.load offset=4 (local.get $c)))
            (local.set $tx (f32.load offset=8 (local.get $c)))
            (local.set $ux (f32.sub (f32.const 1) (local.get $tx)))
            (local.set $p (f32x4.add (f32x4.mul (v128.load (i32.add (local.get $r0) (local.get $x0))) (f32x4.splat (local.get $ux)))
              (f32x4.mul (v128.load (i32.add (local.get $r0) (local.get $x1))) (f32x4.splat (local.get $tx)))))
            (local.set $q (f32x4.add (f32x4.mul (v128.load (i32.add (local.get $r1) (local.get $x0))) (f32x4.splat (local.get $ux)))
              (f32x4.mul (v128.load (i32.add (local.get $r1) (local.get $x1))) (f32x4.splat (local.get $tx)))))
            (local.set $b (f32x4.add (f32x4.mul (local.get $p) (f32x4.splat (local.get $uy))) (f32x4.mul (local.get $q) (f32x4.splat (local.get $ty)))))
            (v128.store (local.get $k) (f32x4.replace_lane 3
              (f32x4.add (v128.load (local.get $k)) (f32x4.mul (local.get $b) (f32x4.splat (local.get $miss))))
              (f32.const 1)))))
        (local.set $k (i32.add (local.get $k) (i32.const 16)))
        (local.set $c (i32.add (local.get $c) (i32.const 12)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $iloop)))
      (local.set $j (i32.add (local.get $j) (i32.const 1)))
      (br $jloop))))
  (func (export "bytes") (param $src i32) (param $n i32) (param $dst i32)
    (local $end i32) (local $v v128) (local $lo v128) (local $hi v128) (local $w v128)
    (local.set $end (i32.add (local.get $src) (i32.shl (local.get $n) (i32.const 4))))
    (block $done (loop $l
      (br_if $done (i32.ge_u (local.get $src) (local.get $end)))
      (local.set $v (v128.load (local.get $src)))
      ;; in f64, as JavaScript's Uint8ClampedArray rounds v · 255: r, g and b, then a
      (local.set $lo (f64x2.nearest (f64x2.mul (f64x2.promote_low_f32x4 (local.get $v)) (f64x2.splat (f64.const 255)))))
      (local.set $hi (f64x2.nearest (f64x2.mul (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $v) (local.get $v))) (f64x2.splat (f64.const 255)))))
      (local.set $w (i32x4.add (i32x4.trunc_sat_f64x2_s_zero (local.get $lo))
        (i8x16.shuffle 16 17 18 19 20 21 22 23 0 1 2 3 4 5 6 7 (i32x4.trunc_sat_f64x2_s_zero (local.get $hi)) (v128.const i32x4 0 0 0 0))))
      (i32.store (local.get $dst) (i32x4.extract_lane 0 (i8x16.narrow_i16x8_u (i16x8.narrow_i32x4_s (local.get $w) (local.get $w)) (local.get $w))))
      (local.set $src (i32.add (local.get $src) (i32.const 16)))
      (local.set $dst (i32.add (local.get $dst) (i32.const 3)))
      (br $l))))`;

const wat = `(module
  (import "env" "memory" (memory 1))${[8, 4, 1].map(axpy).join('')}${fill}
)`;

/** The kernels' bytes, assembled from the text above by wabt. */
export async function assembleKernels(): Promise<Uint8Array> {
  const wabt = await wabtInit();
  const mod = wabt.parseWat('kernels.wat', wat, { simd: true });
  try {
    mod.validate();
    return new Uint8Array(mod.toBinary({}).buffer);
  } finally {
    mod.destroy();
  }
}

/** src/simd/kernels-wasm.ts for those bytes. */
export function kernelsModuleSource(bytes: Uint8Array): string {
  const lines = Buffer.from(bytes).toString('base64').match(/.{1,112}/g) ?? [];
  return (
    `// Generated by scripts/build-simd.ts (WebAssembly text assembled by wabt): do not edit.\n` +
    `// ${bytes.length} bytes: axpy8, axpy4, axpy1, pull, push, bytes over an imported memory (SIMD).\n` +
    `export const KERNELS_WASM_BASE64 =\n${lines.map((l) => `  '${l}'`).join(' +\n')};\n`
  );
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const bytes = await assembleKernels();
  writeFileSync(new URL('../src/simd/kernels-wasm.ts', import.meta.url), kernelsModuleSource(bytes));
  console.log(`src/simd/kernels-wasm.ts: ${bytes.length} bytes`);
}
