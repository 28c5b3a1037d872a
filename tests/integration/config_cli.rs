//! The config commands end to end: examples, schemas, init, dry-run, help, and hostile input.

use proptest::prelude::*;

use crate::support::{Sandbox, repo, run_in};

#[test]
fn every_example_validates() {
    for config in [
        "examples/quickstart/edgegate.yaml",
        "examples/quickstart/edgegate-regressed.yaml",
        "examples/aihub/edgegate.yaml",
    ] {
        let r = run_in(&repo(), &["validate", config]);
        r.code(0);
        assert!(r.stdout.contains("is valid"), "{config}: {}", r.stdout);
    }
}

#[test]
fn the_aihub_example_is_the_consumer_guide_scenario() {
    let r = run_in(&repo(), &["validate", "examples/aihub/edgegate.yaml"]);
    r.code(0);
    assert!(
        r.stdout
            .contains("1 device, 1 gate, 2 cases (promptpack vision-qa 1.0.0) (1 warning)"),
        "{}",
        r.stdout
    );
    let r = run_in(
        &repo(),
        &[
            "run",
            "examples/aihub/edgegate.yaml",
            "--dry-run",
            "--format",
            "json",
        ],
    );
    r.code(0);
    let plan: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(plan["pipeline"], "Production Gate - RB5");
    assert_eq!(plan["devices"][0]["hub_device"], "RB5 (Proxy)");
    assert_eq!(
        plan["devices"][0]["gates"][0]["text"],
        "inference_time_ms lte 150"
    );
    assert_eq!(plan["total_hub_jobs"], 3);
}

#[test]
fn committed_schemas_are_in_sync_with_the_types() {
    for (kind, file) in [
        ("config", "schemas/edgegate.schema.json"),
        ("promptpack", "schemas/promptpack.schema.json"),
    ] {
        let committed = std::fs::read_to_string(repo().join(file)).unwrap();
        let r = run_in(&repo(), &["schema", kind]);
        r.code(0);
        assert!(
            committed == r.stdout,
            "{file} is out of date: run `cargo run -- schema {kind} > {file}` and commit it"
        );
    }
}

#[test]
fn examples_validate_against_the_committed_schemas() {
    let load = |p: &str| -> serde_json::Value {
        serde_json::from_str(&std::fs::read_to_string(repo().join(p)).unwrap()).unwrap()
    };
    let cv = jsonschema::validator_for(&load("schemas/edgegate.schema.json")).unwrap();
    let pv = jsonschema::validator_for(&load("schemas/promptpack.schema.json")).unwrap();
    let parse = |p: &str| {
        edgegate::config::yaml::parse(&std::fs::read_to_string(repo().join(p)).unwrap())
            .unwrap()
            .value
    };
    for c in [
        "examples/quickstart/edgegate.yaml",
        "examples/quickstart/edgegate-regressed.yaml",
        "examples/aihub/edgegate.yaml",
        "templates/init/edgegate.yaml",
    ] {
        let errs: Vec<String> = cv.iter_errors(&parse(c)).map(|e| e.to_string()).collect();
        assert!(errs.is_empty(), "{c}: {errs:?}");
    }
    for p in [
        "examples/quickstart/promptpack.yaml",
        "examples/aihub/promptpack.yaml",
        "templates/init/promptpack.yaml",
    ] {
        let errs: Vec<String> = pv.iter_errors(&parse(p)).map(|e| e.to_string()).collect();
        assert!(errs.is_empty(), "{p}: {errs:?}");
    }
}

