//! Paths named in a config or promptpack stay inside the project (issue 9): the reproduction of
//! a pull request pointing `labels:`, `promptpack.path`, a case input, a reference tensor,
//! `model.path` or a `report:` output at a token file outside it. Each is refused by `validate`
//! and `run` (exit 2, at the offending value) and the token reaches no output and no file.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use crate::support::{Run, Sandbox, repo};

/// What the fake token file holds; it must never be printed or written anywhere.
const SECRET: &str = "fake-secret-4242";

/// A sandbox with `proj/` (the project: no git, so its root is the config's folder) and
/// `outside/` beside it holding files with the fake token.
struct Fixture {
    sb: Sandbox,
}

/// The parts of the config and promptpack a test replaces.
struct Layout<'a> {
    model: &'a str,
    pack: &'a str,
    report: (&'a str, &'a str),
    labels: &'a str,
    input: &'a str,
    expected: &'a str,
}

impl Default for Layout<'_> {
    fn default() -> Self {
        Self {
            model: "model.onnx",
            pack: "promptpack.yaml",
            report: ("json", "results.json"),
            labels: "labels.txt",
            input: "inputs/case_000.npy",
            expected: "{ type: none }",
        }
    }
}

impl Fixture {
    fn new() -> Self {
        let sb = Sandbox::new();
        let qs = repo().join("examples/quickstart");
        let read = |p: &str| std::fs::read(qs.join(p)).expect("quickstart file");
        let token = format!("QAIHUB_API_TOKEN={SECRET}\nGITHUB_TOKEN=ghp_{SECRET}\n");
        for name in ["token.env", "token.onnx", "token.npy"] {
            sb.write(&format!("outside/{name}"), &token);
        }
        sb.write("proj/model.onnx", read("model.onnx"));
        sb.write("proj/labels.txt", read("labels.txt"));
        sb.write("proj/inputs/case_000.npy", read("inputs/case_000.npy"));
        let fx = Self { sb };
        fx.layout(&Layout::default());
        fx
    }

    fn proj(&self) -> PathBuf {
        self.sb.path().join("proj")
    }

    /// The absolute path of a file in `outside/`.
    fn outside(&self, name: &str) -> String {
        self.sb
            .path()
            .join("outside")
            .join(name)
            .display()
            .to_string()
    }

    /// Writes `proj/edgegate.yaml` and `proj/promptpack.yaml`; the line numbers below are
    /// what the tests assert.
    fn layout(&self, l: &Layout) {
        self.sb.write(
            "proj/edgegate.yaml",
            format!(
                "version: 1\n\
                 name: paths\n\
                 model:\n  \
                 path: {}\n\
                 promptpack:\n  \
                 path: {}\n\
                 device_matrix:\n  \
                 - name: host\n    \
                 provider: local\n\
                 gates:\n  \
                 - {{ metric: model_size_mb, operator: lte, threshold: 1 }}\n\
                 run_policy: {{ warmup_runs: 0, measurement_repeats: 1, timeout_minutes: 5 }}\n\
                 report:\n  \
                 {}: {}\n",
                l.model, l.pack, l.report.0, l.report.1
            ),
        );
        self.sb.write(
            "proj/promptpack.yaml",
            format!(
                "promptpack_id: p\n\
                 version: 1.0.0\n\
                 name: P\n\
                 labels: {}\n\
                 cases:\n  \
                 - case_id: c0\n    \
                 inputs: {{ image: {{ npy: {} }} }}\n    \
                 expected: {}\n",
                l.labels, l.input, l.expected
            ),
        );
    }

    /// Runs `edgegate ARGS` in `proj/`, with no credentials, no CI and HOME in the sandbox.
    fn edgegate(&self, args: &[&str]) -> Run {
        let out = Command::new(env!("CARGO_BIN_EXE_edgegate"))
            .args(args)
            .current_dir(self.proj())
            .env("HOME", self.sb.path())
            .env("NO_COLOR", "1")
            .env("CI", "true")
            .env_remove("QAIHUB_API_TOKEN")
            .env_remove("QAIHUB_API_URL")
            .env_remove("QAIHUB_CLIENT_INI")
            .env_remove("GITHUB_ACTIONS")
            .env_remove("GITHUB_TOKEN")
            .env_remove("GITLAB_CI")
            .output()
            .expect("run edgegate");
        Run::from(out)
    }

