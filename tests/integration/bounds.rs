//! Bounds on what EdgeGate reads and waits for, as reproductions: FIFOs and `/dev/zero` given as
//! files, endless and oversized HTTP answers, a server that never answers, a `Retry-After` past
//! the deadline, and the messages around them. Every child runs under a 30 s watchdog, so a hang
//! fails the test instead of blocking it; HTTP servers are started here on 127.0.0.1:0.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use edgegate::sim::{self, Scenario, SimConfig, SimHandle};
use serde_json::Value;

use crate::support::{Run, Sandbox, repo};

const WATCHDOG: Duration = Duration::from_secs(30);
const TOKEN: &str = "bounds-test-token";

/// A finished child: what it printed and its peak resident memory.
struct Watched {
    run: Run,
    max_rss_kib: i64,
}

/// `edgegate ARGS` in `dir` with a clean environment (HOME is the folder, so no client.ini).
fn edgegate(dir: &Path, args: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_edgegate"));
    c.args(args)
        .current_dir(dir)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", dir)
        .env("NO_COLOR", "1");
    c
}

/// `edgegate ARGS` under a 1 GiB address-space limit, so a body read whole cannot take the
/// machine down with it (it aborts instead, which fails the test as surely).
fn edgegate_limited(dir: &Path, args: &[&str]) -> Command {
    let mut c = Command::new("sh");
    c.arg("-c")
        .arg("ulimit -v 1048576 && exec \"$0\" \"$@\"")
        .arg(env!("CARGO_BIN_EXE_edgegate"))
        .args(args)
        .current_dir(dir)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", dir)
        .env("NO_COLOR", "1");
    c
}

