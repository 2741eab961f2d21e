//! The last good value of a key, on local disk: what a restart uses while the source is down.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::url::encode_component;

/// Longest file name written: file systems cap names at 255 bytes.
const MAX_NAME: usize = 200;

/// One key's copy: a file in the cache directory named after the source and the key.
#[derive(Clone, Debug)]
pub(super) struct DiskCopy {
    path: PathBuf,
}

impl DiskCopy {
    /// The copy of `key` from `source` in `dir`.
    pub(super) fn new(dir: &Path, source: &str, key: &str) -> Self {
        let mut name = encode_component(&format!("{source}{key}"));
        if name.len() > MAX_NAME {
            // Keep the end (the key's most telling part) and a digest of the whole, so two
            // long names that share their end still differ.
            let digest = fnv1a(name.as_bytes());
            let tail = name.len() - (MAX_NAME - 17);
            let tail = (tail..name.len())
                .find(|i| name.is_char_boundary(*i))
                .unwrap_or(name.len());
            name = format!("{digest:016x}-{}", &name[tail..]);
        }
        DiskCopy {
            path: dir.join(format!("{name}.last")),
        }
    }

    /// Where the copy lives.
    pub(super) fn path(&self) -> &Path {
        &self.path
    }

    /// The stored value; `None` when there is none yet.
    pub(super) fn load(&self) -> std::io::Result<Option<Vec<u8>>> {
        match std::fs::read(&self.path) {
            Ok(bytes) => Ok(Some(bytes)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Replaces the copy with `raw`, atomically: a reader (or a crash) sees the old copy or
    /// the new one, never half of one. Written to a temporary file in the same directory,
    /// flushed to disk, then renamed over the copy.
    pub(super) fn store(&self, raw: &[u8]) -> std::io::Result<()> {
        if let Some(dir) = self.path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let mut temp = self.path.clone().into_os_string();
        temp.push(format!(".{}.tmp", std::process::id()));
        let temp = PathBuf::from(temp);
        let written = (|| {
            let mut file = std::fs::File::create(&temp)?;
            file.write_all(raw)?;
            file.sync_all()?;
            std::fs::rename(&temp, &self.path)
        })();
        if written.is_err() {
            let _ = std::fs::remove_file(&temp);
        }
        written
    }
}

/// FNV-1a, 64 bits: a stable digest for file names (std's hasher may change between releases).
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn store_load_and_long_names() {
        let dir = std::env::temp_dir().join(format!("sofa-cfg-cache-{}", std::process::id()));
        let copy = DiskCopy::new(&dir, "etcd://127.0.0.1:2379", "/sofa/rules");
        assert_eq!(copy.load().unwrap(), None);
        copy.store(b"one").unwrap();
        copy.store(b"two").unwrap();
        assert_eq!(copy.load().unwrap(), Some(b"two".to_vec()));
        let names: Vec<_> = std::fs::read_dir(&dir).unwrap().collect();
        assert_eq!(names.len(), 1, "no temporary file left");
        let long = "k".repeat(400);
        let a = DiskCopy::new(&dir, "x://", &format!("a{long}"));
        let b = DiskCopy::new(&dir, "x://", &format!("b{long}"));
        assert_ne!(a.path(), b.path());
        assert!(a.path().file_name().unwrap().len() < 255);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