#[test]
fn init_writes_a_starter_that_validates_and_never_overwrites() {
    let sb = Sandbox::new();
    let r = sb.run(&["init", "proj"]);
    r.code(0);
    let config = sb.path().join("proj/edgegate.yaml");
    let text = std::fs::read_to_string(&config).unwrap();
    assert!(text.starts_with("# yaml-language-server: $schema=.edgegate/edgegate.schema.json\n"));
    assert!(
        sb.path()
            .join("proj/.edgegate/edgegate.schema.json")
            .is_file()
    );
    sb.run(&["validate", "proj/edgegate.yaml"]).code(0);
    sb.run(&["run", "proj/edgegate.yaml", "--dry-run"]).code(0);

    std::fs::write(&config, "# mine\n").unwrap();
    let r = sb.run(&["init", "proj"]);
    r.code(2);
    assert!(r.stderr.contains("refusing to overwrite"), "{}", r.stderr);
    assert!(r.stderr.contains("--force"), "{}", r.stderr);
    assert_eq!(std::fs::read_to_string(&config).unwrap(), "# mine\n");
    sb.run(&["init", "proj", "--force"]).code(0);
    assert!(
        std::fs::read_to_string(&config)
            .unwrap()
            .contains("version: 1")
    );
}

#[test]
fn dry_run_shows_jobs_cases_gates_and_minutes() {
    let sb = Sandbox::new();
    sb.run(&["init", "."]).code(0);
    let config = std::fs::read_to_string(sb.path().join("edgegate.yaml")).unwrap().replace(
        "  # - name: s24                    # a Samsung Galaxy S24 on Qualcomm AI Hub (needs QAIHUB_API_TOKEN)\n  #   runtime: tflite",
        "  - name: s24\n    runtime: qnn_context_binary\n  - name: x-elite\n    enabled: false",
    );
    sb.write("edgegate.yaml", config);
    let r = sb.run(&["run", "--dry-run"]);
    r.code(0);
    let expected = [
        "device host (local CPU)",
        "run on this CPU: 1 warm-up + 5 timed runs per case, 2 cases",
        "device s24 (AI Hub: Samsung Galaxy S24)",
        "1. upload model (once, shared by all AI Hub devices)",
        "2. upload inputs of 2 cases as one dataset (once, shared)",
        "3. compile for qnn_context_binary",
        "4. profile (6 iterations)",
        "5. inference over 2 cases",
        "device x-elite: disabled, skipped",
        "total: 3 AI Hub jobs, about 1.5 device minutes",
    ];
    for e in expected {
        assert!(r.stdout.contains(e), "missing `{e}` in\n{}", r.stdout);
    }
    let r = sb.run(&["run", "--dry-run", "--format", "json"]);
    let plan: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(plan["total_hub_jobs"], 3);
    assert_eq!(
        plan["devices"][1]["jobs"][2],
        serde_json::json!({"kind": "compile", "runtime": "qnn_context_binary", "options": null})
    );
}

#[test]
fn dry_run_of_an_invalid_config_exits_2() {
    let sb = Sandbox::new();
    sb.write("edgegate.yaml", "version: 2\n");
    sb.run(&["run", "--dry-run"]).code(2);
}

#[test]
fn help_teaches_the_commands() {
    let r = run_in(&repo(), &["--help"]);
    r.code(0);
    insta::assert_snapshot!("help", r.stdout);
    let r = run_in(&repo(), &["validate", "--help"]);
    r.code(0);
    insta::assert_snapshot!("validate_help", r.stdout);
}

#[test]
fn huge_and_binary_files_are_refused_cleanly() {
    let sb = Sandbox::new();
    sb.write("edgegate.yaml", [0xff, 0xfe, 0x00, 0x41]);
    let r = sb.run(&["validate"]);
    r.code(2);
    assert!(r.stderr.contains("is not UTF-8 text"), "{}", r.stderr);
    let deep = format!("{}1{}", "[".repeat(5000), "]".repeat(5000));
    sb.write("edgegate.yaml", deep);
    let r = sb.run(&["validate"]);
    r.code(2);
    let bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\ne: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\nf: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]\ng: [*f, *f, *f, *f, *f, *f, *f, *f, *f, *f]\n";
    sb.write("edgegate.yaml", bomb);
    sb.run(&["validate"]).code(2);
}

