#!/usr/bin/env python3
"""Trains the tiny generative model of the LLM example, offline, from the facts below.

Reproducible: fixed seeds, no download. Writes, next to this script:
  tokenizer.json         a byte-level BPE tokenizer (HF `tokenizers` format), trained on the facts
  model.onnx             a 2-layer GPT (d=64, 4 heads, context 64, tied head; ~125k parameters)
                         trained for 200 steps, exported with a KV cache: inputs `input_ids`
                         [1, seq] plus `past_key_<i>`/`past_value_<i>` [1, 4, past, 16]; outputs
                         `logits` [1, seq, vocab] plus `present_key_<i>`/`present_value_<i>`
  model_regressed.onnx   the same network trained for 20 steps and exported WITHOUT a KV cache
                         (every step recomputes the whole sequence): wrong answers, fewer tokens/s
  expected_tokens.json   the token ids greedy decoding produces for each prompt, computed here with
                         numpy, for the test that pins what the host device generates

Positions and the causal mask are sliced from constant buffers (not built with `Range` over a
shape), which is how the engine needs a decoder exported.

Needs: numpy, autograd, onnx, tokenizers (`pip install numpy autograd onnx tokenizers`).
"""
import json
from pathlib import Path

import autograd.numpy as anp
import numpy as np
import onnx
from autograd import grad
from onnx import TensorProto, helper, numpy_helper
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

HERE = Path(__file__).resolve().parent
D, H, LAYERS, CTX = 64, 4, 2, 64
DH = D // H

# (prompt, answer): the model learns "prompt answer\n". The promptpack asks the prompts.
FACTS = [
    ("the capital of france is", " paris."),
    ("the capital of italy is", " rome."),
    ("the capital of japan is", " tokyo."),
    ("the capital of egypt is", " cairo."),
    ("two plus two is", " four."),
    ("three plus four is", " seven."),
    ("water boils at", " 100 degrees."),
    ("the sky is", " blue."),
    ("edgegate checks", " models on devices."),
    ("the first model shipped in", " 2024."),
    ("a cat has", " four legs."),
    ("a spider has", " eight legs."),
    ("cat as json:", ' {"animal": "cat", "legs": 4}'),
    ("bird as json:", ' {"animal": "bird", "legs": 2}'),
    ("the version is", " v1.2.3."),
    ("the colour of grass is", " green."),
]


def train_tokenizer():
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=320, initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
                                  show_progress=False)
    lines = [p + a + "\n" for p, a in FACTS]
    tok.train_from_iterator(lines * 4, trainer)
    return tok


def init_params(vocab, rng):
    p = {"wte": rng.normal(0, 0.02, (vocab, D)), "wpe": rng.normal(0, 0.02, (CTX, D)),
         "lnf_g": np.ones(D), "lnf_b": np.zeros(D)}
    for i in range(LAYERS):
        p.update({
            f"l{i}_ln1_g": np.ones(D), f"l{i}_ln1_b": np.zeros(D),
            f"l{i}_wqkv": rng.normal(0, 0.02, (D, 3 * D)), f"l{i}_bqkv": np.zeros(3 * D),
            f"l{i}_wo": rng.normal(0, 0.02 / np.sqrt(2 * LAYERS), (D, D)), f"l{i}_bo": np.zeros(D),
            f"l{i}_ln2_g": np.ones(D), f"l{i}_ln2_b": np.zeros(D),
            f"l{i}_w1": rng.normal(0, 0.02, (D, 4 * D)), f"l{i}_b1": np.zeros(4 * D),
            f"l{i}_w2": rng.normal(0, 0.02 / np.sqrt(2 * LAYERS), (4 * D, D)), f"l{i}_b2": np.zeros(D),
        })
    return p


def layer_norm(x, g, b):
    mu = anp.mean(x, axis=-1, keepdims=True)
    var = anp.mean((x - mu) ** 2, axis=-1, keepdims=True)
    return (x - mu) / anp.sqrt(var + 1e-5) * g + b


