//! Upload benchmark client: uploads one model file to an AI Hub (normally `edgegate hub-sim`)
//! and prints wall time and throughput as JSON, so `scripts/bench-upload.sh` can measure the
//! client's peak RSS around it. Without a file argument (as under `cargo test --all-targets` or
//! `cargo bench`) it does nothing. Configuration comes from the usual chain (`QAIHUB_API_URL`,
//! `QAIHUB_API_TOKEN`, client.ini).

use std::path::PathBuf;
use std::time::Instant;

use edgegate::hub::client::{ClientOptions, HubClient};
use edgegate::hub::config::{HubEnv, HubOptions, resolve};

fn main() {
    let file = std::env::args_os()
        .skip(1)
        .find(|a| !a.to_string_lossy().starts_with("--"));
    let Some(path) = file.map(PathBuf::from) else {
        eprintln!(
            "hub_upload: no model file given, nothing to measure (see scripts/bench-upload.sh)"
        );
        return;
    };
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: failed to start the async runtime: {e}");
            std::process::exit(3);
        }
    };
    let result = runtime.block_on(async {
        let config = resolve(&HubOptions::default(), &HubEnv::from_process())?;
        let client = HubClient::new(config, ClientOptions::default())?;
        let started = Instant::now();
        let up = client.upload_model(&path, None).await?;
        Ok::<_, edgegate::hub::HubError>((up, started.elapsed()))
    });
    match result {
        Ok((up, elapsed)) => {
            let secs = elapsed.as_secs_f64();
            let mib = up.size as f64 / (1024.0 * 1024.0);
            println!(
                "{{\"model_id\":\"{}\",\"bytes\":{},\"parts\":{},\"seconds\":{:.3},\"mib_per_s\":{:.1}}}",
                up.model_id,
                up.size,
                up.parts,
                secs,
                mib / secs.max(1e-9)
            );
        }
        Err(e) => {
            eprintln!("error: failed to upload {}: {e}", path.display());
            std::process::exit(3);
        }
    }
}