/// A promptpack large enough to be parsed in parts (keeping positions of its top levels only):
/// a problem deep in a case is still reported at its line and column, found by parsing again.
#[test]
fn a_large_promptpack_reports_problems_where_they_are() {
    let sb = Sandbox::new();
    sb.write(
        "model.onnx",
        std::fs::read(repo().join("examples/quickstart/model.onnx")).unwrap(),
    );
    sb.write(
        "inputs/a.npy",
        std::fs::read(repo().join("examples/quickstart/inputs/case_000.npy")).unwrap(),
    );
    sb.write(
        "edgegate.yaml",
        "version: 1\nname: t\nmodel: { path: model.onnx }\npromptpack: { path: pack.yaml }\n\
         device_matrix:\n  - { name: host, provider: local }\n\
         gates:\n  - { metric: accuracy, operator: gte, threshold: 0.9 }\n",
    );
    // Case i's `inputs:` line is line 6 + 3i, its `expected:` line the one after.
    let pack = |input: &dyn Fn(usize) -> &'static str, expected: &dyn Fn(usize) -> &'static str| {
        let mut text = String::from("promptpack_id: p\nversion: 1.0.0\nname: P\ncases:\n");
        for i in 0..3000 {
            text.push_str(&format!(
                "  - case_id: c{i}\n    inputs: {{ image: {{ npy: {} }} }}\n    expected: {}\n",
                input(i),
                expected(i)
            ));
        }
        text
    };
    // Validates `text` as the promptpack: it is invalid, and the output says each of `wanted`.
    let refused = |text: String, wanted: &[&str]| -> String {
        sb.write("pack.yaml", text);
        let r = sb.run(&["validate"]);
        r.code(2);
        for w in wanted {
            assert!(r.stderr.contains(w), "{w}: {}", r.stderr);
        }
        r.stderr
    };
    refused(
        pack(
            &|i| {
                if i == 2500 {
                    "inputs/b.npy"
                } else {
                    "inputs/a.npy"
                }
            },
            &|i| match i {
                2600 => "{ type: exact, text: x, text: y }",
                _ => "{ type: exact, text: x }",
            },
        ),
        &[
            "--> pack.yaml:7506:29",
            "= at: /cases/2500/inputs/image/npy",
            "duplicate key `text`",
            "--> pack.yaml:7807:39",
        ],
    );
    refused(
        pack(&|_| "inputs/a.npy", &|i| match i {
            2800 => "{ type: exact, txt: x }",
            _ => "{ type: exact, text: x }",
        }),
        &["--> pack.yaml:8407:", "/cases/2800/expected"],
    );
    // Hundreds of regexes are checked while the schema is: a bad one is reported on every case
    // that has it.
    let stderr = refused(
        pack(&|_| "inputs/a.npy", &|i| match i {
            2900 | 2950 => "{ type: regex, pattern: '(x' }",
            i if i % 10 == 0 => "{ type: regex, pattern: '^x\\d' }",
            _ => "{ type: exact, text: x }",
        }),
        &["--> pack.yaml:8707:", "--> pack.yaml:8857:"],
    );
    assert_eq!(
        stderr.matches("the regex does not compile").count(),
        2,
        "{stderr}"
    );
    sb.write(
        "pack.yaml",
        pack(&|_| "inputs/a.npy", &|_| "{ type: exact, text: x }"),
    );
    sb.run(&["validate"]).code(0);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, .. ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic_the_parser(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let text = String::from_utf8_lossy(&bytes);
        if let Err(e) = edgegate::config::yaml::parse(&text) {
            prop_assert!(
                inside(&text, e.pos),
                "{}:{} is outside the input: {} ({text:?})", e.pos.line, e.pos.col, e.message
            );
        }
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("edgegate.yaml");
        std::fs::write(&path, &bytes).unwrap();
        if let Err(e) = edgegate::config::load_project(&path) {
            prop_assert!(positioned(&e.diagnostics, &path, &text), "{:#?}\n{text:?}", e.diagnostics);
        }
    }

    #[test]
    fn arbitrary_yaml_never_panics_the_loader(doc in yaml_doc()) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("edgegate.yaml");
        std::fs::write(&path, &doc).unwrap();
        if let Err(e) = edgegate::config::load_project(&path) {
            prop_assert!(positioned(&e.diagnostics, &path, &doc), "{:#?}\n{doc}", e.diagnostics);
        }
        let pack = dir.path().join("pack.yaml");
        std::fs::write(&pack, &doc).unwrap();
        if let Err(e) =
            edgegate::config::load_promptpack(&pack, edgegate::config::OutsideProject::Refused)
        {
            prop_assert!(positioned(&e.diagnostics, &pack, &doc), "{:#?}\n{doc}", e.diagnostics);
        }
    }
}

