//! The async runtime of a command: [`block_on`] builds it once per command, runs the command's
//! future and shuts it down. Must not reach into clap, print, or pick exit codes.

use std::future::Future;
use std::time::Duration;

/// How long tasks still running when the command's future is done (signal watchers, server
/// connections) get before the runtime drops them.
const SHUTDOWN_GRACE: Duration = Duration::from_millis(200);

/// The runtime could not be built (threads or the I/O driver could not be created).
#[derive(Debug, thiserror::Error)]
#[error("failed to start the async runtime")]
pub struct RuntimeError(#[source] std::io::Error);

/// Runs `future` to completion on a runtime built for this command, so a command builds one.
pub fn block_on<F: Future>(future: F) -> Result<F::Output, RuntimeError> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(RuntimeError)?;
    let output = runtime.block_on(future);
    runtime.shutdown_timeout(SHUTDOWN_GRACE);
    Ok(output)
}
