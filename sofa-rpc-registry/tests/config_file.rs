//! The `file` config source and [`LiveRules`] on a real file.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod common;

use std::path::PathBuf;

use common::live::{cache_dir, disk_copy_used, scenario, Writer};
use sofa_rpc_registry::config::open;

struct FileWriter(PathBuf);

impl Writer for FileWriter {
    async fn put(&self, raw: &str) {
        // As editors and deploy tools do: a temporary file renamed over the old one.
        let temp = self.0.with_extension("new");
        std::fs::write(&temp, raw).unwrap();
        std::fs::rename(&temp, &self.0).unwrap();
    }

    async fn delete(&self) {
        std::fs::remove_file(&self.0).unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn file_source_end_to_end() {
    let dir = cache_dir("file-src");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("limit.conf");
    let url = format!("file://{}", path.display());
    let target = open(&url).await.unwrap();
    assert_eq!(target.key, path.to_str().unwrap());
    let cache = scenario("file", target.clone(), &FileWriter(path.clone())).await;
    // The file is gone: its last good value comes from the disk copy.
    assert!(!path.exists());
    disk_copy_used(target, &cache, false).await;
    std::fs::remove_dir_all(&dir).unwrap();
    std::fs::remove_dir_all(&cache).unwrap();
}
