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

/// Writes `text` as config `name` and checks that `validate` refuses it saying each of `expect`;
/// returns what it printed.
#[track_caller]
fn refused(sb: &Sandbox, name: &str, text: String, expect: &[&str]) -> String {
    sb.write(name, text);
    let out = edgegate(sb, &["validate", name]);
    out.code(2);
    let all = printed(&out);
    for e in expect {
        assert!(all.contains(e), "{name}: {all}");
    }
    all
}

/// What a command printed, both streams.
/// The sandbox's file `name` with `from` replaced by `to`. The file must hold `from`: an edit
/// that no longer applies to the example would leave its test testing nothing.
fn edited(sb: &Sandbox, name: &str, from: &str, to: &str) -> String {
    let text = std::fs::read_to_string(sb.path().join(name)).expect(name);
    assert!(text.contains(from), "{name} holds no `{from}`");
    text.replace(from, to)
}

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
    refused(
        &sb,
        "no-tokenizer.yaml",
        edited(&sb, "edgegate.yaml", "  tokenizer: tokenizer.json", ""),
        &[
            "`generation` needs `model.tokenizer`",
            "`ttft_ms` is measured for generative models only",
        ],
    );
    refused(
        &sb,
        "aihub.yaml",
        edited(
            &sb,
            "edgegate.yaml",
            "  - name: host\n    provider: local",
            "  - name: host\n    provider: local\n  - name: s24\n    hub_device: Samsung Galaxy S24",
        ),
        &[
            "device `s24` runs on AI Hub, which runs a generative model as two graphs, and `model.graphs` is missing",
        ],
    );
    refused(
        &sb,
        "missing.yaml",
        edited(
            &sb,
            "edgegate.yaml",
            "tokenizer: tokenizer.json",
            "tokenizer: nowhere.json",
        ),
        &["tokenizer file `nowhere.json` does not exist"],
    );
    refused(
        &sb,
        "outside.yaml",
        edited(
            &sb,
            "edgegate.yaml",
            "tokenizer: tokenizer.json",
            "tokenizer: ../../etc/passwd",
        ),
        &[],
    );
}

