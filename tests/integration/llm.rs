//! The LLM example end to end on the host: the real binary tokenizes each prompt, decodes the
//! tiny GPT of `examples/llm/make_model.py` greedily with tract, checks the generated text, and
//! gates time to first token and tokens/s. The good model passes, the regressed one fails; the
//! generated token ids equal the ones numpy computed when the model was trained
//! (`expected_tokens.json`, the golden list). Generative configs that cannot work are refused
//! with what to do.

use serde_json::Value;

use crate::quickstart::{results, run};
use crate::support::{Sandbox, repo};

/// Copies `examples/llm` (and the quickstart model, for a model that is not a decoder).
fn example() -> Sandbox {
    let sb = Sandbox::new();
    let src = repo().join("examples/llm");
    for entry in std::fs::read_dir(&src).expect("example dir").flatten() {
        let p = entry.path();
        if p.is_file() {
            let name = p.file_name().and_then(|n| n.to_str()).expect("name");
            sb.write(name, std::fs::read(&p).expect("read example file"));
        }
    }
    sb.write(
        "digits.onnx",
        std::fs::read(repo().join("examples/quickstart/model.onnx")).expect("digits model"),
    );
    sb
}

fn host(r: &Value) -> &Value {
    r["devices"]
        .as_array()
        .and_then(|d| d.iter().find(|d| d["name"] == "host"))
        .unwrap_or_else(|| panic!("device host in {r:#}"))
}

fn gate_status<'a>(d: &'a Value, metric: &str) -> &'a Value {
    &d["gates"]
        .as_array()
        .and_then(|g| g.iter().find(|g| g["metric"] == metric))
        .unwrap_or_else(|| panic!("gate on {metric} in {d:#}"))["status"]
}

fn edgegate(sb: &Sandbox, args: &[&str]) -> crate::support::Run {
    sb.run(args)
}

/// What a command printed, both streams.
fn printed(out: &crate::support::Run) -> String {
    format!("{}{}", out.stdout, out.stderr)
}

#[test]
fn the_example_generates_the_answers_it_learned_and_passes() {
    let sb = example();
    run(&sb, "edgegate.yaml", &[]).code(0);
    let r = results(&sb);
    let h = host(&r);
    assert_eq!(h["verdict"], "passed", "{h:#}");
    let cases = h["cases"].as_array().expect("cases");
    assert_eq!(cases.len(), 8);
    for c in cases {
        assert_eq!(c["status"], "passed", "{c:#}");
    }
    let france = cases
        .iter()
        .find(|c| c["case_id"] == "capital_france")
        .expect("case");
    assert_eq!(
        france["actual"], " paris.",
        "the text ends before the stop string"
    );
    for m in [
        "ttft_ms",
        "tps",
        "accuracy",
        "load_time_ms",
        "model_size_mb",
    ] {
        assert!(
            h["metrics"][m]["value"].as_f64().is_some_and(|v| v > 0.0),
            "{m} in {h:#}"
        );
    }
    assert_eq!(
        h["metrics"]["ttft_ms"]["samples"].as_array().map(Vec::len),
        Some(8 * 3),
        "3 timed generations of each of 8 prompts"
    );
    assert_eq!(h["metrics"]["ttft_ms"]["unit"], "ms");
    assert_eq!(h["metrics"]["tps"]["unit"], "tokens/s");
}

#[test]
fn the_host_generates_the_golden_tokens() {
    let sb = example();
    let out = edgegate(&sb, &["generate", "edgegate.yaml"]);
    out.code(0);
    let golden: Value = serde_json::from_str(
        &std::fs::read_to_string(repo().join("examples/llm/expected_tokens.json"))
            .expect("golden tokens"),
    )
    .expect("json");
    let lines: Vec<Value> = out
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).expect("one JSON object a line"))
        .collect();
    assert_eq!(lines.len(), 8, "{}", out.stdout);
    for line in &lines {
        let prompt = line["prompt"].as_str().expect("prompt");
        let want = &golden[prompt]["tokens"];
        assert!(want.is_array(), "no golden tokens for {prompt:?}");
        assert_eq!(&line["tokens"], want, "tokens for {prompt:?}");
        assert_eq!(line["kv_cache"], true);
        assert!(line["prompt_tokens"].as_u64().is_some_and(|n| n > 0));
    }
    // Prompts from the command line, and the model without a cache agrees on a known fact.
    let out = edgegate(
        &sb,
        &[
            "generate",
            "edgegate.yaml",
            "--prompt",
            "the colour of grass is",
        ],
    );
    out.code(0);
    let line: Value = serde_json::from_str(out.stdout.trim()).expect("json");
    assert_eq!(line["text"], " green.");
    assert_eq!(line["tokens"], golden["the colour of grass is"]["tokens"]);
}

