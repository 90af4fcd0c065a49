#!/usr/bin/env python3
"""Builds models/identity-encoder.onnx: dlib's face-recognition ResNet (public domain, Davis King) as ported to
TF.js by @vladmandic/face-api (MIT), rewritten as an ONNX graph for onnxruntime, so the identity stage runs on the
same runtime as the other networks (its threads, no TF.js) instead of face-api's TF.js WASM backend.

    /usr/bin/python3 scripts/identity-onnx.py [--weights node_modules/@vladmandic/face-api/model] [--out models/identity-encoder.onnx]

The weights stay face-api's own uint8 codes (6.4 MB): each conv's codes are stored as uint8 with one factor and one
offset per output channel (face-api's scale and minimum times the scale layer that follows the conv) and turned into
float32 by Cast, Mul and Add nodes on initializers only, which onnxruntime folds once when it makes the session
(50–90 ms; with the scale layer as a fourth node, 80–150). The forward pass is face-api's FaceRecognitionNet.forwardInput, read from its source
(src/faceRecognitionNet/*.ts):
  x = (rgb − mean) / 255; conv 7×7/2 valid → ReLU; max-pool 3/2 valid; residual blocks (3×3 convs, 'same');
  down blocks (3×3/2 valid, then 3×3 'same'; the shortcut a 2×2/2 average pool, its channels padded with zeros and
  the branch padded with a zero row and column where the pool is one larger); each conv is conv + bias, then the
  per-channel scale layer (× w + b), folded here into the conv's weights and bias; mean over H, W; × fc (256 × 128).

Input `faces` (N, 150, 150, 3) float, RGB 0–255, HWC (what src/identity/index.ts `identityInput` makes); output
`embedding` (N, 128). Checked against face-api in test/identity.test.ts.
"""
import argparse
import json
import os

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

MEAN_RGB = [122.782, 117.001, 104.298]

ap = argparse.ArgumentParser()
ap.add_argument('--weights', default='node_modules/@vladmandic/face-api/model')
ap.add_argument('--out', default='models/identity-encoder.onnx')
args = ap.parse_args()

manifest = json.load(open(os.path.join(args.weights, 'face_recognition_model-weights_manifest.json')))
entries = {}
for group in manifest:
    blob = b''.join(open(os.path.join(args.weights, p), 'rb').read() for p in group['paths'])
    at = 0
    for w in group['weights']:
        n = int(np.prod(w['shape'])) if w['shape'] else 1
        q = w.get('quantization')
        if q:
            assert q['dtype'] == 'uint8', q
            codes = np.frombuffer(blob, np.uint8, n, at).reshape(w['shape'])
            at += n
            entries[w['name']] = (codes, float(q['scale']), float(q['min']))
        else:
            assert w['dtype'] == 'float32', w
            values = np.frombuffer(blob, np.float32, n, at).reshape(w['shape'])
            at += 4 * n
            entries[w['name']] = (values, None, None)

inits, nodes = [], []


def const(name, array):
    inits.append(numpy_helper.from_array(np.ascontiguousarray(array), name))
    return name


def dequant(name):
    """The float tensor of face-api's weight `name` (uint8 codes × scale + min)."""
    codes, scale, minimum = entries[name]
    key = name.replace('/', '.')
    if scale is None:
        return const(key, codes.astype(np.float32))
    c = const(key + '.q', codes)
    nodes.append(helper.make_node('Cast', [c], [key + '.f'], to=TensorProto.FLOAT))
    nodes.append(helper.make_node('Mul', [key + '.f', const(key + '.scale', np.float32(scale))], [key + '.s']))
    nodes.append(helper.make_node('Add', [key + '.s', const(key + '.min', np.float32(minimum))], [key]))
    return key


count = [0]


def value(name):
    """face-api's weight `name` as float64 (uint8 codes × scale + min)."""
    codes, scale, minimum = entries[name]
    return codes.astype(np.float64) if scale is None else codes.astype(np.float64) * scale + minimum


def conv(x, prefix, stride, relu, pad):
    """face-api's convLayer: conv (HWIO → OIHW) + bias, then × scale.weights + scale.biases, then ReLU. The scale
    layer is folded into the conv: W' = W · sw per output channel = codes · (scale · sw) + min · sw, so the weights
    stay uint8 codes with a per-channel factor and offset (Cast, Mul, Add on initializers: folded by onnxruntime);
    the bias b' = b · sw + sb is computed here (float32, one value per channel)."""
    count[0] += 1
    key = prefix.replace('/', '.')
    codes, scale, minimum = entries[prefix + '/conv/filters']
    sw = value(prefix + '/scale/weights')
    k = codes.shape[0]
    oihw = np.ascontiguousarray(codes.transpose(3, 2, 0, 1))
    if scale is None:  # a float32 tensor in face-api's file: folded here
        const(key + '.W', (oihw.astype(np.float64) * sw.reshape(-1, 1, 1, 1)).astype(np.float32))
    else:
        c = const(key + '.q', oihw)
        nodes.append(helper.make_node('Cast', [c], [key + '.f'], to=TensorProto.FLOAT))
        nodes.append(helper.make_node('Mul', [key + '.f', const(key + '.S', (scale * sw).astype(np.float32).reshape(-1, 1, 1, 1))], [key + '.s']))
        nodes.append(helper.make_node('Add', [key + '.s', const(key + '.M', (minimum * sw).astype(np.float32).reshape(-1, 1, 1, 1))], [key + '.W']))
    bias = const(key + '.B', (value(prefix + '/conv/bias') * sw + value(prefix + '/scale/biases')).astype(np.float32))
    p = k // 2 if pad == 'same' else 0
    out = key + '.out'
    nodes.append(helper.make_node('Conv', [x, key + '.W', bias], [out], kernel_shape=[k, k], strides=[stride, stride], pads=[p, p, p, p]))
    if relu:
        nodes.append(helper.make_node('Relu', [out], [out + '.relu']))
        return out + '.relu'
    return out