/// Whether a position names a character of `text` or the end of its line: a line that exists
/// (YAML breaks lines at `\r\n`, `\n` and a lone `\r`; the text after the last break counts,
/// even empty) and a column at most one past its last character.
fn inside(text: &str, pos: edgegate::config::yaml::Pos) -> bool {
    let breaks = regex::Regex::new("\r\n|\r|\n").expect("regex");
    let Some(line) = (pos.line as usize)
        .checked_sub(1)
        .and_then(|i| breaks.split(text).nth(i))
    else {
        return false;
    };
    pos.col >= 1 && pos.col as usize <= line.chars().count() + 1
}

/// Whether a failed load says where: some diagnostic of `file` points inside its text.
fn positioned(diags: &[edgegate::config::Diagnostic], file: &std::path::Path, text: &str) -> bool {
    diags
        .iter()
        .any(|d| d.file == file && d.pos.is_some_and(|p| inside(text, p)))
}

/// YAML documents built from the real keys and values, mutated: the loader's hardest inputs.
fn yaml_doc() -> impl Strategy<Value = String> {
    let keys = prop::sample::select(vec![
        "version",
        "name",
        "model",
        "path",
        "kind",
        "promptpack",
        "content",
        "promptpack_ref",
        "device_matrix",
        "provider",
        "runtime",
        "gates",
        "metric",
        "operator",
        "threshold",
        "max_regression_pct",
        "devices",
        "run_policy",
        "report",
        "cases",
        "case_id",
        "expected",
        "type",
        "pattern",
        "label",
        "k",
        "inputs",
        "npy",
        "image",
        "resize",
        "promptpack_id",
        "labels",
        "schema",
        "text",
        "x",
    ]);
    let scalars = prop::sample::select(vec![
        "1",
        "-1",
        "0.5",
        "1e309",
        ".nan",
        "~",
        "true",
        "host",
        "local",
        "lte",
        "accuracy",
        "exact",
        "\"(\"",
        "[]",
        "{}",
        "[1, 2]",
        "model.onnx",
        "1.0.0",
        "'x'",
        "*a",
        "&a x",
        "!!binary aGk=",
        "|\n  text",
    ]);
    let leaf = (keys.clone(), scalars).prop_map(|(k, v)| format!("{k}: {v}"));
    let block = prop::collection::vec(leaf, 1..6).prop_map(|lines| lines.join("\n"));
    (prop::collection::vec((keys, block, any::<bool>()), 1..8)).prop_map(|sections| {
        sections
            .into_iter()
            .map(|(k, body, list)| {
                let indent = if list { "  - " } else { "  " };
                let body: Vec<String> = body
                    .lines()
                    .enumerate()
                    .map(|(i, l)| {
                        if i == 0 {
                            format!("{indent}{l}")
                        } else {
                            format!("{}{l}", " ".repeat(indent.len()))
                        }
                    })
                    .collect();
                format!("{k}:\n{}", body.join("\n"))
            })
            .collect::<Vec<_>>()
            .join("\n")
    })
}