#[test]
fn the_regressed_model_fails_the_text_gate() {
    let sb = example();
    run(&sb, "edgegate.yaml", &[]).code(0);
    std::fs::rename(
        sb.path().join("results.json"),
        sb.path().join("baseline.json"),
    )
    .expect("keep the good run as the baseline");
    run(
        &sb,
        "edgegate-regressed.yaml",
        &["--baseline", "baseline.json"],
    )
    .code(1);
    let r = results(&sb);
    let h = host(&r);
    assert_eq!(h["verdict"], "failed");
    assert_eq!(gate_status(h, "accuracy"), "failed");
    // The relative speed gates are evaluated against the baseline (their outcome is timing, so
    // this test does not assert it; scripts/bench-llm.sh prints the figures).
    let relative = h["gates"]
        .as_array()
        .expect("gates")
        .iter()
        .filter(|g| g["metric"] == "tps" && g["status"] != "error")
        .count();
    assert_eq!(relative, 2, "{h:#}");
    assert!(
        h["metrics"]["accuracy"]["value"]
            .as_f64()
            .is_some_and(|a| a < 0.5),
        "{h:#}"
    );
    let out = edgegate(
        &sb,
        &[
            "generate",
            "edgegate-regressed.yaml",
            "--prompt",
            "a cat has",
        ],
    );
    out.code(0);
    let line: Value = serde_json::from_str(out.stdout.trim()).expect("json");
    assert_eq!(line["kv_cache"], false, "the regressed model has no cache");
}

#[test]
fn speed_gates_are_refused_for_models_that_do_not_generate() {
    let sb = example();
    let config = std::fs::read_to_string(sb.path().join("edgegate.yaml")).expect("config");
    sb.write(
        "no-tokenizer.yaml",
        config.replace("  tokenizer: tokenizer.json", ""),
    );
    let out = edgegate(&sb, &["validate", "no-tokenizer.yaml"]);
    out.code(2);
    assert!(
        printed(&out).contains("`generation` needs `model.tokenizer`"),
        "{}",
        printed(&out)
    );
    assert!(
        printed(&out).contains("`ttft_ms` is measured for generative models only"),
        "{}",
        printed(&out)
    );
    sb.write(
        "aihub.yaml",
        config.replace(
            "  - name: host\n    provider: local",
            "  - name: host\n    provider: local\n  - name: s24\n    hub_device: Samsung Galaxy S24",
        ),
    );
    let out = edgegate(&sb, &["validate", "aihub.yaml"]);
    out.code(2);
    assert!(
        printed(&out).contains("device `s24` runs on AI Hub, whose jobs do not measure `tps`"),
        "{}",
        printed(&out)
    );
    sb.write(
        "missing.yaml",
        config.replace("tokenizer: tokenizer.json", "tokenizer: nowhere.json"),
    );
    let out = edgegate(&sb, &["validate", "missing.yaml"]);
    out.code(2);
    assert!(
        printed(&out).contains("tokenizer file `nowhere.json` does not exist"),
        "{}",
        printed(&out)
    );
    sb.write(
        "outside.yaml",
        config.replace("tokenizer: tokenizer.json", "tokenizer: ../../etc/passwd"),
    );
    edgegate(&sb, &["validate", "outside.yaml"]).code(2);
}

#[test]
fn unusable_generative_files_stop_the_run_naming_what_to_fix() {
    let sb = example();
    let config = std::fs::read_to_string(sb.path().join("edgegate.yaml")).expect("config");
    sb.write("bad-tokenizer.json", "{\"model\": {\"type\": \"BPE\"");
    sb.write(
        "bad-tokenizer.yaml",
        config.replace("tokenizer: tokenizer.json", "tokenizer: bad-tokenizer.json"),
    );
    let out = run(&sb, "bad-tokenizer.yaml", &[]);
    out.code(2);
    let all = format!("{}{}", out.stdout, out.stderr);
    assert!(
        all.contains("is not a Hugging Face tokenizer.json"),
        "{all}"
    );
    assert!(!all.contains("panicked"), "{all}");
    sb.write(
        "digits.yaml",
        config.replace("path: model.onnx", "path: digits.onnx"),
    );
    let out = run(&sb, "digits.yaml", &[]);
    out.code(2);
    let all = format!("{}{}", out.stdout, out.stderr);
    assert!(all.contains("no input `input_ids`"), "{all}");
    let out = edgegate(&sb, &["generate", "digits.yaml"]);
    out.code(2);
    assert!(
        out.stderr.contains("no input `input_ids`"),
        "{}",
        out.stderr
    );
}

#[test]
fn a_huge_max_new_tokens_is_refused_by_the_schema() {
    let sb = example();
    let config = std::fs::read_to_string(sb.path().join("edgegate.yaml")).expect("config");
    sb.write(
        "huge.yaml",
        config.replace("max_new_tokens: 24", "max_new_tokens: 1000000"),
    );
    let out = edgegate(&sb, &["validate", "huge.yaml"]);
    out.code(2);
    assert!(
        printed(&out).contains("/model/generation/max_new_tokens"),
        "{}",
        printed(&out)
    );
}

#[test]
fn a_decoder_whose_positions_come_from_range_is_refused_naming_it() {
    let sb = example();
    sb.write(
        "range_decoder.onnx",
        std::fs::read(repo().join("tests/fixtures/llm/range_decoder.onnx")).expect("fixture"),
    );
    let config = std::fs::read_to_string(sb.path().join("edgegate.yaml")).expect("config");
    sb.write(
        "range.yaml",
        config.replace("path: model.onnx", "path: range_decoder.onnx"),
    );
    let out = run(&sb, "range.yaml", &[]);
    out.code(2);
    let all = printed(&out);
    assert!(all.contains("Range"), "{all}");
    assert!(all.contains("known limit of the engine"), "{all}");
    assert!(all.contains("position_ids"), "{all}");
    assert!(
        !all.contains("host: profile done"),
        "refused before anything ran: {all}"
    );
}
