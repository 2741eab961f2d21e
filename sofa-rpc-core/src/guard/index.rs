//! The index calls find their rules in: service, then method, with a hash made for short keys.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::Arc;

use crate::service_id::ServiceId;

/// A word-at-a-time multiplicative hash (as rustc's FxHash): the index is looked up on every
/// guarded call with short keys from the operator's own rules (no peer chooses them), where
/// SipHash's resistance to chosen keys is not needed and its cost is.
#[derive(Default)]
pub(crate) struct WordHasher(u64);

impl WordHasher {
    fn add(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
}

impl Hasher for WordHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        let mut words = bytes.chunks_exact(8);
        for word in &mut words {
            let mut buf = [0u8; 8];
            buf.copy_from_slice(word);
            self.add(u64::from_le_bytes(buf));
        }
        let rest = words.remainder();
        if !rest.is_empty() {
            let mut buf = [0u8; 8];
            if let Some(head) = buf.get_mut(..rest.len()) {
                head.copy_from_slice(rest);
            }
            self.add(u64::from_le_bytes(buf));
        }
    }

    fn write_u8(&mut self, byte: u8) {
        self.add(u64::from(byte));
    }
}

/// A map looked up on the call path.
type FastMap<V> = HashMap<String, V, BuildHasherDefault<WordHasher>>;

/// Rules of one kind for one service: by method, and for methods without rules of their own.
#[derive(Debug)]
pub(crate) struct ByMethod<T> {
    methods: FastMap<Arc<T>>,
    any: Option<Arc<T>>,
}

impl<T> ByMethod<T> {
    pub(crate) fn get(&self, method: &str) -> Option<&Arc<T>> {
        self.methods.get(method).or(self.any.as_ref())
    }
}

/// Services to their rules.
#[derive(Debug)]
pub(crate) struct Index<T> {
    services: FastMap<ByMethod<T>>,
    /// Whether any rule names a service by its unique name (else one lookup is enough).
    unique_names: bool,
}

impl<T> Index<T> {
    pub(crate) fn is_empty(&self) -> bool {
        self.services.is_empty()
    }

    /// The rules for `method` of `service`: those named by its unique name (which include the
    /// rules named by its interface), else those named by its interface.
    pub(crate) fn get(&self, service: &ServiceId, method: &str) -> Option<&Arc<T>> {
        if self.services.is_empty() {
            return None;
        }
        let by_unique = match self.unique_names {
            true => self.services.get(service.unique_name()),
            false => None,
        };
        let by_method = by_unique.or_else(|| self.services.get(service.interface()))?;
        by_method.get(method)
    }
}

/// One service's items: service-wide, and by method.
type Grouped<I> = (Vec<I>, HashMap<String, Vec<I>>);

/// Builds an index from (service, method, item) triples: a method's entry gathers its own items
/// and the service-wide ones. A service named by its unique name (`interface:version...`) also
/// gathers the items of its interface, after its own, so that one lookup finds them all; for
/// the kinds that take one rule, the most specific comes first: the method of the unique name,
/// the method of the interface, the unique name, the interface.
pub(crate) fn index<T: Default, I: Clone>(
    items: Vec<(String, Option<String>, I)>,
    add: impl Fn(&mut T, &I),
) -> Index<T> {
    let mut grouped: HashMap<String, Grouped<I>> = HashMap::new();
    for (service, method, item) in items {
        let entry = grouped.entry(service).or_default();
        match method {
            None => entry.0.push(item),
            Some(m) => entry.1.entry(m).or_default().push(item),
        }
    }
    let unique_names: Vec<String> = grouped
        .keys()
        .filter(|k| k.contains(':'))
        .cloned()
        .collect();
    for name in unique_names {
        let interface = name.split(':').next().unwrap_or_default();
        let Some((wide, methods)) = grouped.get(interface).cloned() else {
            continue;
        };
        if let Some(entry) = grouped.get_mut(&name) {
            for (m, items) in methods {
                entry.1.entry(m).or_default().extend(items);
            }
            entry.0.extend(wide);
        }
    }
    let services = grouped
        .into_iter()
        .map(|(service, (wide, methods))| {
            let methods = methods
                .into_iter()
                .map(|(m, own)| {
                    let mut rules = T::default();
                    // Own rules first: for one-of kinds (degrade, fault) the method's wins.
                    own.iter()
                        .chain(wide.iter())
                        .for_each(|i| add(&mut rules, i));
                    (m, Arc::new(rules))
                })
                .collect();
            let any = (!wide.is_empty()).then(|| {
                let mut rules = T::default();
                wide.iter().for_each(|i| add(&mut rules, i));
                Arc::new(rules)
            });
            (service, ByMethod { methods, any })
        })
        .collect::<FastMap<_>>();
    let unique_names = services.keys().any(|k| k.contains(':'));
    Index {
        services,
        unique_names,
    }
}