/// Runs a command to its end, killing it (and failing) after [`WATCHDOG`]; reaps it with
/// `wait4` to read this child's own peak resident memory.
#[allow(
    clippy::zombie_processes,
    reason = "the child is reaped with wait4, which also gives its rusage"
)]
fn watched(mut cmd: Command) -> Watched {
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn edgegate");
    let drain = |r: Option<Box<dyn Read + Send>>| {
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            if let Some(mut r) = r {
                let _ = r.read_to_end(&mut buf);
            }
            String::from_utf8_lossy(&buf).into_owned()
        })
    };
    let out = drain(
        child
            .stdout
            .take()
            .map(|s| Box::new(s) as Box<dyn Read + Send>),
    );
    let err = drain(
        child
            .stderr
            .take()
            .map(|s| Box::new(s) as Box<dyn Read + Send>),
    );
    let pid = libc::pid_t::try_from(child.id()).expect("pid fits");
    let started = Instant::now();
    let mut status: libc::c_int = 0;
    // SAFETY: an all-zero rusage is a valid value of this plain C struct.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let mut killed = false;
    loop {
        // SAFETY: `pid` is our own child; status and usage point to live locals.
        let r = unsafe { libc::wait4(pid, &mut status, libc::WNOHANG, &mut usage) };
        if r == pid {
            break;
        }
        assert_eq!(r, 0, "wait4 failed: {}", std::io::Error::last_os_error());
        if !killed && started.elapsed() > WATCHDOG {
            // SAFETY: signalling our own child, which has not been reaped yet.
            unsafe { libc::kill(pid, libc::SIGKILL) };
            killed = true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let stdout = out.join().expect("stdout");
    let stderr = err.join().expect("stderr");
    assert!(
        !killed,
        "edgegate did not end within {WATCHDOG:?} and was killed\n--- stdout\n{stdout}\n--- stderr\n{stderr}"
    );
    let code = if libc::WIFEXITED(status) {
        libc::WEXITSTATUS(status)
    } else {
        128 + libc::WTERMSIG(status)
    };
    Watched {
        run: Run {
            code,
            stdout,
            stderr,
        },
        max_rss_kib: usage.ru_maxrss,
    }
}

fn mkfifo(path: &Path) -> PathBuf {
    let made = Command::new("mkfifo").arg(path).status().expect("mkfifo");
    assert!(made.success(), "mkfifo {}", path.display());
    path.to_path_buf()
}

/// The quickstart project (a real digits model on the host) copied into a sandbox.
fn quickstart(sb: &Sandbox) {
    let qs = repo().join("examples/quickstart");
    for f in [
        "model.onnx",
        "labels.txt",
        "promptpack.yaml",
        "edgegate.yaml",
    ] {
        std::fs::copy(qs.join(f), sb.path().join(f)).expect("copy");
    }
    std::fs::create_dir(sb.path().join("inputs")).expect("mkdir");
    for e in std::fs::read_dir(qs.join("inputs")).expect("inputs") {
        let e = e.expect("entry");
        std::fs::copy(e.path(), sb.path().join("inputs").join(e.file_name())).expect("copy");
    }
}

fn replace_with_fifo(sb: &Sandbox, rel: &str) {
    let p = sb.path().join(rel);
    std::fs::remove_file(&p).expect("remove");
    mkfifo(&p);
}

// ---------------------------------------------------------------------------------------------
// Files that are not regular files
// ---------------------------------------------------------------------------------------------

#[test]
fn a_fifo_or_dev_zero_as_the_config_is_invalid_input() {
    let sb = Sandbox::new();
    mkfifo(&sb.path().join("edgegate.yaml"));
    for cmd in ["validate", "run"] {
        let w = watched(edgegate(sb.path(), &[cmd, "edgegate.yaml"]));
        w.run.code(2);
        assert!(
            w.run
                .stderr
                .contains("config file `edgegate.yaml` is a FIFO (named pipe), not a regular file"),
            "{cmd}: {}",
            w.run.stderr
        );
        let w = watched(edgegate(sb.path(), &[cmd, "/dev/zero"]));
        w.run.code(2);
        assert!(
            w.run
                .stderr
                .contains("config file `/dev/zero` is a character device, not a regular file"),
            "{cmd}: {}",
            w.run.stderr
        );
    }
}

#[test]
fn a_fifo_or_dev_zero_as_the_baseline_is_invalid_input() {
    let sb = Sandbox::new();
    quickstart(&sb);
    mkfifo(&sb.path().join("baseline.json"));
    for (baseline, what) in [
        ("baseline.json", "is a FIFO (named pipe)"),
        ("/dev/zero", "is a character device"),
    ] {
        let w = watched(edgegate(
            sb.path(),
            &["run", "edgegate.yaml", "--baseline", baseline],
        ));
        w.run.code(2);
        assert!(
            w.run.stderr.contains(&format!(
                "baseline file `{baseline}` {what}, not a regular file"
            )),
            "{}",
            w.run.stderr
        );
        assert!(!sb.path().join("edgegate-results.json").exists());
    }
}

#[test]
fn a_fifo_or_dev_zero_as_report_results_or_template_is_invalid_input() {
    let sb = Sandbox::new();
    mkfifo(&sb.path().join("results.json"));
    for (results, what) in [
        ("results.json", "it is a FIFO (named pipe)"),
        ("/dev/zero", "it is a character device"),
    ] {
        let w = watched(edgegate(
            sb.path(),
            &["report", "--results", results, "--comment", "off"],
        ));
        w.run.code(2);
        assert!(
            w.run.stderr.contains(&format!(
                "failed to read results file {results}: {what}, not a regular file"
            )),
            "{}",
            w.run.stderr
        );
    }
    let passing = repo().join("tests/fixtures/results/passing.json");
    mkfifo(&sb.path().join("template.md"));
    let w = watched(edgegate(
        sb.path(),
        &[
            "report",
            "--results",
            &passing.to_string_lossy(),
            "--template",
            "template.md",
            "--comment",
            "off",
        ],
    ));
    w.run.code(2);
    assert!(
        w.run.stderr.contains("template.md: it is a FIFO"),
        "{}",
        w.run.stderr
    );
}

#[test]
fn a_fifo_as_promptpack_or_labels_file_is_invalid_input() {
    let sb = Sandbox::new();
    quickstart(&sb);
    replace_with_fifo(&sb, "labels.txt");
    for cmd in ["validate", "run"] {
        let w = watched(edgegate(sb.path(), &[cmd, "edgegate.yaml"]));
        w.run.code(2);
        assert!(
            w.run.stderr.contains("labels file `") && w.run.stderr.contains("is a FIFO"),
            "{cmd}: {}",
            w.run.stderr
        );
    }

    let sb = Sandbox::new();
    quickstart(&sb);
    replace_with_fifo(&sb, "promptpack.yaml");
    for cmd in ["validate", "run"] {
        let w = watched(edgegate(sb.path(), &[cmd, "edgegate.yaml"]));
        w.run.code(2);
        assert!(
            w.run.stderr.contains("promptpack file `") && w.run.stderr.contains("is a FIFO"),
            "{cmd}: {}",
            w.run.stderr
        );
    }
}

#[test]
fn a_fifo_as_a_case_input_is_invalid_input() {
    let sb = Sandbox::new();
    quickstart(&sb);
    replace_with_fifo(&sb, "inputs/case_000.npy");
    for cmd in ["validate", "run"] {
        let w = watched(edgegate(sb.path(), &[cmd, "edgegate.yaml"]));
        w.run.code(2);
        assert!(
            w.run.stderr.contains("case_000.npy"),
            "{cmd}: {}",
            w.run.stderr
        );
    }
}

#[test]
fn a_fifo_as_client_ini_or_ci_event_never_hangs() {
    let sb = Sandbox::new();
    let ini = mkfifo(&sb.path().join("client.ini"));
    let mut cmd = edgegate(sb.path(), &["devices", "--hub-url", "http://127.0.0.1:9"]);
    cmd.env("QAIHUB_CLIENT_INI", &ini);
    let w = watched(cmd);
    w.run.code(2);
    assert!(
        w.run.stderr.contains("client.ini` is a FIFO (named pipe)"),
        "{}",
        w.run.stderr
    );

    let event = mkfifo(&sb.path().join("event.json"));
    let passing = repo().join("tests/fixtures/results/passing.json");
    let mut cmd = edgegate(
        sb.path(),
        &["report", "--results", &passing.to_string_lossy()],
    );
    cmd.env("GITHUB_ACTIONS", "true")
        .env("GITHUB_EVENT_PATH", &event)
        .env("GITHUB_TOKEN", "t")
        .env("GITHUB_REPOSITORY", "acme/vision")
        .env("GITHUB_API_URL", "http://127.0.0.1:9");
    let w = watched(cmd);
    w.run.code(0);
    assert!(
        w.run.stderr.contains("ignoring the CI event") && w.run.stderr.contains("FIFO"),
        "{}",
        w.run.stderr
    );
}

// ---------------------------------------------------------------------------------------------
// HTTP answers and waits
// ---------------------------------------------------------------------------------------------

/// A server on 127.0.0.1:0 that reads each request's head, then calls `answer` on the connection.
fn serve(answer: fn(&mut TcpStream)) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(mut conn) = conn else { continue };
            std::thread::spawn(move || {
                let mut reader = BufReader::new(conn.try_clone().expect("clone"));
                let mut line = String::new();
                loop {
                    line.clear();
                    match reader.read_line(&mut line) {
                        Ok(0) | Err(_) => return,
                        Ok(_) if line == "\r\n" => break,
                        Ok(_) => {}
                    }
                }
                answer(&mut conn);
            });
        }
    });
    format!("http://{addr}")
}