    /// Every regular file under `proj/` (symlinks are not followed: they are the test's own).
    fn project_files(&self) -> Vec<PathBuf> {
        fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
            let Ok(entries) = std::fs::read_dir(dir) else {
                return;
            };
            for e in entries.flatten() {
                let Ok(meta) = std::fs::symlink_metadata(e.path()) else {
                    continue;
                };
                if meta.is_dir() {
                    walk(&e.path(), out);
                } else if meta.is_file() {
                    out.push(e.path());
                }
            }
        }
        let mut out = Vec::new();
        walk(&self.proj(), &mut out);
        out
    }

    #[track_caller]
    fn assert_no_leak(&self, r: &Run) {
        for (stream, text) in [("stdout", &r.stdout), ("stderr", &r.stderr)] {
            assert!(
                !text.contains(SECRET),
                "the token leaked to {stream}:\n{text}"
            );
        }
        for f in self.project_files() {
            let bytes = std::fs::read(&f).unwrap_or_default();
            assert!(
                !String::from_utf8_lossy(&bytes).contains(SECRET),
                "the token leaked into {}",
                f.display()
            );
        }
    }

    /// `validate` (text and JSON), `run --dry-run` and `run` all refuse the layout with exit 2,
    /// at `file:line:col` and `pointer`, saying `message`; nothing is written, nothing leaks.
    #[track_caller]
    fn assert_refused(&self, file: &str, line: u64, col: u64, pointer: &str, message: &str) {
        let v = self.edgegate(&["validate", "edgegate.yaml"]);
        v.code(2);
        assert!(
            v.stderr.contains(&format!("error: {message}")),
            "message `{message}` in:\n{}",
            v.stderr
        );
        assert!(
            v.stderr.contains(&format!("--> {file}:{line}:{col}\n")),
            "position {file}:{line}:{col} in:\n{}",
            v.stderr
        );
        assert!(
            v.stderr.contains(&format!("= at: {pointer}\n")),
            "{}",
            v.stderr
        );
        assert!(
            v.stderr.contains("--allow-outside-project"),
            "the help names the flag:\n{}",
            v.stderr
        );
        self.assert_no_leak(&v);

        let j = self.edgegate(&["validate", "edgegate.yaml", "--format", "json"]);
        j.code(2);
        let doc: Value = serde_json::from_str(&j.stdout).expect("json diagnostics");
        let found = doc["diagnostics"].as_array().is_some_and(|ds| {
            ds.iter().any(|d| {
                d["file"] == file
                    && d["pos"]["line"] == line
                    && d["pos"]["col"] == col
                    && d["pointer"] == pointer
                    && d["severity"] == "error"
            })
        });
        assert!(found, "{file}:{line}:{col} {pointer} in {doc:#}");
        self.assert_no_leak(&j);

        let dry = self.edgegate(&["run", "edgegate.yaml", "--dry-run"]);
        dry.code(2);
        assert!(
            dry.stderr.contains(&format!("error: {message}")),
            "{}",
            dry.stderr
        );
        self.assert_no_leak(&dry);

        let run = self.edgegate(&["run", "edgegate.yaml", "--comment", "off"]);
        run.code(2);
        assert!(
            run.stderr.contains(&format!("error: {message}")),
            "{}",
            run.stderr
        );
        assert!(
            !self.proj().join("results.json").exists(),
            "nothing ran, so no results"
        );
        self.assert_no_leak(&run);
    }

    #[track_caller]
    fn assert_allowed_by_flag(&self) {
        let r = self.edgegate(&["validate", "edgegate.yaml", "--allow-outside-project"]);
        r.code(0);
        assert!(
            r.stdout.starts_with("✓ edgegate.yaml is valid"),
            "{}",
            r.stdout
        );
        self.assert_no_leak(&r);
    }
}

#[test]
fn the_fixture_is_valid_and_runs_so_each_refusal_is_the_path_alone() {
    let fx = Fixture::new();
    fx.edgegate(&["validate", "edgegate.yaml"]).code(0);
    let r = fx.edgegate(&["run", "edgegate.yaml", "--comment", "off"]);
    r.code(0);
    let results: Value = serde_json::from_str(
        &std::fs::read_to_string(fx.proj().join("results.json")).expect("results written"),
    )
    .expect("results are json");
    assert_eq!(results["verdict"], "passed");
    assert_eq!(results["devices"][0]["cases"][0]["case_id"], "c0");
}

#[test]
fn labels_outside_by_absolute_path_are_refused() {
    let fx = Fixture::new();
    let secret = fx.outside("token.env");
    fx.layout(&Layout {
        labels: &secret,
        expected: "{ type: label, label: \"1\" }",
        ..Layout::default()
    });
    fx.assert_refused(
        "promptpack.yaml",
        4,
        9,
        "/labels",
        &format!("labels file `{secret}` is outside the project"),
    );
}

