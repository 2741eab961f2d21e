//! `#[reference]`: a function that returns a shared client built from configuration.

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{GenericArgument, PathArguments, ReturnType, Type};

use crate::attrs::Args;

const KEYS: &[&str] = &[
    "direct_url",
    "registry",
    "timeout",
    "connect_timeout",
    "serialization",
    "load_balancer",
    "cluster",
    "retries",
    "conn_num",
    "version",
    "unique_id",
    "app_name",
];

/// The function item, with or without a body (a declaration ending in `;` is accepted).
struct RefFn {
    attrs: Vec<syn::Attribute>,
    vis: syn::Visibility,
    sig: syn::Signature,
}

impl syn::parse::Parse for RefFn {
    fn parse(input: syn::parse::ParseStream<'_>) -> syn::Result<Self> {
        let attrs = input.call(syn::Attribute::parse_outer)?;
        let vis = input.parse()?;
        let sig: syn::Signature = input.parse()?;
        if input.peek(syn::Token![;]) {
            input.parse::<syn::Token![;]>()?;
        } else {
            let body: syn::Block = input.parse()?;
            if !body.stmts.is_empty() {
                return Err(syn::Error::new_spanned(
                    body,
                    "the body of a #[reference] function is generated; leave it empty or end the declaration with `;`",
                ));
            }
        }
        Ok(RefFn { attrs, vis, sig })
    }
}

pub(crate) fn expand(attr: TokenStream, item: TokenStream) -> syn::Result<TokenStream> {
    let args = Args::parse(attr, KEYS)?;
    let RefFn { attrs, vis, sig } = syn::parse2(item)?;
    if !sig.inputs.is_empty() {
        return Err(syn::Error::new_spanned(
            &sig.inputs,
            "a #[reference] function takes no arguments: its configuration is in the attribute",
        ));
    }
    if sig.asyncness.is_some() || !sig.generics.params.is_empty() {
        return Err(syn::Error::new(
            sig.span(),
            "a #[reference] function is a plain, non-generic `fn`",
        ));
    }
    let stub = stub_type(&sig.output)?;
    if args.string("direct_url")?.is_none() && args.string("registry")?.is_none() {
        return Err(syn::Error::new(
            sig.ident.span(),
            "a #[reference] needs `direct_url = \"...\"` or `registry = \"...\"`",
        ));
    }
    let mut config = quote!(::sofa_rpc_core::__private::ConsumerConfig::new());
    for key in [
        "direct_url",
        "registry",
        "serialization",
        "load_balancer",
        "cluster",
        "version",
        "unique_id",
        "app_name",
    ] {
        if let Some(value) = args.string(key)? {
            let method = syn::Ident::new(key, value.span());
            config = quote!(#config.#method(#value));
        }
    }
    for key in ["timeout", "connect_timeout"] {
        if let Some(ms) = args.int(key)? {
            let method = syn::Ident::new(key, ms.span());
            config = quote!(#config.#method(::core::time::Duration::from_millis(#ms)));
        }
    }
    for key in ["retries", "conn_num"] {
        if let Some(n) = args.int(key)? {
            let method = syn::Ident::new(key, n.span());
            config = quote!(#config.#method(#n));
        }
    }
    let output = &sig.output;
    let ident = &sig.ident;
    let span = sig.span();
    Ok(quote_spanned! {span=>
        #(#attrs)*
        #vis fn #ident() #output {
            static CLIENT: ::std::sync::OnceLock<#stub> = ::std::sync::OnceLock::new();
            if let ::core::option::Option::Some(stub) = CLIENT.get() {
                return ::core::result::Result::Ok(::core::clone::Clone::clone(stub));
            }
            let config = #config;
            let client = ::sofa_rpc_core::__private::Client::new(config)?;
            let stub = CLIENT.get_or_init(|| #stub::new(client));
            ::core::result::Result::Ok(::core::clone::Clone::clone(stub))
        }
    })
}

/// `-> Result<Stub, E>` -> `Stub`.
fn stub_type(output: &ReturnType) -> syn::Result<Type> {
    let err = || {
        syn::Error::new_spanned(
            output,
            "a #[reference] function returns `Result<FooClient, RpcError>` (or `sofa_rpc_core::Result<FooClient>`) for a generated client stub",
        )
    };
    let ReturnType::Type(_, ty) = output else {
        return Err(err());
    };
    let Type::Path(path) = ty.as_ref() else {
        return Err(err());
    };
    let last = path.path.segments.last().ok_or_else(err)?;
    if last.ident != "Result" {
        return Err(err());
    }
    let PathArguments::AngleBracketed(generic) = &last.arguments else {
        return Err(err());
    };
    match generic.args.first() {
        Some(GenericArgument::Type(stub)) => Ok(stub.clone()),
        _ => Err(err()),
    }
}