fn endless_chunked(conn: &mut TcpStream) {
    let head = "HTTP/1.1 200 OK\r\ncontent-type: application/x-protobuf\r\ntransfer-encoding: chunked\r\n\r\n";
    if conn.write_all(head.as_bytes()).is_err() {
        return;
    }
    let mut chunk = format!("{:x}\r\n", 64 * 1024).into_bytes();
    chunk.extend(std::iter::repeat_n(0x0a, 64 * 1024));
    chunk.extend_from_slice(b"\r\n");
    while conn.write_all(&chunk).is_ok() {}
}

fn ten_gigabytes(conn: &mut TcpStream) {
    let head = "HTTP/1.1 200 OK\r\ncontent-type: application/x-protobuf\r\ncontent-length: 10000000000\r\n\r\n";
    if conn.write_all(head.as_bytes()).is_err() {
        return;
    }
    let zeros = vec![0u8; 64 * 1024];
    while conn.write_all(&zeros).is_ok() {}
}

fn silent(_conn: &mut TcpStream) {
    std::thread::sleep(Duration::from_secs(120));
}

fn rate_limited(conn: &mut TcpStream) {
    let body = r#"{"detail":"slow down"}"#;
    let _ = write!(
        conn,
        "HTTP/1.1 429 Too Many Requests\r\nretry-after: 999999999\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    );
}

fn megabyte_detail(conn: &mut TcpStream) {
    let body = format!(r#"{{"detail":"{}"}}"#, "bad request ".repeat(90_000));
    let _ = write!(
        conn,
        "HTTP/1.1 400 Bad Request\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    );
}

fn devices(sb: &Sandbox, url: &str, extra: &[&str]) -> Watched {
    let mut args = vec!["devices", "--hub-url", url];
    args.extend_from_slice(extra);
    let mut cmd = edgegate_limited(sb.path(), &args);
    cmd.env("QAIHUB_API_TOKEN", TOKEN);
    watched(cmd)
}

/// Peak memory a `devices` call may reach while refusing a large answer (it needs about 40 MiB;
/// the answer itself is cut at 16 MiB).
const MAX_RSS_KIB: i64 = 160 * 1024;

#[test]
fn an_endless_chunked_answer_is_cut_at_the_limit_with_little_memory() {
    let sb = Sandbox::new();
    let w = devices(&sb, &serve(endless_chunked), &[]);
    w.run.code(3);
    assert!(
        w.run.stderr.contains("it went on past the 16 MiB limit"),
        "{}",
        w.run.stderr
    );
    assert!(
        w.max_rss_kib < MAX_RSS_KIB,
        "peak memory {} KiB while refusing an endless answer",
        w.max_rss_kib
    );
}

#[test]
fn an_announced_ten_gigabyte_answer_is_refused_before_reading() {
    let sb = Sandbox::new();
    let w = devices(&sb, &serve(ten_gigabytes), &[]);
    w.run.code(3);
    assert!(
        w.run.stderr.contains(
            "it announced 10000000000 bytes (Content-Length), more than the 16 MiB limit"
        ),
        "{}",
        w.run.stderr
    );
    assert!(
        w.max_rss_kib < MAX_RSS_KIB,
        "peak memory {} KiB",
        w.max_rss_kib
    );
}

#[test]
fn a_server_that_never_answers_ends_at_the_deadline() {
    let sb = Sandbox::new();
    let w = devices(&sb, &serve(silent), &["--timeout", "2"]);
    w.run.code(3);
    assert!(
        w.run
            .stderr
            .contains("stopped at the 2 s deadline (--timeout): no answer from 127.0.0.1:"),
        "{}",
        w.run.stderr
    );
}

#[test]
fn a_retry_after_past_the_deadline_ends_now() {
    let sb = Sandbox::new();
    let w = devices(&sb, &serve(rate_limited), &["--timeout", "20"]);
    w.run.code(3);
    assert!(!w.run.stderr.contains("retrying"), "{}", w.run.stderr);
    assert!(
        w.run.stderr.contains(
            "stopped at the 20 s deadline (--timeout): the next retry would start in 2 min, after it; last failure: ai hub answered 429: slow down"
        ),
        "{}",
        w.run.stderr
    );
}

#[test]
fn a_report_comment_that_never_gets_an_answer_is_given_up_at_the_deadline() {
    let sb = Sandbox::new();
    let api = serve(silent);
    let passing = repo().join("tests/fixtures/results/passing.json");
    let mut cmd = edgegate(
        sb.path(),
        &[
            "report",
            "--results",
            &passing.to_string_lossy(),
            "--comment",
            "gitlab",
            "--pr",
            "7",
            "--timeout",
            "2",
        ],
    );
    cmd.env("CI_API_V4_URL", format!("{api}/api/v4"))
        .env("GITLAB_TOKEN", "t")
        .env("CI_PROJECT_ID", "1");
    let w = watched(cmd);
    w.run.code(0);
    assert!(
        w.run.stderr.contains(
            "warning: no comment posted on merge request !7: stopped at the 2 s deadline (--timeout)"
        ),
        "{}",
        w.run.stderr
    );
}

#[test]
fn an_endless_gitlab_answer_is_refused() {
    let sb = Sandbox::new();
    let api = serve(endless_chunked);
    let passing = repo().join("tests/fixtures/results/passing.json");
    let mut cmd = edgegate(
        sb.path(),
        &[
            "report",
            "--results",
            &passing.to_string_lossy(),
            "--comment",
            "gitlab",
            "--pr",
            "7",
        ],
    );
    cmd.env("CI_API_V4_URL", format!("{api}/api/v4"))
        .env("GITLAB_TOKEN", "t")
        .env("CI_PROJECT_ID", "1");
    let w = watched(cmd);
    w.run.code(0);
    assert!(
        w.run
            .stderr
            .contains("GitLab's reply was refused: it went on past the 32 MiB limit"),
        "{}",
        w.run.stderr
    );
}

// ---------------------------------------------------------------------------------------------
// Messages
// ---------------------------------------------------------------------------------------------

/// A simulator on its own runtime, so the test thread can wait for the child.
struct Sim {
    handle: SimHandle,
    _rt: tokio::runtime::Runtime,
}

impl Sim {
    fn start(yaml: &str) -> Self {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        let scenario = Scenario::from_yaml(yaml, "bounds test").expect("scenario");
        let handle = rt
            .block_on(sim::start(SimConfig {
                scenario,
                token: TOKEN.into(),
                ..SimConfig::default()
            }))
            .expect("sim starts");
        Self { handle, _rt: rt }
    }
}

fn results(dir: &Path) -> Value {
    let text = std::fs::read_to_string(dir.join("edgegate-results.json")).expect("results written");
    serde_json::from_str(&text).expect("results are json")
}

fn device<'a>(r: &'a Value, name: &str) -> &'a Value {
    r["devices"]
        .as_array()
        .and_then(|d| d.iter().find(|d| d["name"] == name))
        .unwrap_or_else(|| panic!("device {name} in {r:#}"))
}

const HOST_AND_S24: &str = "version: 1\nname: Bounds\nmodel: { path: model.onnx }\npromptpack: { path: promptpack.yaml }\ndevice_matrix:\n  - { name: host, provider: local }\n  - { name: s24, runtime: tflite }\ngates:\n  - { metric: accuracy, operator: gte, threshold: 0.9 }\nrun_policy: { warmup_runs: 0, measurement_repeats: 1, timeout_minutes: 5 }\n";

#[test]
fn a_stuck_compile_job_is_named_with_its_id_once() {
    let sim = Sim::start("durations: { compile_s: 600 }\n");
    let sb = Sandbox::new();
    quickstart(&sb);
    sb.write(
        "edgegate.yaml",
        HOST_AND_S24.replace("  - { name: host, provider: local }\n", ""),
    );
    let mut cmd = edgegate(
        sb.path(),
        &[
            "run",
            "edgegate.yaml",
            "--hub-url",
            &sim.handle.url(),
            "--job-timeout",
            "0.02",
        ],
    );
    cmd.env("QAIHUB_API_TOKEN", TOKEN);
    let w = watched(cmd);
    w.run.code(3);
    let r = results(sb.path());
    let d = device(&r, "s24");
    let err = d["error"].as_str().expect("error");
    let compile = d["jobs"]
        .as_array()
        .and_then(|j| j.iter().find(|j| j["kind"] == "compile"))
        .and_then(|j| j["id"].as_str())
        .expect("compile job listed");
    assert_eq!(
        err,
        format!(
            "compile job {compile} did not finish within the job time limit of 1.2 s (--job-timeout)"
        )
    );
}

#[test]
fn a_huge_server_detail_is_shortened_in_the_message() {
    let sb = Sandbox::new();
    let w = devices(&sb, &serve(megabyte_detail), &[]);
    w.run.code(3);
    let line = w
        .run
        .stderr
        .lines()
        .find(|l| l.contains("ai hub refused the request (400)"))
        .unwrap_or_else(|| panic!("{}", w.run.stderr));
    assert!(line.len() < 500, "{} chars: {line}", line.len());
    assert!(line.contains(": bad request bad request"), "{line}");
    assert!(line.ends_with(" bytes)"), "{line}");
}

#[test]
fn a_run_without_an_ai_hub_token_writes_results_with_the_reason() {
    let sb = Sandbox::new();
    quickstart(&sb);
    sb.write("edgegate.yaml", HOST_AND_S24);
    let w = watched(edgegate(sb.path(), &["run", "edgegate.yaml"]));
    w.run.code(3);
    assert!(
        w.run.stderr.contains("QAIHUB_API_TOKEN"),
        "{}",
        w.run.stderr
    );
    let r = results(sb.path());
    assert_eq!(r["verdict"], "error");
    let s24 = device(&r, "s24");
    assert_eq!(s24["verdict"], "error");
    let err = s24["error"].as_str().expect("error");
    assert!(
        err.contains("no ai hub api token configured: set QAIHUB_API_TOKEN"),
        "{err}"
    );
    let host = device(&r, "host");
    assert_eq!(host["verdict"], "passed", "{host:#}");
}

#[test]
fn an_empty_hub_url_warns_without_colours_off_a_terminal() {
    let sim = Sim::start("{}\n");
    let sb = Sandbox::new();
    let url = sim.handle.url();
    let ini = sb.write(
        "client.ini",
        format!("[api]\napi_token = {TOKEN}\napi_url = {url}\n"),
    );
    let mut cmd = edgegate(sb.path(), &["devices", "--name", "RB5"]);
    cmd.env_remove("NO_COLOR")
        .env("QAIHUB_API_URL", "")
        .env("QAIHUB_CLIENT_INI", &ini);
    let w = watched(cmd);
    w.run.code(0);
    assert!(w.run.stdout.contains("RB5 (Proxy)"), "{}", w.run.stdout);
    let warning = w
        .run
        .stderr
        .lines()
        .find(|l| l.contains("WARN"))
        .unwrap_or_else(|| panic!("no warning: {}", w.run.stderr));
    assert!(
        warning.ends_with(&format!(
            "QAIHUB_API_URL is set but empty, so it is ignored: using {url}"
        )),
        "{warning}"
    );
    assert!(!w.run.stderr.contains('\u{1b}'), "{:?}", w.run.stderr);
}
