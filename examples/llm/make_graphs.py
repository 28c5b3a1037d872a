#!/usr/bin/env python3
"""Splits the tiny GPT of make_model.py into the two graphs an on-device LLM runtime runs, for
the AI Hub example (edgegate-aihub.yaml). Reproducible and offline: no training, the weights are
model.onnx's own.

  prefill.onnx   the prompt processor: `input_ids` [1, 32] (the prompt, padded on the right) ->
                 `logits` [1, 32, vocab] and the KV cache `present_*` [1, 4, 32, 16]
  decode.onnx    the token generator: `input_ids` [1, 1] and a full KV cache `past_*`
                 [1, 4, 63, 16] -> `logits` [1, 1, vocab] and `present_*` [1, 4, 64, 16]

Both are model.onnx with every shape fixed (the cache of the prompt processor is empty), which is
what a compiler for an NPU needs. The decode graph's cache is the longest the model's context
(64) allows, so its profile is the slowest step of a generation.

Needs: onnx (`pip install onnx`).
"""
from pathlib import Path

import numpy as np
import onnx
from onnx import numpy_helper

HERE = Path(__file__).resolve().parent
PREFILL_TOKENS = 32
CONTEXT = 64


def fixed(model, seq, past):
    m = onnx.ModelProto()
    m.CopyFrom(model)
    g = m.graph
    del g.value_info[:]
    keep = []
    for i in g.input:
        dims = i.type.tensor_type.shape.dim
        if i.name == "input_ids":
            dims[1].dim_value = seq
        elif i.name.startswith("past"):
            if past == 0:
                shape = [d.dim_value for d in dims]
                shape[2] = 0
                g.initializer.append(numpy_helper.from_array(np.zeros(shape, np.float32), i.name))
                continue
            dims[2].dim_value = past
        keep.append(i)
    del g.input[:]
    g.input.extend(keep)
    for o in g.output:
        dims = o.type.tensor_type.shape.dim
        if o.name == "logits":
            dims[1].dim_value = seq
        else:
            dims[2].dim_value = past + seq
    onnx.checker.check_model(m)
    return m


def main():
    model = onnx.load(HERE / "model.onnx")
    onnx.save(fixed(model, PREFILL_TOKENS, 0), HERE / "prefill.onnx")
    onnx.save(fixed(model, 1, CONTEXT - 1), HERE / "decode.onnx")


if __name__ == "__main__":
    main()
