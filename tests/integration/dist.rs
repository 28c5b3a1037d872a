//! Release archives and the installer: `scripts/dist.sh` packs this test's own `edgegate`,
//! a static file server on 127.0.0.1 plays the release host, and `scripts/install.sh` installs
//! from it, refuses a tampered archive, and reports a missing one with its own exit code.

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::support::{Run, repo};

/// `install.sh`: the archive's sha256 does not match its .sha256 file; nothing installed.
const CHECKSUM_MISMATCH_EXIT: i32 = 3;
/// `install.sh`: no archive for this version and target (HTTP 404); the action builds from source.
const NO_ARCHIVE_EXIT: i32 = 4;

/// The `version` of the [package] table in Cargo.toml.
fn cargo_version() -> String {
    let toml = std::fs::read_to_string(repo().join("Cargo.toml")).expect("read Cargo.toml");
    let mut in_package = false;
    for line in toml.lines() {
        let line = line.trim();
        if line.starts_with('[') {
            in_package = line == "[package]";
        } else if in_package && let Some(rest) = line.strip_prefix("version") {
            let value = rest.trim_start().trim_start_matches('=').trim();
            return value.trim_matches('"').to_owned();
        }
    }
    panic!("no [package] version in Cargo.toml");
}

/// The host triple, as `dist.sh` names the archive by default.
fn host_triple() -> String {
    let out = Command::new("rustc")
        .arg("-vV")
        .output()
        .expect("run rustc -vV");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .find_map(|l| l.strip_prefix("host: ").map(str::to_owned))
        .expect("host line in rustc -vV")
}

/// Serves the files under `root` over HTTP/1.0 on 127.0.0.1 (GET only, 404 for anything
/// missing) from a background thread for the life of the test process; returns the base URL.
fn serve(root: PathBuf) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    let addr = listener.local_addr().expect("local addr");
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let root = root.clone();
            std::thread::spawn(move || answer(&root, stream));
        }
    });
    format!("http://{addr}")
}

fn answer(root: &Path, mut stream: TcpStream) {
    let mut reader = BufReader::new(stream.try_clone().expect("clone stream"));
    let mut request = String::new();
    if reader.read_line(&mut request).is_err() {
        return;
    }
    // Drain the headers.
    let mut line = String::new();
    while reader.read_line(&mut line).map(|n| n > 2).unwrap_or(false) {
        line.clear();
    }
    let path = request.split_whitespace().nth(1).unwrap_or("/");
    let file = (!path.contains(".."))
        .then(|| root.join(path.trim_start_matches('/')))
        .filter(|p| p.is_file());
    let _ = match file.and_then(|p| std::fs::read(p).ok()) {
        Some(body) => stream
            .write_all(
                format!(
                    "HTTP/1.0 200 OK\r\nContent-Length: {}\r\nContent-Type: application/octet-stream\r\nConnection: close\r\n\r\n",
                    body.len()
                )
                .as_bytes(),
            )
            .and_then(|()| stream.write_all(&body)),
        None => stream.write_all(
            b"HTTP/1.0 404 Not Found\r\nContent-Length: 10\r\nConnection: close\r\n\r\nnot found\n",
        ),
    };
}

/// Runs `scripts/install.sh ARGS` against the release host at `base`.
fn install(base: &str, args: &[&str]) -> Run {
    let out = Command::new("sh")
        .arg(repo().join("scripts/install.sh"))
        .args(args)
        .env("EDGEGATE_DOWNLOAD_BASE", base)
        .env("NO_PROXY", "127.0.0.1")
        .env("no_proxy", "127.0.0.1")
        .output()
        .expect("run install.sh");
    Run::from(out)
}

