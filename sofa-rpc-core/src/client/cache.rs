//! The last provider list each subscription saw, kept on disk, so that a consumer started while
//! its registry is down still finds the providers it knew.

use std::path::{Path, PathBuf};

use sofa_rpc_registry::{encode_component, ProviderInfo};

/// A directory of provider lists, one file per registry and service: one provider URL per
/// line.
#[derive(Clone, Debug)]
pub(crate) struct ProviderCache {
    dir: PathBuf,
}

/// Where provider lists are kept unless configured: `$XDG_CACHE_HOME/sofa-rpc-rs/providers`,
/// else `$HOME/.cache/sofa-rpc-rs/providers`, else the temporary directory.
pub(crate) fn default_dir() -> PathBuf {
    let base = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| Path::new(&h).join(".cache")))
        .unwrap_or_else(std::env::temp_dir);
    base.join("sofa-rpc-rs").join("providers")
}

impl ProviderCache {
    pub(crate) fn new(dir: PathBuf) -> Self {
        ProviderCache { dir }
    }

    fn file(&self, registry: &str, service: &str) -> PathBuf {
        self.dir.join(format!(
            "{}__{}.providers",
            encode_component(registry),
            encode_component(service)
        ))
    }

    /// Saves `providers` (atomically: a reader sees the old list or the new one).
    pub(crate) fn save(&self, registry: &str, service: &str, providers: &[ProviderInfo]) {
        let path = self.file(registry, service);
        let mut text = String::new();
        for p in providers {
            text.push_str(&p.to_string());
            text.push('\n');
        }
        let tmp = path.with_extension(format!("tmp{}", std::process::id()));
        let written = std::fs::create_dir_all(&self.dir)
            .and_then(|_| std::fs::write(&tmp, text))
            .and_then(|_| std::fs::rename(&tmp, &path));
        if let Err(e) = written {
            tracing::debug!(path = %path.display(), error = %e, "cannot save the provider list");
            let _ = std::fs::remove_file(&tmp);
        }
    }

    /// The list saved last for `service` of `registry`, if any.
    pub(crate) fn load(&self, registry: &str, service: &str) -> Option<Vec<ProviderInfo>> {
        let text = std::fs::read_to_string(self.file(registry, service)).ok()?;
        Some(
            text.lines()
                .filter(|l| !l.trim().is_empty())
                .filter_map(|l| l.parse().ok())
                .collect(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn saves_and_loads_lists() {
        let dir = std::env::temp_dir().join(format!("sofa-cache-test-{}", std::process::id()));
        let cache = ProviderCache::new(dir.clone());
        let list = vec![
            ProviderInfo::bolt("10.0.0.1", 1).with_param("weight", "5"),
            ProviderInfo::bolt("10.0.0.2", 2),
        ];
        assert!(cache.load("zookeeper://h:1", "a.B:1.0").is_none());
        cache.save("zookeeper://h:1", "a.B:1.0", &list);
        assert_eq!(cache.load("zookeeper://h:1", "a.B:1.0"), Some(list));
        cache.save("zookeeper://h:1", "a.B:1.0", &[]);
        assert_eq!(cache.load("zookeeper://h:1", "a.B:1.0"), Some(Vec::new()));
        let _ = std::fs::remove_dir_all(dir);
    }
}
