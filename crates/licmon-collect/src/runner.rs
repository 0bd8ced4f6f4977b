//! Running a vendor's status utility defensively: argv (never a shell), stdin closed (or, for
//! utilities driven by commands on stdin like DSLS's `DSLicSrv -admin`, fed a fixed script and
//! then closed), a timeout, bounded output, and the child killed on timeout or when the poll is
//! dropped (shutdown). Custom XML status files are read with the same timeout and size cap.

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
    #[error("cannot read status file {path}: {message}")]
    File { path: String, message: String },
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
            RunError::File { .. } => "file",
        }
    }
}

/// Runs `argv[0]` with the rest as arguments, stdin closed.
pub async fn run_utility(
    argv: &[String],
    timeout: Duration,
    max_output: usize,
) -> Result<RunOutput, RunError> {
    run_utility_with_input(argv, None, timeout, max_output).await
}

/// Runs `argv[0]` with the rest as arguments; `input`, when given, is written to its stdin,
/// which is then closed (a utility that stops reading early does not fail the run: what it
/// printed is what counts). The write is part of the timeout.
pub async fn run_utility_with_input(
    argv: &[String],
    input: Option<&[u8]>,
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
        .stdin(if input.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| spawn_error(program, e))?;
    let stdout = child.stdout.take();
    let stderr = child.stderr.take();
    let stdin = child.stdin.take();
    let write_input = async move {
        if let (Some(mut pipe), Some(bytes)) = (stdin, input) {
            use tokio::io::AsyncWriteExt;
            // A broken pipe (the utility exited or closed stdin) is not an error of the run.
            let _ = pipe.write_all(bytes).await;
            let _ = pipe.shutdown().await;
        }
    };
    let run = async {
        let (out, err, ()) = tokio::join!(
            read_bounded(stdout, max_output),
            read_bounded(stderr, max_output),
            write_input
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

/// Reads a status file (custom XML) as if a utility had printed it: at most `max` bytes, within
/// `timeout` (a file on a hung network share must not stall the poll loop).
pub async fn read_status_file(
    path: &Path,
    timeout: Duration,
    max: usize,
) -> Result<RunOutput, RunError> {
    let file_error = |e: std::io::Error| RunError::File {
        path: path.display().to_string(),
        message: match e.kind() {
            std::io::ErrorKind::NotFound => "no such file".to_string(),
            std::io::ErrorKind::PermissionDenied => "permission denied".to_string(),
            _ => e.to_string(),
        },
    };
    let read = async {
        let file = tokio::fs::File::open(path).await.map_err(file_error)?;
        let meta = file.metadata().await.map_err(file_error)?;
        if !meta.is_file() {
            return Err(RunError::File {
                path: path.display().to_string(),
                message: "not a regular file".to_string(),
            });
        }
        if meta.len() > max as u64 {
            return Err(RunError::OutputTooLarge(max));
        }
        read_bounded(Some(file), max).await
    };
    match tokio::time::timeout(timeout, read).await {
        Err(_) => Err(RunError::Timeout(timeout)),
        Ok(stdout) => Ok(RunOutput {
            stdout: stdout?,
            stderr: String::new(),
            exit_code: Some(0),
        }),
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

    #[tokio::test]
    async fn input_is_written_to_stdin_then_closed() {
        let out = run_utility_with_input(
            &argv(&[
                "sh",
                "-c",
                "while read line; do echo \"got $line\"; done; echo eof",
            ]),
            Some(b"connect h 4085\ngetLicenseUsage -csv\n"),
            Duration::from_secs(5),
            1024,
        )
        .await
        .unwrap();
        assert_eq!(
            out.stdout,
            "got connect h 4085\ngot getLicenseUsage -csv\neof\n"
        );
    }

    #[tokio::test]
    async fn a_utility_that_ignores_its_input_still_runs() {
        let big = vec![b'x'; 1 << 20];
        let out = run_utility_with_input(
            &argv(&["echo", "hi"]),
            Some(&big),
            Duration::from_secs(5),
            1024,
        )
        .await
        .unwrap();
        assert_eq!(out.stdout, "hi\n");
    }

    #[tokio::test]
    async fn a_utility_waiting_on_more_input_times_out() {
        // `cat` then `sleep`: reads all input, then hangs; the timeout still holds.
        let err = run_utility_with_input(
            &argv(&["sh", "-c", "cat >/dev/null; exec sleep 30"]),
            Some(b"quit\n"),
            Duration::from_millis(300),
            1024,
        )
        .await
        .unwrap_err();
        assert_eq!(err, RunError::Timeout(Duration::from_millis(300)));
    }

    #[tokio::test]
    async fn status_files_are_read_with_the_cap() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("status.xml");
        std::fs::write(&path, "<licmon-status version=\"1\"/>").unwrap();
        let out = read_status_file(&path, Duration::from_secs(5), 1024)
            .await
            .unwrap();
        assert_eq!(out.stdout, "<licmon-status version=\"1\"/>");
        let err = read_status_file(&path, Duration::from_secs(5), 8)
            .await
            .unwrap_err();
        assert_eq!(err, RunError::OutputTooLarge(8));
        let missing = dir.path().join("nope.xml");
        let err = read_status_file(&missing, Duration::from_secs(5), 1024)
            .await
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            format!(
                "cannot read status file {}: no such file",
                missing.display()
            )
        );
        let err = read_status_file(dir.path(), Duration::from_secs(5), 1024)
            .await
            .unwrap_err();
        assert!(err.to_string().contains("not a regular file"), "{err}");
    }

    #[test]
    fn stderr_tail_is_one_short_line() {
        assert_eq!(stderr_tail("a\n  b\n"), "a b");
        assert_eq!(stderr_tail(&"x".repeat(1000)).len(), STDERR_TAIL);
    }
}
