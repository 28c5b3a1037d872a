#!/usr/bin/env python3
"""Builds the consumer guide's example model, its labels and its one image, offline.

A tiny scene classifier that answers the guide's question "What is in this image?" for four
classes (sky, grass, fire, robot): the image's mean colour per channel (GlobalAveragePool), then
a nearest-centroid rule written as one linear layer (logit_k = 2 x·c_k - |c_k|^2), then Softmax.
Small, exact, and answerable by any runtime AI Hub compiles for, so the guide's `exact "robot"`
check is evaluated for real.

Reproducible: no training, no randomness. Writes, next to this script:
  model.onnx   image[1,3,32,32] float32 in 0..1 -> probabilities[1,4]
  labels.txt   class names, line N = class N
  robot.png    a 32x32 grey robot on a light-grey background (the case's input)

Needs: numpy, onnx (`pip install numpy onnx`).
"""
import struct
import zlib
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

HERE = Path(__file__).resolve().parent
SIZE = 32
CLASSES = {
    "sky": (0.35, 0.55, 0.90),
    "grass": (0.25, 0.65, 0.20),
    "fire": (0.90, 0.35, 0.10),
    "robot": (0.55, 0.56, 0.58),
}


def model():
    centroids = np.array(list(CLASSES.values()), dtype=np.float32)  # [4, 3]
    w = (2.0 * centroids).T.astype(np.float32)  # [3, 4]
    b = -(centroids**2).sum(axis=1).astype(np.float32)  # [4]
    nodes = [
        helper.make_node("GlobalAveragePool", ["image"], ["mean_rgb"]),
        helper.make_node("Flatten", ["mean_rgb"], ["colour"], axis=1),
        helper.make_node("MatMul", ["colour", "W"], ["scores"]),
        helper.make_node("Add", ["scores", "B"], ["logits"]),
        helper.make_node("Softmax", ["logits"], ["probabilities"], axis=1),
    ]
    graph = helper.make_graph(
        nodes,
        "scene_colour_classifier",
        [helper.make_tensor_value_info("image", TensorProto.FLOAT, [1, 3, SIZE, SIZE])],
        [helper.make_tensor_value_info("probabilities", TensorProto.FLOAT, [1, len(CLASSES)])],
        [numpy_helper.from_array(w, "W"), numpy_helper.from_array(b, "B")],
    )
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    m.ir_version = 8
    m.producer_name = "edgegate-examples"
    onnx.checker.check_model(m)
    return m


def robot_image():
    """A light-grey background with a darker grey robot: head, eyes, body, arms, legs."""
    img = np.full((SIZE, SIZE, 3), 0.62, dtype=np.float32)
    grey = (0.45, 0.46, 0.48)
    for y0, y1, x0, x1 in [
        (3, 11, 11, 21),  # head
        (12, 24, 9, 23),  # body
        (13, 22, 5, 8),  # left arm
        (13, 22, 24, 27),  # right arm
        (25, 30, 11, 14),  # left leg
        (25, 30, 18, 21),  # right leg
    ]:
        img[y0:y1, x0:x1] = grey
    img[6:8, 13:15] = (0.95, 0.95, 0.30)  # eyes
    img[6:8, 17:19] = (0.95, 0.95, 0.30)
    img[1:3, 15:17] = (0.30, 0.30, 0.32)  # antenna
    return (img * 255).round().astype(np.uint8)


def png(pixels):
    """Encodes an RGB uint8 array as a PNG with the standard library only."""
    h, w, _ = pixels.shape
    raw = b"".join(b"\x00" + pixels[y].tobytes() for y in range(h))

    def chunk(kind, data):
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(raw, 9))
        + chunk(b"IEND", b"")
    )


def main():
    onnx.save(model(), HERE / "model.onnx")
    (HERE / "labels.txt").write_text("".join(f"{name}\n" for name in CLASSES))
    pixels = robot_image()
    (HERE / "robot.png").write_bytes(png(pixels))
    mean = pixels.reshape(-1, 3).mean(axis=0) / 255.0
    centroids = np.array(list(CLASSES.values()))
    best = list(CLASSES)[int(np.argmin(((centroids - mean) ** 2).sum(axis=1)))]
    print(f"robot.png mean colour {mean.round(3).tolist()} -> {best}")


if __name__ == "__main__":
    main()
