//! Broken configs and promptpacks: each exits 2 and names the exact line, column and problem.
//! The schema-level ones are also rejected by the committed JSON schema, so the loader and the
//! schema cannot drift apart.

use crate::support::{Sandbox, repo};

const CONFIG: &str = "\
version: 1
name: Gate
model:
  path: model.onnx
promptpack:
  path: pack.yaml
device_matrix:
  - name: host
    provider: local
  - name: s24
    runtime: tflite
gates:
  - metric: inference_time_ms
    operator: lte
    threshold: 50
  - metric: accuracy
    operator: gte
    threshold: 0.9
";

const PACK: &str = "\
promptpack_id: demo
version: 1.0.0
name: Demo
labels: labels.txt
cases:
  - case_id: one
    inputs: { x: { npy: one.npy } }
    expected: { type: label, label: \"1\" }
  - case_id: two
    prompt: Say hi
    expected: { type: regex, pattern: \"^hi\" }
";

/// One broken project: what to change, and the errors it must produce.
struct Case {
    name: &'static str,
    config: String,
    pack: String,
    /// (file, line, col, a phrase of the message)
    errors: &'static [(&'static str, u32, u32, &'static str)],
    /// Whether the committed JSON schema alone rejects it too.
    schema_rejects: bool,
}

fn case(
    name: &'static str,
    config: String,
    pack: String,
    errors: &'static [(&'static str, u32, u32, &'static str)],
    schema_rejects: bool,
) -> Case {
    Case {
        name,
        config,
        pack,
        errors,
        schema_rejects,
    }
}

fn cfg(from: &str, to: &str) -> String {
    assert!(CONFIG.contains(from), "{from}");
    CONFIG.replacen(from, to, 1)
}

fn pack(from: &str, to: &str) -> String {
    assert!(PACK.contains(from), "{from}");
    PACK.replacen(from, to, 1)
}

fn cases() -> Vec<Case> {
    let c = || CONFIG.to_string();
    let p = || PACK.to_string();
    vec![
        case(
            "yaml syntax",
            cfg("name: Gate", "name: [Gate"),
            p(),
            &[("edgegate.yaml", 3, 6, "invalid YAML")],
            false,
        ),
        case(
            "wrong type",
            cfg("threshold: 50", "threshold: fast"),
            p(),
            &[(
                "edgegate.yaml",
                15,
                16,
                "expected a number, found a string `fast`",
            )],
            true,
        ),
        case(
            "unknown top-level key",
            cfg("device_matrix:", "devce_matrix:"),
            p(),
            &[(
                "edgegate.yaml",
                7,
                1,
                "unknown key `devce_matrix` at the top level",
            )],
            true,
        ),
        case(
            "misspelt gate key",
            cfg("    operator: lte", "    operater: lte"),
            p(),
            &[(
                "edgegate.yaml",
                14,
                5,
                "unknown key `operater` in `gates[0]`",
            )],
            true,
        ),
        case(
            "duplicate case id",
            c(),
            pack("case_id: two", "case_id: one"),
            &[("pack.yaml", 9, 14, "duplicate case_id `one`")],
            false,
        ),
        case(
            "unknown device in gate scope",
            cfg(
                "    threshold: 0.9",
                "    threshold: 0.9\n    devices: [host, s42]",
            ),
            p(),
            &[(
                "edgegate.yaml",
                19,
                21,
                "gate names device `s42`, which is not in `device_matrix`",
            )],
            false,
        ),
        case(
            "bad regex",
            c(),
            pack("pattern: \"^hi\"", "pattern: \"(hi\""),
            &[("pack.yaml", 11, 39, "the regex does not compile")],
            false,
        ),
        case(
            "accuracy threshold out of range",
            cfg("threshold: 0.9", "threshold: 1.5"),
            p(),
            &[("edgegate.yaml", 18, 16, "`1.5` is above the maximum 1")],
            true,
        ),
        case(
            "missing model file",
            cfg("path: model.onnx", "path: build/missing.onnx"),
            p(),
            &[(
                "edgegate.yaml",
                4,
                9,
                "model file `build/missing.onnx` does not exist",
            )],
            false,
        ),
        case(
            "empty device matrix",
            cfg(
                "device_matrix:\n  - name: host\n    provider: local\n  - name: s24\n    runtime: tflite\n",
                "device_matrix: []\n",
            ),
            p(),
            &[("edgegate.yaml", 7, 16, "`device_matrix` must not be empty")],
            true,
        ),
        case(
            "relative gate on a directionless metric",
            cfg(
                "  - metric: accuracy\n    operator: gte\n    threshold: 0.9\n",
                "  - metric: gpu_compute_percent\n    max_regression_pct: 5\n    devices: [s24]\n",
            ),
            p(),
            &[(
                "edgegate.yaml",
                17,
                25,
                "`gpu_compute_percent` has no better direction",
            )],
            false,
        ),
        case(
            "no enabled device",
            cfg(
                "    provider: local\n",
                "    provider: local\n    enabled: false\n",
            )
            .replacen(
                "    runtime: tflite\n",
                "    runtime: tflite\n    enabled: false\n",
                1,
            ),
            p(),
            &[("edgegate.yaml", 7, 1, "no device is enabled")],
            false,
        ),
        case(
            "npu gate on the local cpu",
            cfg("  - metric: accuracy", "  - metric: npu_compute_percent"),
            p(),
            &[("edgegate.yaml", 16, 13, "runs on the local CPU")],
            false,
        ),
        case(
            "unknown metric",
            cfg("metric: accuracy", "metric: acuracy"),
            p(),
            &[(
                "edgegate.yaml",
                16,
                13,
                "unknown value `acuracy` in `gates[1].metric`",
            )],
            true,
        ),
        case(
            "absolute and relative at once",
            cfg(
                "    threshold: 50\n",
                "    threshold: 50\n    max_regression_pct: 10\n",
            ),
            p(),
            &[(
                "edgegate.yaml",
                13,
                5,
                "give either `operator` and `threshold` or `max_regression_pct`, not both",
            )],
            true,
        ),
        case(
            "gate with no condition",
            cfg("    operator: lte\n    threshold: 50\n", ""),
            p(),
            &[(
                "edgegate.yaml",
                13,
                5,
                "needs either `operator` and `threshold` or `max_regression_pct`",
            )],
            true,
        ),
        case(
            "two promptpack sources",
            cfg(
                "  path: pack.yaml",
                "  path: pack.yaml\n  promptpack_ref: { promptpack_id: demo, version: 1.0.0 }",
            ),
            p(),
            &[(
                "edgegate.yaml",
                6,
                3,
                "`promptpack` has more than one source",
            )],
            true,
        ),
        case(
            "version not semver",
            c(),
            pack("version: 1.0.0", "version: v1"),
            &[("pack.yaml", 2, 10, "`v1` is not a semantic version")],
            true,
        ),
        case(
            "unknown expectation type",
            c(),
            pack("{ type: regex,", "{ type: regexp,"),
            &[("pack.yaml", 11, 23, "unknown type `regexp`")],
            true,
        ),
        case(
            "expectation missing its field",
            c(),
            pack("{ type: label, label: \"1\" }", "{ type: label }"),
            &[(
                "pack.yaml",
                8,
                15,
                "missing required key `label` in `cases[0].expected`",
            )],
            true,
        ),
        case(
            "input file missing",
            c(),
            pack("npy: one.npy", "npy: three.npy"),
            &[("pack.yaml", 7, 25, "input file `three.npy` does not exist")],
            false,
        ),
        case(
            "label not in labels file",
            c(),
            pack("label: \"1\"", "label: \"9\""),
            &[("pack.yaml", 8, 37, "label `9` is not in the labels file")],
            false,
        ),
        case(
            "duplicate device names",
            cfg("  - name: s24", "  - name: host"),
            p(),
            &[("edgegate.yaml", 10, 11, "duplicate device name `host`")],
            false,
        ),
        case(
            "duplicate yaml key",
            cfg("name: Gate\n", "name: Gate\nname: Other\n"),
            p(),
            &[("edgegate.yaml", 3, 1, "duplicate key `name`")],
            false,
        ),
        case(
            "nan threshold",
            cfg("threshold: 50", "threshold: .nan"),
            p(),
            &[("edgegate.yaml", 15, 16, "not a finite number")],
            true,
        ),
        case(
            "ai hub field on the local device",
            cfg(
                "    provider: local\n",
                "    provider: local\n    runtime: onnx\n",
            ),
            p(),
            &[(
                "edgegate.yaml",
                10,
                14,
                "`runtime` applies to AI Hub devices only",
            )],
            false,
        ),
        case(
            "unknown model extension",
            cfg("path: model.onnx", "path: model.xyz"),
            p(),
            &[(
                "edgegate.yaml",
                4,
                9,
                "cannot tell the format of `model.xyz`",
            )],
            false,
        ),
        case(
            "resize on an npy input",
            c(),
            pack(
                "{ x: { npy: one.npy } }",
                "{ x: { npy: one.npy, resize: [8, 8] } }",
            ),
            &[(
                "pack.yaml",
                7,
                18,
                "`resize` applies to `image` inputs only",
            )],
            true,
        ),
        case(
            "missing required top-level key",
            cfg("name: Gate\n", ""),
            p(),
            &[(
                "edgegate.yaml",
                1,
                1,
                "missing required key `name` at the top level",
            )],
            true,
        ),
        case(
            "promptpack file missing",
            cfg("path: pack.yaml", "path: packs/none.yaml"),
            p(),
            &[("packs/none.yaml", 0, 0, "promptpack file `")],
            false,
        ),
        case(
            "errors across both files are all reported",
            cfg("threshold: 50", "threshold: -1").replacen(
                "runtime: tflite",
                "runtime: tflight",
                1,
            ),
            pack("case_id: two", "case_id: one"),
            &[
                ("edgegate.yaml", 11, 14, "unknown value `tflight`"),
                ("edgegate.yaml", 15, 16, "`-1` is below the minimum 0"),
            ],
            true,
        ),
    ]
}

fn sandbox(config: &str, pack: &str) -> Sandbox {
    let sb = Sandbox::new();
    sb.write("edgegate.yaml", config);
    sb.write("pack.yaml", pack);
    sb.write(
        "model.onnx",
        b"not really a model, validate only checks it exists",
    );
    sb.write("one.npy", b"\x93NUMPY");
    sb.write("labels.txt", "0\n1\n");
    sb
}

#[test]
fn the_base_project_is_valid() {
    let sb = sandbox(CONFIG, PACK);
    let r = sb.run(&["validate"]);
    r.code(0);
    assert!(
        r.stdout.contains(
            "edgegate.yaml is valid: 2 devices, 2 gates, 2 cases (promptpack demo 1.0.0)"
        ),
        "{}",
        r.stdout
    );
}

#[test]
fn broken_projects_exit_2_with_exact_positions() {
    let all = cases();
    assert!(all.len() >= 20);
    let mut failures = Vec::new();
    for c in &all {
        let sb = sandbox(&c.config, &c.pack);
        let r = sb.run(&["validate"]);
        if r.code != 2 {
            failures.push(format!(
                "[{}] exit {} (want 2)\n{}{}",
                c.name, r.code, r.stdout, r.stderr
            ));
            continue;
        }
        for (file, line, col, phrase) in c.errors {
            let at = if *line == 0 {
                format!("--> {}", sb.path().join(file).display())
                    .replace(&format!("{}/", sb.path().display()), "")
            } else {
                format!("--> {file}:{line}:{col}")
            };
            let found = r
                .stderr
                .split("\n\n")
                .any(|block| block.contains(&at) && block.contains(phrase));
            if !found {
                failures.push(format!(
                    "[{}] want `{at}` with `{phrase}`, got:\n{}",
                    c.name, r.stderr
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n-----\n"));
}

#[test]
fn the_schema_rejects_the_schema_level_corpus_too() {
    let config_schema: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(repo().join("schemas/edgegate.schema.json")).unwrap(),
    )
    .unwrap();
    let pack_schema: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(repo().join("schemas/promptpack.schema.json")).unwrap(),
    )
    .unwrap();
    let cv = jsonschema::validator_for(&config_schema).unwrap();
    let pv = jsonschema::validator_for(&pack_schema).unwrap();
    let mut n = 0;
    for c in cases().into_iter().filter(|c| c.schema_rejects) {
        let config = edgegate::config::yaml::parse(&c.config).unwrap().value;
        let pack = edgegate::config::yaml::parse(&c.pack).unwrap().value;
        assert!(
            !(cv.is_valid(&config) && pv.is_valid(&pack)),
            "[{}] the schema accepts it",
            c.name
        );
        n += 1;
    }
    assert!(n >= 12, "only {n} schema-level cases");
    assert!(cv.is_valid(&edgegate::config::yaml::parse(CONFIG).unwrap().value));
    assert!(pv.is_valid(&edgegate::config::yaml::parse(PACK).unwrap().value));
}

#[test]
fn json_format_lists_every_diagnostic() {
    let sb = sandbox(&cfg("threshold: 50", "threshold: fast"), PACK);
    let r = sb.run(&["validate", "--format", "json"]);
    r.code(2);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v["valid"], false);
    assert_eq!(v["errors"], 1);
    assert_eq!(v["diagnostics"][0]["pointer"], "/gates/0/threshold");
    assert_eq!(v["diagnostics"][0]["pos"]["line"], 15);
    assert_eq!(v["diagnostics"][0]["pos"]["col"], 16);
}

#[test]
fn github_format_prints_annotations() {
    let sb = sandbox(&cfg("device_matrix:", "devce_matrix:"), PACK);
    let r = sb.run(&["validate", "--format", "github"]);
    r.code(2);
    assert!(
        r.stdout.lines().any(|l| l == "::error file=edgegate.yaml,line=7,col=1::unknown key `devce_matrix` at the top level (help: did you mean `device_matrix`?) [at /devce_matrix]"),
        "{}",
        r.stdout
    );
}

#[test]
fn unknown_device_names_warn_with_suggestions_but_validate() {
    let sb = sandbox(&cfg("  - name: s24", "  - name: Galaxy S42"), PACK);
    let r = sb.run(&["validate"]);
    r.code(0);
    assert!(
        r.stderr
            .contains("warning: `Galaxy S42` is not a known AI Hub device name or alias"),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr.contains("did you mean `Samsung Galaxy S"),
        "{}",
        r.stderr
    );
}

#[test]
fn a_missing_config_says_how_to_start() {
    let sb = Sandbox::new();
    let r = sb.run(&["validate"]);
    r.code(2);
    assert!(
        r.stderr
            .contains("config file `edgegate.yaml` does not exist"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("edgegate init"), "{}", r.stderr);
}
