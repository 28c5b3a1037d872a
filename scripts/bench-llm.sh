#!/usr/bin/env bash
# Compares the host device's generative run with onnxruntime on the same ONNX decoder: the same
# prompts, tokenizer and greedy loop (feed the prompt, then one token at a time with the KV cache;
# the whole sequence each step for a model without one; stop as the config says). Checks that the
# generated token ids are identical on every case, and prints tokens/s and time to first token of
# both and their ratio. Not a test: timings are printed, never asserted.
#
#   scripts/bench-llm.sh [CONFIG]        (default: examples/llm/edgegate.yaml)
#   REPEATS=10 PROFILE=release scripts/bench-llm.sh
#
# Our side: `edgegate generate CONFIG --warmup 1 --repeats REPEATS` (the binary of PROFILE,
# default release; PROFILE=debug uses target/debug without building in release). Reference side:
# onnxruntime from PyPI (1 intra-op thread, as tract runs on one), installed into a venv under
# target/ with numpy, tokenizers and pyyaml; nothing global.
set -euo pipefail

cd "$(dirname "$0")/.."
CONFIG=${1:-examples/llm/edgegate.yaml}
REPEATS=${REPEATS:-5}
PROFILE=${PROFILE:-release}
VENV=${BENCH_VENV:-target/bench-llm-venv}
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT

if [ "$PROFILE" = release ]; then
    echo "building edgegate (release)..." >&2
    cargo build --release --quiet --bin edgegate
else
    cargo build --quiet --bin edgegate
fi
BIN=target/$PROFILE/edgegate

if [ ! -x "$VENV/bin/python" ]; then
    echo "creating $VENV with onnxruntime..." >&2
    python3 -m venv "$VENV"
fi
"$VENV/bin/pip" install --quiet --disable-pip-version-check onnxruntime numpy tokenizers pyyaml

"$BIN" generate "$CONFIG" --warmup 1 --repeats "$REPEATS" > "$OUT/ours.jsonl"

"$VENV/bin/python" - "$CONFIG" "$REPEATS" "$OUT/ours.jsonl" "$PROFILE" <<'PY'
import json, statistics, sys, time
from pathlib import Path

import numpy as np
import onnxruntime as ort
import yaml
from tokenizers import Tokenizer

config_path, repeats, ours_path, profile = Path(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
config = yaml.safe_load(config_path.read_text())
base = config_path.parent
model = config["model"]
gen = model.get("generation", {})
max_new = gen.get("max_new_tokens", 64)
stops, stop_ids = gen.get("stop", []), set(gen.get("stop_token_ids", []))
tok = Tokenizer.from_file(str(base / model["tokenizer"]))
pack = yaml.safe_load((base / config["promptpack"]["path"]).read_text())
cases = [(c["case_id"], c["prompt"]) for c in pack["cases"] if "prompt" in c]

opts = ort.SessionOptions()
opts.intra_op_num_threads = 1
opts.inter_op_num_threads = 1
sess = ort.InferenceSession(str(base / model["path"]), opts, providers=["CPUExecutionProvider"])
inputs = {i.name: i for i in sess.get_inputs()}
outputs = [o.name for o in sess.get_outputs()]
past = [n for n in inputs if n.startswith("past")]
present = {n: ("present" + n[len("past_key_values"):] if n.startswith("past_key_values") else "present" + n[4:]) for n in past}

def empty(i):
    shape = [d if isinstance(d, int) else (1 if k == 0 else 0) for k, d in enumerate(i.shape)]
    return np.zeros(shape, dtype=np.float16 if "float16" in i.type else np.float32)

def generate(prompt):
    t0 = time.perf_counter()
    ids = tok.encode(prompt).ids
    n_prompt, out, cache, steps, first, last = len(ids), [], None, 0, None, None
    seq = list(ids)
    while steps < max_new:
        new = seq if (not past or cache is None) else seq[-1:]
        feed = {"input_ids": np.array([new], dtype=np.int64)}
        for n in past:
            feed[n] = cache[n] if cache is not None else empty(inputs[n])
        if "attention_mask" in inputs:
            feed["attention_mask"] = np.ones((1, len(seq)), dtype=np.int64)
        if "position_ids" in inputs:
            feed["position_ids"] = np.arange(len(seq) - len(new), len(seq), dtype=np.int64)[None]
        res = dict(zip(outputs, sess.run(None, feed)))
        nxt = int(np.argmax(res["logits"][0, -1]))
        steps += 1
        now = time.perf_counter()
        first = first or now
        last = now
        if past:
            cache = {n: res[present[n]] for n in past}
        if nxt in stop_ids:
            break
        out.append(nxt)
        seq.append(nxt)
        text = tok.decode(out)
        if any(s in text for s in stops):
            break
    ttft = (first - t0) * 1e3
    tps = (steps - 1) / (last - first) if steps >= 2 and last > first else None
    return out, ttft, tps

ours = [json.loads(l) for l in open(ours_path)]
by_case = {}
for o in ours:
    by_case.setdefault(o["case_id"], []).append(o)
agree, ref_ttft, ref_tps, our_ttft, our_tps = 0, [], [], [], []
for case, prompt in cases:
    generate(prompt)  # warm-up, as ours
    for _ in range(repeats):
        toks, ttft, tps = generate(prompt)
        ref_ttft.append(ttft)
        if tps:
            ref_tps.append(tps)
    mine = by_case[case]
    same = all(o["tokens"] == toks for o in mine)
    agree += same
    our_ttft += [o["ttft_ms"] for o in mine]
    our_tps += [o["tps"] for o in mine if o["tps"]]
    print(f"{case:16} {'identical' if same else 'DIFFERENT'} tokens ({len(toks)}): {tok.decode(toks)!r}"
          + ("" if same else f"\n{'':16} ours {mine[0]['tokens']}\n{'':16} ort  {toks}"))

med = statistics.median
print()
print(f"token agreement: {agree}/{len(cases)} cases identical")
print(f"edgegate ({profile}, tract): ttft median {med(our_ttft):.3f} ms   tps median {med(our_tps):.1f} tokens/s")
print(f"onnxruntime {ort.__version__} (1 thread): ttft median {med(ref_ttft):.3f} ms   tps median {med(ref_tps):.1f} tokens/s")
print(f"speed ratio edgegate/onnxruntime: tps {med(our_tps) / med(ref_tps):.2f}x   ttft {med(our_ttft) / med(ref_ttft):.2f}x (ttft: lower is better)")
sys.exit(0 if agree == len(cases) else 1)
PY