#[test]
fn labels_outside_by_parent_path_are_refused_and_allowed_by_the_flag() {
    let fx = Fixture::new();
    fx.layout(&Layout {
        labels: "../outside/token.env",
        ..Layout::default()
    });
    fx.assert_refused(
        "promptpack.yaml",
        4,
        9,
        "/labels",
        "labels file `../outside/token.env` is outside the project",
    );
    fx.assert_allowed_by_flag();
}

#[cfg(unix)]
#[test]
fn labels_through_a_symlink_in_the_project_pointing_outside_are_refused() {
    let fx = Fixture::new();
    std::os::unix::fs::symlink(fx.outside("token.env"), fx.proj().join("labels-link.txt"))
        .expect("symlink");
    fx.layout(&Layout {
        labels: "labels-link.txt",
        ..Layout::default()
    });
    fx.assert_refused(
        "promptpack.yaml",
        4,
        9,
        "/labels",
        "labels file `labels-link.txt` is outside the project",
    );
    let v = fx.edgegate(&["validate", "edgegate.yaml"]);
    assert!(
        v.stderr.contains(&format!(
            "(it resolves to `{}`)",
            canonical(&fx.outside("token.env"))
        )),
        "{}",
        v.stderr
    );
}

#[test]
fn a_promptpack_path_outside_is_refused_and_never_quoted() {
    let fx = Fixture::new();
    let secret = fx.outside("token.env");
    fx.layout(&Layout {
        pack: &secret,
        ..Layout::default()
    });
    fx.assert_refused(
        "edgegate.yaml",
        6,
        9,
        "/promptpack/path",
        &format!("promptpack file `{secret}` is outside the project"),
    );
    let r = fx.edgegate(&["validate", "edgegate.yaml", "--allow-outside-project"]);
    r.code(2);
    assert!(
        r.stderr
            .contains("error: the promptpack file is not a promptpack: it holds a single value"),
        "{}",
        r.stderr
    );
    fx.assert_no_leak(&r);
}

#[test]
fn a_real_promptpack_outside_is_accepted_with_the_flag() {
    let fx = Fixture::new();
    let pack = std::fs::read_to_string(fx.proj().join("promptpack.yaml")).expect("pack");
    let inputs = fx.proj().join("inputs/case_000.npy").display().to_string();
    let labels = fx.proj().join("labels.txt").display().to_string();
    fx.sb.write(
        "outside/pack.yaml",
        pack.replace("inputs/case_000.npy", &inputs)
            .replace("labels.txt", &labels),
    );
    let outside_pack = fx.outside("pack.yaml");
    fx.layout(&Layout {
        pack: &outside_pack,
        ..Layout::default()
    });
    fx.assert_refused(
        "edgegate.yaml",
        6,
        9,
        "/promptpack/path",
        &format!("promptpack file `{outside_pack}` is outside the project"),
    );
    fx.assert_allowed_by_flag();
}

#[test]
fn etc_passwd_through_parent_folders_is_refused_without_quoting_it() {
    let fx = Fixture::new();
    let up = "../".repeat(40) + "etc/passwd";
    fx.layout(&Layout {
        pack: &up,
        ..Layout::default()
    });
    fx.assert_refused(
        "edgegate.yaml",
        6,
        9,
        "/promptpack/path",
        &format!("promptpack file `{up}` is outside the project"),
    );
    let v = fx.edgegate(&["validate", "edgegate.yaml"]);
    assert!(!v.stderr.contains("root:"), "{}", v.stderr);
}

#[test]
fn an_inline_promptpack_is_held_to_the_same_rule() {
    let fx = Fixture::new();
    let secret = fx.outside("token.env");
    fx.sb.write(
        "proj/edgegate.yaml",
        format!(
            "version: 1\nname: inline\nmodel:\n  path: model.onnx\npromptpack:\n  content:\n    promptpack_id: p\n    version: 1.0.0\n    name: P\n    labels: {secret}\n    cases:\n      - case_id: c0\n        inputs: {{ image: {{ npy: inputs/case_000.npy }} }}\n        expected: {{ type: none }}\ndevice_matrix:\n  - name: host\n    provider: local\n"
        ),
    );
    fx.assert_refused(
        "edgegate.yaml",
        10,
        13,
        "/promptpack/content/labels",
        &format!("labels file `{secret}` is outside the project"),
    );
    fx.assert_allowed_by_flag();
}

#[test]
fn a_case_input_outside_is_refused() {
    let fx = Fixture::new();
    let secret = fx.outside("token.npy");
    fx.layout(&Layout {
        input: &secret,
        ..Layout::default()
    });
    fx.assert_refused(
        "promptpack.yaml",
        7,
        29,
        "/cases/0/inputs/image/npy",
        &format!("input file `{secret}` is outside the project"),
    );
    fx.assert_allowed_by_flag();
}