#[test]
fn unusable_generative_files_stop_the_run_naming_what_to_fix() {
    let sb = example();
    sb.write("bad-tokenizer.json", "{\"model\": {\"type\": \"BPE\"");
    sb.write(
        "bad-tokenizer.yaml",
        edited(
            &sb,
            "edgegate.yaml",
            "tokenizer: tokenizer.json",
            "tokenizer: bad-tokenizer.json",
        ),
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
        edited(
            &sb,
            "edgegate.yaml",
            "path: model.onnx",
            "path: digits.onnx",
        ),
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
    refused(
        &sb,
        "huge.yaml",
        edited(
            &sb,
            "edgegate.yaml",
            "max_new_tokens: 24",
            "max_new_tokens: 1000000",
        ),
        &["/model/generation/max_new_tokens"],
    );
}

#[test]
fn a_decoder_whose_positions_come_from_range_is_refused_naming_it() {
    let sb = example();
    sb.write(
        "range_decoder.onnx",
        std::fs::read(repo().join("tests/fixtures/llm/range_decoder.onnx")).expect("fixture"),
    );
    sb.write(
        "range.yaml",
        edited(
            &sb,
            "edgegate.yaml",
            "path: model.onnx",
            "path: range_decoder.onnx",
        ),
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

/// `edgegate run CONFIG ARGS…` in the sandbox, against hub-sim.
fn run_on(sb: &Sandbox, sim: &crate::run::Sim, config: &str, args: &[&str]) -> crate::support::Run {
    crate::support::Run::from(
        crate::run::command_for(sb.path(), &sim.url(), config, args)
            .output()
            .expect("edgegate runs"),
    )
}

/// What `run --dry-run` of `config` plans against hub-sim (its JSON).
fn plan_on(sb: &Sandbox, sim: &crate::run::Sim, config: &str) -> Value {
    let out = run_on(sb, sim, config, &["--dry-run", "--format", "json"]);
    out.code(0);
    serde_json::from_str(&out.stdout).expect("plan is json")
}

/// The AI Hub example (`edgegate-aihub.yaml`) against hub-sim, with its results.json.
fn on_hub_sim(sb: &Sandbox, sim: &crate::run::Sim, config: &str) -> (crate::support::Run, Value) {
    let out = run_on(
        sb,
        sim,
        config,
        &[
            "--json",
            "r.json",
            "--junit",
            "junit.xml",
            "--markdown",
            "report.md",
            "--no-cache",
        ],
    );
    let r = std::fs::read_to_string(sb.path().join("r.json"))
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or(Value::Null);
    (out, r)
}

use crate::guide::case;
use crate::run::device;

#[test]
fn on_ai_hub_the_two_graphs_are_profiled_and_ttft_and_tps_are_labelled_estimates() {
    let sim = crate::run::Sim::start("pass.yaml");
    let sb = example();
    let (out, r) = on_hub_sim(&sb, &sim, "edgegate-aihub.yaml");
    out.code(0);
    let s24 = device(&r, "s24");
    assert_eq!(s24["verdict"], "passed", "{s24:#}");
    let (compile, profile, inference) = sim.jobs();
    assert_eq!(
        (compile, profile, inference),
        (2, 2, 1),
        "a compile and a profile job per graph, one teacher-forced inference"
    );
    let m = &s24["metrics"];
    for measured in ["prefill_ms", "decode_ms"] {
        assert!(
            m[measured]["value"].as_f64().is_some_and(|v| v > 0.0),
            "{m:#}"
        );
        assert!(
            m[measured].get("estimate").is_none(),
            "{measured} is measured"
        );
    }
    assert!(
        m.get("inference_time_ms").is_none(),
        "no single inference time: {m:#}"
    );
    let decode = m["decode_ms"]["value"].as_f64().expect("decode");
    let prefill = m["prefill_ms"]["value"].as_f64().expect("prefill");
    let tps = &m["tps"];
    assert!(
        (tps["value"].as_f64().expect("tps") - 1000.0 / decode).abs()
            < 1e-6 * tps["value"].as_f64().unwrap_or(1.0),
        "{tps:#}"
    );
    let formula = tps["estimate"].as_str().expect("tps is an estimate");
    assert!(
        formula.starts_with("estimate, not measured: 1000 / decode_ms"),
        "{formula}"
    );
    let ttft = &m["ttft_ms"];
    assert_eq!(
        ttft["value"].as_f64(),
        Some(prefill),
        "every prompt fits one prefill pass of 32 tokens"
    );
    let formula = ttft["estimate"].as_str().expect("ttft is an estimate");
    assert!(
        formula.contains("⌈prompt tokens / 32⌉ × prefill_ms"),
        "{formula}"
    );
    let host = device(&r, "host");
    assert!(
        host["metrics"]["ttft_ms"].get("estimate").is_none(),
        "the host measures ttft"
    );
    for g in s24["gates"].as_array().expect("gates") {
        let estimated = matches!(g["metric"].as_str(), Some("ttft_ms" | "tps"));
        assert_eq!(g.get("estimate").is_some(), estimated, "{g:#}");
    }
    // Correctness on the device: the two `exact` answers, teacher-forced; the other checks
    // are skipped here with the reason (and run on the host).
    let france = case(s24, "capital_france");
    assert_eq!(
        (&france["status"], &france["actual"]),
        (&Value::from("passed"), &Value::from(" paris.")),
        "{france:#}"
    );
    assert_eq!(case(s24, "capital_japan")["status"], "passed");
    let regex = case(s24, "boiling_point");
    assert_eq!(regex["status"], "skipped");
    assert!(
        regex["reason"]
            .as_str()
            .is_some_and(|r| r.contains("teacher forcing")),
        "{regex:#}"
    );
    assert_eq!(case(host, "boiling_point")["status"], "passed");
    // Every report says which values are estimates.
    let junit = std::fs::read_to_string(sb.path().join("junit.xml")).expect("junit");
    assert!(
        junit.contains(
            r#"<property name="estimate" value="estimate, not measured: 1000 / decode_ms"#
        ),
        "{junit}"
    );
    let md = std::fs::read_to_string(sb.path().join("report.md")).expect("markdown");
    assert!(
        md.contains("(estimate)") && md.contains("Estimates, not measurements"),
        "{md}"
    );
    assert!(
        out.stdout.contains("≈ s24 tps: estimate, not measured"),
        "{}",
        out.stdout
    );
    // The plan says the same before anything runs.
    let plan = plan_on(&sb, &sim, "edgegate-aihub.yaml");
    let kinds: Vec<&str> = plan["devices"][1]["jobs"]
        .as_array()
        .expect("jobs")
        .iter()
        .filter_map(|j| j["kind"].as_str())
        .collect();
    assert_eq!(
        kinds,
        [
            "upload_graphs",
            "upload_dataset",
            "compile_graphs",
            "profile_graphs",
            "teacher_forced"
        ]
    );
    assert_eq!(plan["devices"][1]["hub_jobs"], 5);
    assert_eq!(
        plan["devices"][1]["skipped_cases"].as_array().map(Vec::len),
        Some(6)
    );
}

#[test]
fn the_teacher_forced_check_fails_when_one_expected_token_is_changed() {
    let sim = crate::run::Sim::start("pass.yaml");
    let sb = example();
    sb.write(
        "promptpack.yaml",
        edited(&sb, "promptpack.yaml", "text: paris.", "text: parts."),
    );
    let (out, r) = on_hub_sim(&sb, &sim, "edgegate-aihub.yaml");
    out.code(1);
    let s24 = device(&r, "s24");
    let france = case(s24, "capital_france");
    assert_eq!(france["status"], "failed", "{france:#}");
    assert_eq!(
        france["actual"], " pari",
        "what greedy decoding produces up to the first wrong token"
    );
    let reason = france["reason"].as_str().expect("reason");
    assert!(
        reason.contains("teacher forcing on AI Hub: answer token 4 of 6 is `t`")
            && reason.contains("most likely next token there is `i`"),
        "{reason}"
    );
    assert_eq!(case(s24, "capital_japan")["status"], "passed");
    let accuracy = s24["gates"]
        .as_array()
        .and_then(|g| g.iter().find(|g| g["metric"] == "accuracy"))
        .expect("gate");
    assert_eq!(accuracy["status"], "failed");
}

#[test]
fn a_prefill_graph_without_a_fixed_token_count_is_refused_before_any_job() {
    let sim = crate::run::Sim::start("pass.yaml");
    let sb = example();
    sb.write(
        "dynamic.yaml",
        edited(
            &sb,
            "edgegate-aihub.yaml",
            "prefill: prefill.onnx",
            "prefill: model.onnx",
        ),
    );
    let (out, r) = on_hub_sim(&sb, &sim, "dynamic.yaml");
    assert_ne!(out.code, 0, "{}{}", out.stdout, out.stderr);
    let s24 = device(&r, "s24");
    assert_eq!(s24["verdict"], "error", "{s24:#}");
    let error = s24["error"].as_str().expect("error");
    assert!(
        error.contains("must have the fixed shape [1, N]"),
        "{error}"
    );
    assert_eq!(sim.jobs(), (0, 0, 0), "nothing submitted");
}

#[test]
fn generative_configs_for_ai_hub_that_cannot_work_are_refused_by_validate() {
    let sb = example();
    refused(
        &sb,
        "no-tokenizer.yaml",
        edited(
            &sb,
            "edgegate-aihub.yaml",
            "  tokenizer: tokenizer.json\n",
            "",
        ),
        &["`graphs` needs `model.tokenizer`"],
    );
    refused(
        &sb,
        "missing-graph.yaml",
        edited(
            &sb,
            "edgegate-aihub.yaml",
            "decode: decode.onnx",
            "decode: nowhere.onnx",
        ),
        &["graph file `nowhere.onnx` does not exist"],
    );
    refused(
        &sb,
        "not-onnx.yaml",
        edited(
            &sb,
            "edgegate-aihub.yaml",
            "decode: decode.onnx",
            "decode: decode.tflite",
        ),
        &["`decode.tflite` is not an `.onnx` file"],
    );
    refused(
        &sb,
        "outside.yaml",
        edited(
            &sb,
            "edgegate-aihub.yaml",
            "prefill: prefill.onnx",
            "prefill: ../../etc/prefill.onnx",
        ),
        &["/model/graphs/prefill"],
    );
    refused(
        &sb,
        "prefill-on-host.yaml",
        edited(
            &sb,
            "edgegate-aihub.yaml",
            "    devices: [s24]\n    description: one pass",
            "    description: one pass",
        ),
        &["`prefill_ms` is measured on AI Hub"],
    );
    refused(
        &sb,
        "latency-on-hub.yaml",
        edited(
            &sb,
            "edgegate-aihub.yaml",
            "metric: prefill_ms",
            "metric: inference_time_ms",
        ),
        &["there is no single `inference_time_ms`"],
    );
    let ok = edgegate(&sb, &["validate", "edgegate-aihub.yaml"]);
    ok.code(0);
    assert!(
        printed(&ok).contains("6 of 8 cases will be skipped on AI Hub (s24)"),
        "{}",
        printed(&ok)
    );
}

#[test]
fn after_a_run_an_answer_change_plans_and_runs_only_the_teacher_forced_job() {
    let sim = crate::run::Sim::start("pass.yaml");
    let sb = example();
    let run_cached = || run_on(&sb, &sim, "edgegate-aihub.yaml", &["--json", "r.json"]);
    let plan = || plan_on(&sb, &sim, "edgegate-aihub.yaml");
    let reused = |p: &Value| -> Vec<String> {
        p["devices"][1]["reused"]
            .as_array()
            .map(|r| {
                r.iter()
                    .filter_map(|j| j["kind"].as_str().map(String::from))
                    .collect()
            })
            .unwrap_or_default()
    };
    run_cached().code(0);
    assert_eq!(sim.jobs(), (2, 2, 1));
    let p = plan();
    assert_eq!(
        reused(&p),
        ["compile_graphs", "profile_graphs", "teacher_forced"],
        "{p:#}"
    );
    assert_eq!(p["devices"][1]["hub_jobs"], 0);

    sb.write(
        "promptpack.yaml",
        edited(&sb, "promptpack.yaml", "text: tokyo.", "text: kyoto."),
    );
    let p = plan();
    assert_eq!(reused(&p), ["compile_graphs", "profile_graphs"], "{p:#}");
    assert_eq!(
        p["devices"][1]["hub_jobs"], 1,
        "the teacher-forced inference only"
    );
    run_cached().code(1);
    assert_eq!(
        sim.jobs(),
        (2, 2, 2),
        "no compile or profile job submitted again"
    );
}

#[test]
fn a_prefill_graph_with_more_inputs_is_profiled_and_its_cases_skipped_with_the_reason() {
    let sim = crate::run::Sim::start("pass.yaml");
    let sb = example();
    sb.write(
        "cached.yaml",
        edited(
            &sb,
            "edgegate-aihub.yaml",
            "prefill: prefill.onnx",
            "prefill: decode.onnx",
        ),
    );
    let plan = sb.run(&["run", "cached.yaml", "--dry-run"]);
    plan.code(0);
    assert!(
        plan.stdout.contains("skips 8 cases here") && !plan.stdout.contains("teacher forcing)"),
        "{}",
        plan.stdout
    );
    let (out, r) = on_hub_sim(&sb, &sim, "cached.yaml");
    out.code(3);
    let s24 = device(&r, "s24");
    assert!(s24["metrics"]["prefill_ms"]["value"].is_number(), "{s24:#}");
    let france = case(s24, "capital_france");
    assert_eq!(france["status"], "skipped");
    assert!(
        france["reason"]
            .as_str()
            .is_some_and(|r| r.contains("the prefill graph also takes `past_key_0`")),
        "{france:#}"
    );
    assert_eq!(sim.jobs(), (2, 2, 0), "profiled, no inference job");
}
