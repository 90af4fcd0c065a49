"""Writes src/landmarks/template.ts: the ICT neutral face's 68 landmarks (cm, centred) used for head pose."""
import json
import os
import sys

import numpy as np

shared = os.environ.get("VOXFACE_SHARED", os.path.join(os.path.dirname(__file__), "..", "..", "shared"))
ict = os.path.join(shared, "ict-face-model")
if not os.path.isdir(ict):
    sys.exit(f"ICT face model not found at {ict} (set VOXFACE_SHARED)")
m = json.load(open(os.path.join(ict, "manifest.json")))
v = np.load(os.path.join(ict, "neutral.npy"))
L = v[m["landmarks68_multipie"]].astype(float)
L -= L.mean(0)
rows = ",\n  ".join("[%.3f, %.3f, %.3f]" % tuple(p) for p in L)
out = os.path.join(os.path.dirname(__file__), "..", "src", "landmarks", "template.ts")
open(out, "w").write(f'''/**
 * The mean 68-landmark face (iBUG order) in centimetres, centred on its centroid, in the ICT Face Model's
 * frame (+x = subject's left = photo right for a frontal face, +y up, +z toward the camera).
 * Derived from the neutral mesh of the MIT-licensed ICT Face Model (© 2020 USC ICT) at its
 * `landmarks68_multipie` vertices; regenerate with `python3 scripts/landmark-template.py`.
 */
export const LANDMARK_TEMPLATE_CM: readonly (readonly [number, number, number])[] = [
  {rows},
];
''')
print("wrote", out)
