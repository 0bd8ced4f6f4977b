//! A file is known by a hash of its head (the first [`HEAD_BYTES`] bytes, or all of it when
//! shorter), the log format and the server. A checkpoint keeps how many bytes it hashed, so a
//! file shorter than the head that has grown since is still recognised.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};

use licmon_core::ServerId;
use sha2::{Digest, Sha256};

pub const HEAD_BYTES: u64 = 4096;

/// Hash of the first `len` bytes of `file` (which must have at least that many).
pub fn head_hash(
    file: &mut File,
    len: u64,
    format: &str,
    server: ServerId,
) -> std::io::Result<String> {
    let mut head = Vec::with_capacity(len as usize);
    file.seek(SeekFrom::Start(0))?;
    file.by_ref().take(len).read_to_end(&mut head)?;
    if (head.len() as u64) < len {
        return Err(std::io::Error::new(
            std::io::ErrorKind::UnexpectedEof,
            "the file shrank while it was read",
        ));
    }
    let mut h = Sha256::new();
    h.update(format.as_bytes());
    h.update([0]);
    h.update(server.to_string().as_bytes());
    h.update([0]);
    h.update(&head);
    Ok(h.finalize().iter().map(|b| format!("{b:02x}")).collect())
}