#[test]
fn a_reference_tensor_outside_is_refused() {
    let fx = Fixture::new();
    let expected = "{ type: tensor, reference: ../outside/token.npy }";
    fx.layout(&Layout {
        expected,
        ..Layout::default()
    });
    fx.assert_refused(
        "promptpack.yaml",
        8,
        42,
        "/cases/0/expected/reference",
        "reference tensor `../outside/token.npy` is outside the project",
    );
    fx.assert_allowed_by_flag();
}

#[test]
fn a_model_outside_is_refused() {
    let fx = Fixture::new();
    let secret = fx.outside("token.onnx");
    fx.layout(&Layout {
        model: &secret,
        ..Layout::default()
    });
    fx.assert_refused(
        "edgegate.yaml",
        4,
        9,
        "/model/path",
        &format!("model file `{secret}` is outside the project"),
    );
    fx.assert_allowed_by_flag();
}

#[test]
fn report_outputs_outside_are_refused_and_nothing_is_written_there() {
    for key in ["json", "junit", "markdown"] {
        let fx = Fixture::new();
        let target = format!("../outside/written-{key}.out");
        fx.layout(&Layout {
            report: (key, &target),
            ..Layout::default()
        });
        fx.assert_refused(
            "edgegate.yaml",
            14,
            key.len() as u64 + 5,
            &format!("/report/{key}"),
            &format!("report file `{target}` is outside the project"),
        );
        assert!(
            !fx.sb
                .path()
                .join(format!("outside/written-{key}.out"))
                .exists(),
            "{key}: nothing was written outside"
        );
        fx.assert_allowed_by_flag();
    }
}

#[test]
fn command_line_outputs_stay_the_users_choice() {
    let fx = Fixture::new();
    let json = fx.sb.path().join("outside/cli-results.json");
    let junit = fx.sb.path().join("outside/cli-junit.xml");
    let r = fx.edgegate(&[
        "run",
        "edgegate.yaml",
        "--comment",
        "off",
        "--json",
        &json.display().to_string(),
        "--junit",
        &junit.display().to_string(),
    ]);
    r.code(0);
    assert!(json.is_file(), "--json writes outside the project");
    assert!(junit.is_file(), "--junit writes outside the project");
}

#[cfg(unix)]
#[test]
fn a_job_cache_folder_linked_outside_is_refused() {
    let fx = Fixture::new();
    std::os::unix::fs::symlink(fx.sb.path().join("outside"), fx.proj().join(".edgegate"))
        .expect("symlink");
    let v = fx.edgegate(&["validate", "edgegate.yaml"]);
    v.code(2);
    assert!(
        v.stderr
            .contains("error: the job cache `.edgegate/cache/jobs.json` is outside the project"),
        "{}",
        v.stderr
    );
    assert!(v.stderr.contains("--> edgegate.yaml\n"), "{}", v.stderr);
    fx.edgegate(&["run", "edgegate.yaml", "--comment", "off"])
        .code(2);
    fx.edgegate(&["validate", "edgegate.yaml", "--allow-outside-project"])
        .code(0);
}

#[test]
fn an_absolute_path_inside_the_project_is_accepted() {
    let fx = Fixture::new();
    let abs = |p: &str| fx.proj().join(p).display().to_string();
    let (model, labels, input) = (
        abs("model.onnx"),
        abs("labels.txt"),
        abs("inputs/case_000.npy"),
    );
    fx.layout(&Layout {
        model: &model,
        labels: &labels,
        input: &input,
        ..Layout::default()
    });
    fx.edgegate(&["validate", "edgegate.yaml"]).code(0);
    fx.edgegate(&["run", "edgegate.yaml", "--comment", "off"])
        .code(0);
}

