//! [`Serializers`]: the serializers a consumer or provider knows, by name and by codec byte.

use std::collections::HashMap;
use std::sync::Arc;

use super::Serializer;

/// Serializers by name and by codec byte: a consumer picks one by name, a provider finds the
/// one a request's codec byte names.
#[derive(Clone, Default)]
pub(crate) struct Serializers {
    by_name: HashMap<String, Arc<dyn Serializer>>,
    by_code: foldhash::HashMap<u8, Arc<dyn Serializer>>,
}

impl Serializers {
    /// Adds `serializer` under its name and codec byte, replacing any earlier one with either.
    pub(crate) fn insert(&mut self, serializer: Arc<dyn Serializer>) {
        self.by_name
            .insert(serializer.name().to_string(), serializer.clone());
        self.by_code.insert(serializer.code(), serializer);
    }

    /// Adds `serializer` under another name only (its codec byte keeps its owner).
    pub(crate) fn insert_as(&mut self, name: &str, serializer: Arc<dyn Serializer>) {
        self.by_name.insert(name.to_string(), serializer);
    }

    /// Makes `alias` another name of the serializer registered as `name`, if there is one.
    pub(crate) fn alias(&mut self, alias: &str, name: &str) {
        if let Some(s) = self.by_name(name).cloned() {
            self.insert_as(alias, s);
        }
    }

    pub(crate) fn by_name(&self, name: &str) -> Option<&Arc<dyn Serializer>> {
        self.by_name.get(name)
    }

    pub(crate) fn by_code(&self, code: u8) -> Option<&Arc<dyn Serializer>> {
        self.by_code.get(&code)
    }

    /// The registered names, aliases included.
    pub(crate) fn names(&self) -> impl Iterator<Item = &String> {
        self.by_name.keys()
    }

    /// The registered names, sorted.
    pub(crate) fn sorted_names(&self) -> Vec<&str> {
        let mut names: Vec<&str> = self.by_name.keys().map(String::as_str).collect();
        names.sort_unstable();
        names
    }
}