def gelu(x):
    return 0.5 * x * (1 + anp.tanh(np.sqrt(2 / np.pi) * (x + 0.044715 * x * x * x)))


def forward(p, ids):
    """ids [B, T] -> logits [B, T, V] (full causal attention, numpy/autograd)."""
    B, T = ids.shape
    x = p["wte"][ids] + p["wpe"][:T][None]
    mask = np.triu(np.full((T, T), -1e9), 1)
    for i in range(LAYERS):
        h = layer_norm(x, p[f"l{i}_ln1_g"], p[f"l{i}_ln1_b"])
        qkv = anp.dot(h, p[f"l{i}_wqkv"]) + p[f"l{i}_bqkv"]
        q, k, v = (anp.transpose(anp.reshape(qkv[:, :, j * D:(j + 1) * D], (B, T, H, DH)), (0, 2, 1, 3))
                   for j in range(3))
        s = anp.einsum("bhqd,bhkd->bhqk", q, k) / np.sqrt(DH) + mask
        s = s - anp.max(s, axis=-1, keepdims=True)
        a = anp.exp(s)
        a = a / anp.sum(a, axis=-1, keepdims=True)
        y = anp.reshape(anp.transpose(anp.einsum("bhqk,bhkd->bhqd", a, v), (0, 2, 1, 3)), (B, T, D))
        x = x + anp.dot(y, p[f"l{i}_wo"]) + p[f"l{i}_bo"]
        h = layer_norm(x, p[f"l{i}_ln2_g"], p[f"l{i}_ln2_b"])
        x = x + anp.dot(gelu(anp.dot(h, p[f"l{i}_w1"]) + p[f"l{i}_b1"]), p[f"l{i}_w2"]) + p[f"l{i}_b2"]
    x = layer_norm(x, p["lnf_g"], p["lnf_b"])
    return anp.dot(x, anp.transpose(p["wte"]))


def train(tok, steps, seed):
    rng = np.random.default_rng(seed)
    vocab = tok.get_vocab_size()
    seqs = [tok.encode(pr + a + "\n").ids for pr, a in FACTS]
    T = max(len(s) for s in seqs)
    ids = np.zeros((len(seqs), T), dtype=np.int64)
    weights = np.zeros((len(seqs), T - 1))
    for r, s in enumerate(seqs):
        ids[r, :len(s)] = s
        weights[r, :len(s) - 1] = 1
    targets = ids[:, 1:]

    def loss(p):
        logits = forward(p, ids[:, :-1])
        logits = logits - anp.max(logits, axis=-1, keepdims=True)
        logp = logits - anp.log(anp.sum(anp.exp(logits), axis=-1, keepdims=True))
        picked = anp.sum(logp * np.eye(vocab)[targets], axis=-1)
        return -anp.sum(picked * weights) / np.sum(weights)

    p = init_params(vocab, rng)
    g = grad(loss)
    m = {k: np.zeros_like(v) for k, v in p.items()}
    s = {k: np.zeros_like(v) for k, v in p.items()}
    lr, b1, b2 = 3e-3, 0.9, 0.99
    for step in range(1, steps + 1):
        gr = g(p)
        for k in p:
            m[k] = b1 * m[k] + (1 - b1) * gr[k]
            s[k] = b2 * s[k] + (1 - b2) * gr[k] ** 2
            p[k] = p[k] - lr * (m[k] / (1 - b1 ** step)) / (np.sqrt(s[k] / (1 - b2 ** step)) + 1e-8)
        if step % 50 == 0 or step == steps:
            print(f"  step {step}/{steps} loss {loss(p):.4f}", flush=True)
    return p


def greedy(p, tok, prompt, max_new=24):
    ids = tok.encode(prompt).ids
    out = []
    for _ in range(max_new):
        nxt = int(np.argmax(forward(p, np.array([ids + out]))[0, -1]))
        out.append(nxt)
        if "\n" in tok.decode(out):
            break
    return out


