/**
 * The landmark network's training code (training/landmarks/, Python + PyTorch): the augmentation's labels follow
 * its pixels, the pseudo-label fit re-poses a known face, the network's output shape and the crop rule, the synthetic
 * renders' labels (renders.py)
 * (training/landmarks/check.py, on the benchmark-68 basis this test exports from models/ict-face.bin).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '..');
const python = '/usr/bin/python3';
const hasDeps = spawnSync(python, ['-c', 'import torch, numpy, scipy, PIL'], { encoding: 'utf8' }).status === 0;
const skip = hasDeps ? false : 'needs /usr/bin/python3 with torch, numpy, scipy and PIL (Debian python3-torch, python3-scipy, python3-pil)';

test('landmark training: augmentation labels, pseudo-label fit, network and crop rule, the packed data of a device run', { skip, timeout: 300_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'voxface-lm-'));
  try {
    const basis = join(dir, 'landmark-basis.json');
    const e = spawnSync(process.execPath, ['--import', 'tsx', 'training/landmarks/export_basis.ts', basis], { cwd: root, encoding: 'utf8' });
    assert.equal(e.status, 0, e.stderr);
    const r = spawnSync(python, ['training/landmarks/check.py'], {
      cwd: root,
      encoding: 'utf8',
      env: { ...process.env, LANDMARK_BASIS: basis, OMP_NUM_THREADS: '1' },
    });
    assert.equal(r.status, 0, r.stderr.slice(-3000));
    assert.match(r.stdout, /pseudo-label fit ok/);
    assert.match(r.stdout, /packed data ok/);
    assert.match(r.stdout, /landmark training checks ok/);
    // renders.py's labels are checked where ../shared has the ICT model (CI has it)
    if (existsSync(join(root, '..', 'shared', 'ict-face-model', 'manifest.json'))) assert.match(r.stdout, /render labels ok/);
    else console.log('render labels not checked: ../shared/ict-face-model is missing');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
