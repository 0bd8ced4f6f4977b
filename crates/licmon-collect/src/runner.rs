//! Running a vendor's status utility defensively: argv (never a shell), stdin closed, a timeout,
//! bounded output, and the child killed on timeout or when the poll is dropped (shutdown).

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use thiserror::Error;
use tokio::io::{AsyncRead, AsyncReadExt};
use tokio::process::Command;

/// How much of stderr an error message quotes.
const STDERR_TAIL: usize = 300;

/// What the utility printed, when it ran to the end.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunOutput {
    pub stdout: String,
    pub stderr: String,
    pub exit_code: Option<i32>,
}

/// Why running the utility failed. The `Display` text is the Offline reason users see.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum RunError {
    #[error("timeout after {} s", .0.as_secs())]
    Timeout(Duration),
    #[error("utility not found: {0}")]
    NotFound(String),
    #[error("utility not executable: {0}")]
    NotExecutable(String),
    #[error("cannot start {program}: {message}")]
    Spawn { program: String, message: String },
    #[error("output larger than {0} bytes")]
    OutputTooLarge(usize),
}

impl RunError {
    /// A short stable name for counting failures by kind.
    pub fn kind(&self) -> &'static str {
        match self {
            RunError::Timeout(_) => "timeout",
            RunError::NotFound(_) => "not_found",
            RunError::NotExecutable(_) => "not_executable",
            RunError::Spawn { .. } => "spawn",
            RunError::OutputTooLarge(_) => "output_too_large",
        }
    }
}

/// Runs `argv[0]` with the rest as arguments.
pub async fn run_utility(
    argv: &[String],
    timeout: Duration,
    max_output: usize,
) -> Result<RunOutput, RunError> {
    let Some((program, args)) = argv.split_first() else {
        return Err(RunError::Spawn {
            program: String::new(),
            message: "empty command".into(),
        });
    };
    let mut child = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| spawn_error(program, e))?;
    let stdout = child.stdout.take();
    let stderr = child.stderr.take();
    let run = async {
        let (out, err) = tokio::join!(
            read_bounded(stdout, max_output),
            read_bounded(stderr, max_output)
        );
        let status = child.wait().await;
        (out, err, status)
    };
    match tokio::time::timeout(timeout, run).await {
        Err(_) => {
            // `child` is dropped here with kill_on_drop; kill explicitly too, and reap it.
            Err(RunError::Timeout(timeout))
        }
        Ok((out, err, status)) => {
            let stdout = out?;
            let stderr = err.unwrap_or_default();
            let exit_code = status.ok().and_then(|s| s.code());
            Ok(RunOutput {
                stdout,
                stderr,
                exit_code,
            })
        }
    }
}

fn spawn_error(program: &str, e: std::io::Error) -> RunError {
    match e.kind() {
        std::io::ErrorKind::NotFound => RunError::NotFound(program.to_string()),
        std::io::ErrorKind::PermissionDenied => RunError::NotExecutable(program.to_string()),
        _ => RunError::Spawn {
            program: program.to_string(),
            message: e.to_string(),
        },
    }
}

/// Reads at most `max` bytes; more is an error (the child is killed when the poll ends).
/// Invalid UTF-8 (garbage DISPLAY fields are real) is replaced, not rejected.
async fn read_bounded(
    pipe: Option<impl AsyncRead + Unpin>,
    max: usize,
) -> Result<String, RunError> {
    let Some(mut pipe) = pipe else {
        return Ok(String::new());
    };
    let mut buf = Vec::with_capacity(8 * 1024);
    let mut chunk = [0u8; 16 * 1024];
    loop {
        let n = pipe.read(&mut chunk).await.unwrap_or(0);
        if n == 0 {
            break;
        }
        if buf.len() + n > max {
            return Err(RunError::OutputTooLarge(max));
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    Ok(match String::from_utf8(buf) {
        Ok(s) => s,
        Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
    })
}

/// The last characters of stderr, on one line, for an error message.
pub fn stderr_tail(stderr: &str) -> String {
    let flat: String = stderr.split_whitespace().collect::<Vec<_>>().join(" ");
    let chars: Vec<char> = flat.chars().collect();
    let start = chars.len().saturating_sub(STDERR_TAIL);
    chars[start..].iter().collect()
}

/// Whether a path names an executable file (for config checks and clear messages).
pub fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    path.metadata()
        .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn argv(parts: &[&str]) -> Vec<String> {
        parts.iter().map(|s| s.to_string()).collect()
    }

    #[tokio::test]
    async fn captures_stdout_and_exit_code() {
        let out = run_utility(
            &argv(&["sh", "-c", "echo hello; echo oops >&2; exit 3"]),
            Duration::from_secs(5),
            1024,
        )
        .await
        .unwrap();
        assert_eq!(out.stdout, "hello\n");
        assert_eq!(out.stderr, "oops\n");
        assert_eq!(out.exit_code, Some(3));
    }

    #[tokio::test]
    async fn a_missing_utility_says_which() {
        let err = run_utility(
            &argv(&["/opt/flexlm/lmutil-nope"]),
            Duration::from_secs(1),
            1024,
        )
        .await
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "utility not found: /opt/flexlm/lmutil-nope"
        );
    }

    #[tokio::test]
    async fn a_hanging_utility_times_out_and_is_killed() {
        let dir = tempfile::tempdir().unwrap();
        let pidfile = dir.path().join("pid");
        let script = format!("echo $$ > {}; exec sleep 30", pidfile.display());
        let err = run_utility(
            &argv(&["sh", "-c", &script]),
            Duration::from_millis(300),
            1024,
        )
        .await
        .unwrap_err();
        assert_eq!(err, RunError::Timeout(Duration::from_millis(300)));
        let pid = std::fs::read_to_string(&pidfile)
            .unwrap()
            .trim()
            .to_string();
        // The kill is asynchronous: give the kernel a moment, bounded.
        let gone = (0..50).any(|_| {
            std::thread::sleep(Duration::from_millis(20));
            let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
            stat.is_empty() || stat.split_whitespace().nth(2) == Some("Z")
        });
        assert!(gone, "process {pid} still running after timeout");
    }

    #[tokio::test]
    async fn output_is_bounded() {
        let err = run_utility(
            &argv(&["sh", "-c", "yes licmon | head -c 100000"]),
            Duration::from_secs(5),
            4096,
        )
        .await
        .unwrap_err();
        assert_eq!(err, RunError::OutputTooLarge(4096));
    }

    #[tokio::test]
    async fn invalid_utf8_is_kept_lossily() {
        let out = run_utility(&argv(&["printf", "a\\377b"]), Duration::from_secs(5), 1024)
            .await
            .unwrap();
        assert_eq!(out.stdout, "a\u{fffd}b");
    }

    #[test]
    fn stderr_tail_is_one_short_line() {
        assert_eq!(stderr_tail("a\n  b\n"), "a b");
        assert_eq!(stderr_tail(&"x".repeat(1000)).len(), STDERR_TAIL);
    }
}