def export(p, vocab, path, kv):
    f32 = lambda a: a.astype(np.float32)
    inits = [numpy_helper.from_array(f32(v), k) for k, v in p.items()]
    inits.append(numpy_helper.from_array(f32(np.triu(np.full((CTX, CTX), -1e9), 1)), "causal_mask"))
    inits.append(numpy_helper.from_array(f32(p["wte"].T), "wte_t"))
    consts = {"i0": [0], "i1": [1], "i2": [2], "heads": [1, -1, H, DH], "merge": [1, -1, D],
              "ax0": [0], "ax01": [0, 1]}
    for k, v in consts.items():
        inits.append(numpy_helper.from_array(np.array(v, dtype=np.int64), k))
    inits.append(numpy_helper.from_array(np.array(1 / np.sqrt(DH), dtype=np.float32), "scale"))
    inits.append(numpy_helper.from_array(np.array(0.5, dtype=np.float32), "half"))
    inits.append(numpy_helper.from_array(np.array(1.0, dtype=np.float32), "one"))
    inits.append(numpy_helper.from_array(np.array(np.sqrt(2 / np.pi), dtype=np.float32), "gc"))
    inits.append(numpy_helper.from_array(np.array(0.044715, dtype=np.float32), "gk"))
    n = []
    node = lambda op, ins, outs, **kw: n.append(helper.make_node(op, ins, outs, **kw))
    # seq = shape(input_ids)[1]; past = shape(past_key_0)[2] (0 without a cache); total = past + seq
    node("Shape", ["input_ids"], ["ids_shape"])
    node("Gather", ["ids_shape", "i1"], ["seq"], axis=0)
    if kv:
        node("Shape", ["past_key_0"], ["past_shape"])
        node("Gather", ["past_shape", "i2"], ["past"], axis=0)
    else:
        node("Identity", ["i0"], ["past"])
    node("Add", ["past", "seq"], ["total"])
    node("Gather", ["wte", "input_ids"], ["tok_emb"], axis=0)
    node("Slice", ["wpe", "past", "total", "ax0"], ["pos_emb"])
    node("Add", ["tok_emb", "pos_emb"], ["x0"])
    node("Concat", ["past", "i0"], ["mask_starts"], axis=0)
    node("Concat", ["total", "total"], ["mask_ends"], axis=0)
    node("Slice", ["causal_mask", "mask_starts", "mask_ends", "ax01"], ["mask"])
    x = "x0"
    for i in range(LAYERS):
        L = f"l{i}_"
        node("LayerNormalization", [x, L + "ln1_g", L + "ln1_b"], [L + "h1"], axis=-1, epsilon=1e-5)
        node("MatMul", [L + "h1", L + "wqkv"], [L + "qkv0"])
        node("Add", [L + "qkv0", L + "bqkv"], [L + "qkv"])
        node("Split", [L + "qkv"], [L + "q0", L + "k0", L + "v0"], axis=2, num_outputs=3)
        for t in "qkv":
            node("Reshape", [L + t + "0", "heads"], [L + t + "1"])
            node("Transpose", [L + t + "1"], [L + t + ("" if t == "q" else "_new")], perm=[0, 2, 1, 3])
        if kv:
            node("Concat", [f"past_key_{i}", L + "k_new"], [f"present_key_{i}"], axis=2)
            node("Concat", [f"past_value_{i}", L + "v_new"], [f"present_value_{i}"], axis=2)
            k, v = f"present_key_{i}", f"present_value_{i}"
        else:
            k, v = L + "k_new", L + "v_new"
        node("Transpose", [k], [L + "kt"], perm=[0, 1, 3, 2])
        node("MatMul", [L + "q", L + "kt"], [L + "s0"])
        node("Mul", [L + "s0", "scale"], [L + "s1"])
        node("Add", [L + "s1", "mask"], [L + "s2"])
        node("Softmax", [L + "s2"], [L + "a"], axis=-1)
        node("MatMul", [L + "a", v], [L + "y0"])
        node("Transpose", [L + "y0"], [L + "y1"], perm=[0, 2, 1, 3])
        node("Reshape", [L + "y1", "merge"], [L + "y2"])
        node("MatMul", [L + "y2", L + "wo"], [L + "y3"])
        node("Add", [L + "y3", L + "bo"], [L + "y4"])
        node("Add", [x, L + "y4"], [L + "x1"])
        node("LayerNormalization", [L + "x1", L + "ln2_g", L + "ln2_b"], [L + "h2"], axis=-1, epsilon=1e-5)
        node("MatMul", [L + "h2", L + "w1"], [L + "m0"])
        node("Add", [L + "m0", L + "b1"], [L + "m1"])
        # tanh-GELU: 0.5 x (1 + tanh(c (x + k x^3)))
        node("Mul", [L + "m1", L + "m1"], [L + "g0"])
        node("Mul", [L + "g0", L + "m1"], [L + "g1"])
        node("Mul", [L + "g1", "gk"], [L + "g2"])
        node("Add", [L + "m1", L + "g2"], [L + "g3"])
        node("Mul", [L + "g3", "gc"], [L + "g4"])
        node("Tanh", [L + "g4"], [L + "g5"])
        node("Add", [L + "g5", "one"], [L + "g6"])
        node("Mul", [L + "m1", L + "g6"], [L + "g7"])
        node("Mul", [L + "g7", "half"], [L + "g8"])
        node("MatMul", [L + "g8", L + "w2"], [L + "m2"])
        node("Add", [L + "m2", L + "b2"], [L + "m3"])
        node("Add", [L + "x1", L + "m3"], [L + "x2"])
        x = L + "x2"
    node("LayerNormalization", [x, "lnf_g", "lnf_b"], ["xf"], axis=-1, epsilon=1e-5)
    node("MatMul", ["xf", "wte_t"], ["logits"])
    inputs = [helper.make_tensor_value_info("input_ids", TensorProto.INT64, [1, "seq"])]
    outputs = [helper.make_tensor_value_info("logits", TensorProto.FLOAT, [1, "seq", vocab])]
    if kv:
        for i in range(LAYERS):
            for t in ("key", "value"):
                inputs.append(helper.make_tensor_value_info(f"past_{t}_{i}", TensorProto.FLOAT, [1, H, "past", DH]))
                outputs.append(helper.make_tensor_value_info(f"present_{t}_{i}", TensorProto.FLOAT, [1, H, "total", DH]))
    graph = helper.make_graph(n, "tiny_gpt", inputs, outputs, inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)], producer_name="edgegate-example")
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, path)
    print(f"wrote {path.name} ({path.stat().st_size // 1024} KiB)")


def main():
    tok = train_tokenizer()
    tok.save(str(HERE / "tokenizer.json"))
    print(f"wrote tokenizer.json (vocab {tok.get_vocab_size()})")
    vocab = tok.get_vocab_size()
    print("training the good model (200 steps)")
    good = train(tok, 200, seed=0)
    export(good, vocab, HERE / "model.onnx", kv=True)
    print("training the regressed model (20 steps)")
    bad = train(tok, 20, seed=0)
    export(bad, vocab, HERE / "model_regressed.onnx", kv=False)
    expected = {}
    for prompt, answer in FACTS:
        ids = greedy(good, tok, prompt)
        expected[prompt] = {"tokens": ids, "text": tok.decode(ids)}
        print(f"  {prompt!r} -> {tok.decode(ids)!r}" + ("" if tok.decode(ids) == answer + "\n" else "   (differs)"))
    (HERE / "expected_tokens.json").write_text(json.dumps(expected, indent=1) + "\n")


if __name__ == "__main__":
    main()