def residual(x, prefix):
    a = conv(x, prefix + '/conv1', 1, True, 'same')
    b = conv(a, prefix + '/conv2', 1, False, 'same')
    nodes.append(helper.make_node('Add', [b, x], [prefix + '.sum']))
    nodes.append(helper.make_node('Relu', [prefix + '.sum'], [prefix + '.out']))
    return prefix + '.out'


def residual_down(x, prefix, size, channels_in, channels_out):
    """size: the input's side; returns (output, its side)."""
    a = conv(x, prefix + '/conv1', 2, True, 'valid')
    b = conv(a, prefix + '/conv2', 1, False, 'same')
    side_conv = (size - 3) // 2 + 1
    side_pool = size // 2
    nodes.append(helper.make_node('AveragePool', [x], [prefix + '.pool'], kernel_shape=[2, 2], strides=[2, 2]))
    pooled = prefix + '.pool'
    if side_pool != side_conv:  # face-api concatenates a zero row and a zero column to the branch
        assert side_pool == side_conv + 1
        nodes.append(helper.make_node('Pad', [b, const(prefix + '.padhw', np.array([0, 0, 0, 0, 0, 0, 1, 1], np.int64))], [prefix + '.bpad']))
        b = prefix + '.bpad'
    if channels_in != channels_out:  # and zero channels to the shortcut
        nodes.append(helper.make_node('Pad', [pooled, const(prefix + '.padc', np.array([0, 0, 0, 0, 0, channels_out - channels_in, 0, 0], np.int64))], [prefix + '.poolpad']))
        pooled = prefix + '.poolpad'
    nodes.append(helper.make_node('Add', [pooled, b], [prefix + '.sum']))
    nodes.append(helper.make_node('Relu', [prefix + '.sum'], [prefix + '.out']))
    return prefix + '.out', side_pool


# (N, 150, 150, 3) RGB 0–255 → NCHW, (x − mean) / 255
nodes.append(helper.make_node('Transpose', ['faces'], ['nchw'], perm=[0, 3, 1, 2]))
nodes.append(helper.make_node('Sub', ['nchw', const('mean_rgb', np.array(MEAN_RGB, np.float32).reshape(1, 3, 1, 1))], ['centred']))
nodes.append(helper.make_node('Mul', ['centred', const('inv255', np.float32(1 / 255))], ['x0']))
x = conv('x0', 'conv32_down', 2, True, 'valid')
side = (150 - 7) // 2 + 1
nodes.append(helper.make_node('MaxPool', [x], ['pool0'], kernel_shape=[3, 3], strides=[2, 2]))
x, side = 'pool0', (side - 3) // 2 + 1
for name in ['conv32_1', 'conv32_2', 'conv32_3']:
    x = residual(x, name)
x, side = residual_down(x, 'conv64_down', side, 32, 64)
for name in ['conv64_1', 'conv64_2', 'conv64_3']:
    x = residual(x, name)
x, side = residual_down(x, 'conv128_down', side, 64, 128)
for name in ['conv128_1', 'conv128_2']:
    x = residual(x, name)
x, side = residual_down(x, 'conv256_down', side, 128, 256)
for name in ['conv256_1', 'conv256_2']:
    x = residual(x, name)
x, side = residual_down(x, 'conv256_down_out', side, 256, 256)
nodes.append(helper.make_node('ReduceMean', [x], ['gap'], axes=[2, 3], keepdims=0))
nodes.append(helper.make_node('MatMul', ['gap', dequant('fc')], ['embedding']))

graph = helper.make_graph(
    nodes, 'dlib-face-recognition-resnet',
    [helper.make_tensor_value_info('faces', TensorProto.FLOAT, ['N', 150, 150, 3])],
    [helper.make_tensor_value_info('embedding', TensorProto.FLOAT, ['N', 128])],
    inits,
)
model = helper.make_model(graph, opset_imports=[helper.make_opsetid('', 13)], producer_name='voxface scripts/identity-onnx.py')
model.ir_version = 7
model.doc_string = ('dlib face-recognition ResNet (Davis King, public domain: davisking/dlib-models README), weights as '
                    'quantised by @vladmandic/face-api (MIT); graph by voxface scripts/identity-onnx.py')
onnx.checker.check_model(model)
onnx.save(model, args.out)
print(f'wrote {args.out}: {os.path.getsize(args.out) / 2**20:.2f} MiB, {count[0]} convolutions, {len(nodes)} nodes')