#[test]
fn a_config_in_a_git_subfolder_reaches_the_rest_of_its_repository_only() {
    let sb = Sandbox::new();
    let qs = repo().join("examples/quickstart");
    let read = |p: &str| std::fs::read(qs.join(p)).expect("quickstart file");
    sb.write(
        "repo/.git/config",
        format!("[http \"https://github.com/\"]\n\textraheader = AUTHORIZATION: basic {SECRET}\n"),
    );
    sb.write("repo/models/model.onnx", read("model.onnx"));
    sb.write("repo/data/labels.txt", read("labels.txt"));
    sb.write("repo/data/case_000.npy", read("inputs/case_000.npy"));
    sb.write("outside/token.env", format!("QAIHUB_API_TOKEN={SECRET}\n"));
    let pack = |labels: &str| {
        format!(
            "promptpack_id: p\nversion: 1.0.0\nname: P\nlabels: {labels}\ncases:\n  - case_id: c0\n    inputs: {{ image: {{ npy: ../data/case_000.npy }} }}\n    expected: {{ type: none }}\n"
        )
    };
    sb.write("repo/packs/pack.yaml", pack("../data/labels.txt"));
    sb.write(
        "repo/gate/ci/edgegate.yaml",
        "version: 1\nname: repo\nmodel:\n  path: ../../models/model.onnx\npromptpack:\n  path: ../../packs/pack.yaml\ndevice_matrix:\n  - name: host\n    provider: local\n",
    );
    let validate = || {
        crate::support::run_in(
            &sb.path().join("repo/gate"),
            &["validate", "ci/edgegate.yaml"],
        )
    };
    let r = validate();
    r.code(0);
    assert!(r.stdout.contains("is valid: 1 device"), "{}", r.stdout);

    for (labels, message) in [
        (
            "../../outside/token.env",
            "labels file `../../outside/token.env` is outside the project",
        ),
        (
            "../.git/config",
            "labels file `../.git/config` is inside a `.git` folder",
        ),
    ] {
        sb.write("repo/packs/pack.yaml", pack(labels));
        let r = validate();
        r.code(2);
        assert!(
            r.stderr.contains(&format!("error: {message}")),
            "{}",
            r.stderr
        );
        assert!(
            r.stderr.contains("--> ci/../../packs/pack.yaml:4:9\n"),
            "{}",
            r.stderr
        );
        assert!(!r.stderr.contains(SECRET), "{}", r.stderr);
        assert!(!r.stdout.contains(SECRET), "{}", r.stdout);
    }
}

#[test]
fn a_promptpack_path_at_a_non_yaml_file_in_the_project_is_never_quoted() {
    let fx = Fixture::new();
    fx.layout(&Layout {
        pack: ".env",
        ..Layout::default()
    });
    let secret_lines = [
        (
            format!("TOKEN={SECRET}\n"),
            "error: the promptpack file is not a promptpack: it holds a single value, not a mapping of keys\n  --> .env:1:1\n",
        ),
        (
            format!("TOKEN: {SECRET}\npassword: {SECRET}\n"),
            "error: the promptpack file is not a promptpack: it has neither `promptpack_id` nor `cases`\n  --> .env:1:1\n",
        ),
        (
            format!("[api]\napi_token = {SECRET}\n"),
            "error: invalid YAML: did not find expected <document start>\n  --> .env:2:1\n",
        ),
        (
            format!("a: 1\nTOKEN={SECRET}: [\n"),
            "error: invalid YAML: ",
        ),
    ];
    for (text, expected) in &secret_lines {
        fx.sb.write("proj/.env", text);
        for format in ["text", "json", "github"] {
            let r = fx.edgegate(&["validate", "edgegate.yaml", "--format", format]);
            r.code(2);
            if format == "text" {
                assert!(r.stderr.contains(expected), "{expected} in:\n{}", r.stderr);
                assert!(
                    !r.stderr.contains(" | "),
                    "no source excerpt:\n{}",
                    r.stderr
                );
            }
            assert!(!r.stdout.contains(SECRET), "{format}:\n{}", r.stdout);
            assert!(!r.stderr.contains(SECRET), "{format}:\n{}", r.stderr);
        }
    }
    let r = fx.edgegate(&["validate", "edgegate.yaml"]);
    assert!(
        r.stderr.contains("  --> .env:2:"),
        "position kept:\n{}",
        r.stderr
    );
}

#[test]
fn a_label_suggestion_never_quotes_the_labels_file() {
    let fx = Fixture::new();
    fx.sb
        .write("proj/.env", format!("QAIHUB_API_TOKEN={SECRET}\n"));
    fx.layout(&Layout {
        labels: ".env",
        expected: "{ type: label, label: \"QAIHUB_API_TOKEN=fake-secret-0000\" }",
        ..Layout::default()
    });
    let r = fx.edgegate(&["validate", "edgegate.yaml"]);
    r.code(2);
    assert!(
        r.stderr
            .contains("error: label `QAIHUB_API_TOKEN=fake-secret-0000` is not in the labels file"),
        "{}",
        r.stderr
    );
    assert!(!r.stderr.contains(SECRET), "{}", r.stderr);
}

fn canonical(p: &str) -> String {
    std::fs::canonicalize(p)
        .map(|p| p.display().to_string())
        .unwrap_or_else(|_| p.to_string())
}
