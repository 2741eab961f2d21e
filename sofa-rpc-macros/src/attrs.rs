//! `key = value` attribute arguments.

use proc_macro2::{Span, TokenStream};
use syn::parse::Parser;
use syn::punctuated::Punctuated;
use syn::{Expr, ExprLit, Lit, LitInt, LitStr, MetaNameValue, Token};

/// Parsed `key = "value"` / `key = 123` pairs, each kept with its span.
pub(crate) struct Args {
    pairs: Vec<(syn::Ident, Lit)>,
}

impl Args {
    /// Parses the attribute's tokens, accepting only the `allowed` keys.
    pub(crate) fn parse(tokens: TokenStream, allowed: &[&str]) -> syn::Result<Self> {
        let metas = Punctuated::<MetaNameValue, Token![,]>::parse_terminated.parse2(tokens)?;
        let mut pairs: Vec<(syn::Ident, Lit)> = Vec::new();
        for meta in metas {
            let key = meta.path.get_ident().cloned().ok_or_else(|| {
                syn::Error::new_spanned(&meta.path, "expected a plain key such as `version`")
            })?;
            if !allowed.iter().any(|a| key == a) {
                return Err(syn::Error::new(
                    key.span(),
                    format!(
                        "unknown key `{key}`; expected one of: {}",
                        allowed.join(", ")
                    ),
                ));
            }
            if pairs.iter().any(|(k, _)| *k == key) {
                return Err(syn::Error::new(
                    key.span(),
                    format!("`{key}` is given twice"),
                ));
            }
            let Expr::Lit(ExprLit { lit, .. }) = meta.value else {
                return Err(syn::Error::new_spanned(
                    meta.value,
                    "expected a literal such as \"text\" or 3000",
                ));
            };
            pairs.push((key, lit));
        }
        Ok(Args { pairs })
    }

    fn get(&self, key: &str) -> Option<&Lit> {
        self.pairs.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    /// A string value.
    pub(crate) fn string(&self, key: &str) -> syn::Result<Option<LitStr>> {
        match self.get(key) {
            None => Ok(None),
            Some(Lit::Str(s)) => Ok(Some(s.clone())),
            Some(other) => Err(syn::Error::new(
                other.span(),
                format!("`{key}` takes a string, e.g. {key} = \"...\""),
            )),
        }
    }

    /// An unsigned integer value.
    pub(crate) fn int(&self, key: &str) -> syn::Result<Option<LitInt>> {
        match self.get(key) {
            None => Ok(None),
            Some(Lit::Int(i)) => {
                i.base10_parse::<u64>()?;
                Ok(Some(i.clone()))
            }
            Some(other) => Err(syn::Error::new(
                other.span(),
                format!("`{key}` takes a number, e.g. {key} = 3000"),
            )),
        }
    }
}

/// The `#[sofa(...)]` helper attribute on a method or argument: removes it from `attrs` and
/// returns its arguments.
pub(crate) fn take_sofa_attr(
    attrs: &mut Vec<syn::Attribute>,
    allowed: &[&str],
) -> syn::Result<Option<Args>> {
    let mut found = None;
    let mut error: Option<syn::Error> = None;
    attrs.retain(|attr| {
        if !attr.path().is_ident("sofa") {
            return true;
        }
        let parsed = match &attr.meta {
            syn::Meta::List(list) => Args::parse(list.tokens.clone(), allowed),
            _ => Err(syn::Error::new_spanned(
                attr,
                "expected #[sofa(key = \"value\")]",
            )),
        };
        match parsed {
            Ok(args) if found.is_none() => found = Some(args),
            Ok(_) => {
                error.get_or_insert_with(|| {
                    syn::Error::new_spanned(attr, "only one #[sofa(...)] is allowed here")
                });
            }
            Err(e) => {
                error.get_or_insert(e);
            }
        }
        false
    });
    match error {
        Some(e) => Err(e),
        None => Ok(found),
    }
}

/// A string literal with the call site's span.
pub(crate) fn lit(value: &str) -> LitStr {
    LitStr::new(value, Span::call_site())
}
