//! Class definitions that open almost every SOFARPC body, recognised by their
//! exact encoding so the decoder can register them without parsing and
//! validating each name (a pure speed-up; other definitions take the normal path).

use std::sync::OnceLock;

use crate::dialect::Dialect;
use crate::encoder::{Encoder, Fields};

pub(super) struct KnownDef {
    pub name: &'static str,
    pub fields: &'static [&'static str],
    /// Encoding of the definition after its tag byte.
    pub bytes: Vec<u8>,
}

const KNOWN: &[(&str, &[&str])] = &[
    (
        "com.alipay.sofa.rpc.core.request.SofaRequest",
        &[
            "targetAppName",
            "methodName",
            "targetServiceUniqueName",
            "requestProps",
            "methodArgSigs",
        ],
    ),
    (
        "com.alipay.sofa.rpc.core.request.SofaRequest",
        &[
            "methodName",
            "methodArgSigs",
            "targetServiceUniqueName",
            "targetAppName",
            "requestProps",
        ],
    ),
    (
        "com.alipay.sofa.rpc.core.response.SofaResponse",
        &["isError", "errorMsg", "appResponse", "responseProps"],
    ),
];

fn build(dialect: Dialect) -> Vec<KnownDef> {
    KNOWN
        .iter()
        .filter_map(|&(name, fields)| {
            let mut enc = Encoder::new(dialect);
            enc.write_class_def_bytes(name, &Fields::Static(fields))
                .ok()?;
            let bytes = enc.into_inner().split_off(1);
            Some(KnownDef {
                name,
                fields,
                bytes,
            })
        })
        .collect()
}

/// The known definitions of a dialect.
pub(super) fn known_defs(dialect: Dialect) -> &'static [KnownDef] {
    static V3: OnceLock<Vec<KnownDef>> = OnceLock::new();
    static V4: OnceLock<Vec<KnownDef>> = OnceLock::new();
    match dialect {
        Dialect::V3 => V3.get_or_init(|| build(Dialect::V3)),
        Dialect::V4 => V4.get_or_init(|| build(Dialect::V4)),
    }
}