#[test]
fn dist_archive_installs_and_tampering_or_a_missing_release_is_refused() {
    let version = cargo_version();
    let target = host_triple();
    let tmp = tempfile::tempdir().expect("temp dir");
    let release_dir = tmp.path().join("releases").join(format!("v{version}"));
    let binary = env!("CARGO_BIN_EXE_edgegate");

    // The default refuses a binary linked to libhdf5 (the test build is), before packing anything.
    let refused = Run::from(
        Command::new("bash")
            .arg(repo().join("scripts/dist.sh"))
            .args(["--binary", binary, "--out"])
            .arg(&release_dir)
            .output()
            .expect("run dist.sh"),
    );
    assert_ne!(refused.code, 0, "dist.sh packed a dynamic binary");
    assert!(
        refused.stderr.contains("links an HDF5 library dynamically"),
        "{}",
        refused.stderr
    );

    Run::from(
        Command::new("bash")
            .arg(repo().join("scripts/dist.sh"))
            .args(["--binary", binary, "--allow-dynamic", "--out"])
            .arg(&release_dir)
            .output()
            .expect("run dist.sh"),
    )
    .code(0);
    let name = format!("edgegate-v{version}-{target}");
    let archive = release_dir.join(format!("{name}.tar.gz"));
    let sums = std::fs::read_to_string(release_dir.join(format!("{name}.tar.gz.sha256")))
        .expect("the .sha256 file");
    let (hash, file) = sums.trim_end().split_once("  ").expect("sha256sum format");
    assert_eq!(hash.len(), 64, "{sums}");
    assert_eq!(file, format!("{name}.tar.gz"));
    let listing = Command::new("tar")
        .arg("-tzf")
        .arg(&archive)
        .output()
        .expect("tar -t");
    let listing = String::from_utf8_lossy(&listing.stdout);
    assert!(listing.contains(&format!("{name}/edgegate")), "{listing}");
    assert!(listing.contains(&format!("{name}/README.md")), "{listing}");

    let base = serve(tmp.path().join("releases"));

    // Installs, verifies and prints the version.
    let bin = tmp.path().join("bin");
    let ok = install(
        &base,
        &["--version", &version, "--to", bin.to_str().expect("utf-8")],
    );
    ok.code(0);
    assert!(ok.stderr.contains("sha256 verified"), "{}", ok.stderr);
    assert!(
        ok.stdout.contains(&format!("edgegate {version}")),
        "{}",
        ok.stdout
    );
    let installed = Command::new(bin.join("edgegate"))
        .arg("--version")
        .output()
        .expect("run the installed edgegate");
    assert!(installed.status.success());
    assert!(String::from_utf8_lossy(&installed.stdout).contains(&version));

    // A version with no archive: the distinct exit code, nothing installed.
    let bin_missing = tmp.path().join("bin-missing");
    let missing = install(
        &base,
        &[
            "--version",
            "99.0.0",
            "--to",
            bin_missing.to_str().expect("utf-8"),
        ],
    );
    missing.code(NO_ARCHIVE_EXIT);
    assert!(
        missing.stderr.contains("no prebuilt archive"),
        "{}",
        missing.stderr
    );
    assert!(!bin_missing.join("edgegate").exists());

    // One flipped byte, the old .sha256: refused with a clear message, nothing installed.
    let mut bytes = std::fs::read(&archive).expect("read archive");
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x01;
    std::fs::write(&archive, bytes).expect("tamper archive");
    let bin_tampered = tmp.path().join("bin-tampered");
    let tampered = install(
        &base,
        &[
            "--version",
            &version,
            "--to",
            bin_tampered.to_str().expect("utf-8"),
        ],
    );
    tampered.code(CHECKSUM_MISMATCH_EXIT);
    assert!(
        tampered.stderr.contains("checksum mismatch")
            && tampered.stderr.contains("nothing installed"),
        "{}",
        tampered.stderr
    );
    assert!(!bin_tampered.join("edgegate").exists());
}

#[test]
fn installer_and_action_default_to_the_cargo_version() {
    let version = cargo_version();

    let script = std::fs::read_to_string(repo().join("scripts/install.sh")).expect("install.sh");
    let in_script = script
        .lines()
        .find_map(|l| l.strip_prefix("EDGEGATE_VERSION="))
        .expect("EDGEGATE_VERSION= in install.sh")
        .trim_matches('"');
    assert_eq!(
        in_script, version,
        "scripts/install.sh installs {in_script} by default but Cargo.toml is {version}"
    );

    // action.yml: the `version` input's default.
    let action = std::fs::read_to_string(repo().join("action.yml")).expect("action.yml");
    let lines: Vec<&str> = action.lines().collect();
    let start = lines
        .iter()
        .position(|l| *l == "  version:")
        .expect("a `version` input in action.yml");
    let default = lines[start + 1..]
        .iter()
        .take_while(|l| l.starts_with("    "))
        .find_map(|l| l.trim().strip_prefix("default:"))
        .expect("a default for the `version` input")
        .trim()
        .trim_matches(|c| c == '"' || c == '\'');
    assert_eq!(
        default, version,
        "action.yml's `version` input defaults to {default} but Cargo.toml is {version}"
    );

    // cargo binstall finds the same archives dist.sh writes.
    let toml = std::fs::read_to_string(repo().join("Cargo.toml")).expect("Cargo.toml");
    assert!(
        toml.contains("[package.metadata.binstall]"),
        "binstall metadata"
    );
    assert!(
        toml.contains("edgegate-v{ version }-{ target }.tar.gz"),
        "binstall pkg-url names the dist.sh archive"
    );
}
