//! `#[service]`: parse the trait into a model, then generate the trait, client and server.

mod client;
mod server;

use proc_macro2::TokenStream;
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{
    FnArg, GenericArgument, Ident, ItemTrait, LitStr, Pat, PathArguments, ReturnType, TraitItem,
    Type,
};

use crate::attrs::{lit, take_sofa_attr, Args};

/// One method of the service.
pub(crate) struct Method {
    pub(crate) ident: Ident,
    /// The method name on the wire.
    pub(crate) wire_name: LitStr,
    pub(crate) args: Vec<Arg>,
    pub(crate) output: Output,
    pub(crate) docs: Vec<syn::Attribute>,
}

/// One argument.
pub(crate) struct Arg {
    pub(crate) ident: Ident,
    pub(crate) ty: Type,
    pub(crate) java_type: Option<LitStr>,
}

/// What a method returns.
pub(crate) enum Output {
    /// Any type, `()` included.
    Plain(Box<Type>),
    /// `Result<T, E>`: `Err` travels as an application exception.
    Result { ok: Box<Type>, err: Box<Type> },
}

/// The whole service.
pub(crate) struct Service {
    pub(crate) vis: syn::Visibility,
    pub(crate) ident: Ident,
    pub(crate) client: Ident,
    pub(crate) server: Ident,
    pub(crate) interface: TokenStream,
    pub(crate) version: LitStr,
    pub(crate) unique_id: LitStr,
    pub(crate) methods: Vec<Method>,
}

impl Service {
    /// The hidden name of a method's argument struct.
    pub(crate) fn args_struct(&self, method: &Method) -> Ident {
        format_ident!("__{}_{}_Args", self.ident, method.ident)
    }
}

pub(crate) fn expand(attr: TokenStream, item: TokenStream) -> syn::Result<TokenStream> {
    let args = Args::parse(attr, &["interface", "version", "unique_id"])?;
    let mut item: ItemTrait = syn::parse2(item)
        .map_err(|e| syn::Error::new(e.span(), "#[service] goes on a trait of async methods"))?;
    if !item.generics.params.is_empty() || item.generics.where_clause.is_some() {
        return Err(syn::Error::new_spanned(
            &item.generics,
            "a service trait cannot be generic",
        ));
    }
    let ident = item.ident.clone();
    let interface = match args.string("interface")? {
        Some(name) => {
            if name.value().trim().is_empty() {
                return Err(syn::Error::new(
                    name.span(),
                    "the interface name cannot be empty",
                ));
            }
            quote!(#name)
        }
        None => {
            let name = ident.to_string();
            quote!(::core::concat!(::core::module_path!(), "::", #name))
        }
    };
    let service = Service {
        vis: item.vis.clone(),
        client: format_ident!("{}Client", ident),
        server: format_ident!("{}Server", ident),
        ident,
        interface,
        version: args.string("version")?.unwrap_or_else(|| lit("1.0")),
        unique_id: args.string("unique_id")?.unwrap_or_else(|| lit("")),
        methods: parse_methods(&mut item)?,
    };
    let trait_def = rewrite_trait(item);
    let client = client::generate(&service);
    let server = server::generate(&service);
    Ok(quote! {
        #trait_def
        #client
        #server
    })
}

fn parse_methods(item: &mut ItemTrait) -> syn::Result<Vec<Method>> {
    let mut methods: Vec<Method> = Vec::new();
    let mut errors: Option<syn::Error> = None;
    for trait_item in &mut item.items {
        match parse_method(trait_item) {
            Ok(method) => {
                if let Some(dup) = methods
                    .iter()
                    .find(|m| m.wire_name.value() == method.wire_name.value())
                {
                    push(
                        &mut errors,
                        syn::Error::new(
                            method.wire_name.span(),
                            format!(
                                "two methods are named `{}` on the wire (see `{}`)",
                                method.wire_name.value(),
                                dup.ident
                            ),
                        ),
                    );
                }
                methods.push(method);
            }
            Err(e) => push(&mut errors, e),
        }
    }
    match errors {
        Some(e) => Err(e),
        None => Ok(methods),
    }
}

fn push(errors: &mut Option<syn::Error>, e: syn::Error) {
    match errors {
        Some(all) => all.combine(e),
        None => *errors = Some(e),
    }
}

fn parse_method(item: &mut TraitItem) -> syn::Result<Method> {
    let TraitItem::Fn(f) = item else {
        return Err(syn::Error::new_spanned(
            item,
            "a service trait holds only async methods",
        ));
    };
    let sig = &mut f.sig;
    if sig.asyncness.is_none() {
        return Err(syn::Error::new(
            sig.fn_token.span(),
            "service methods must be `async fn`",
        ));
    }
    if f.default.is_some() {
        return Err(syn::Error::new_spanned(
            &f.default,
            "service methods cannot have a default body",
        ));
    }
    if !sig.generics.params.is_empty() || sig.generics.where_clause.is_some() {
        return Err(syn::Error::new_spanned(
            &sig.generics,
            "service methods cannot be generic",
        ));
    }
    let wire_name = match take_sofa_attr(&mut f.attrs, &["name"])? {
        Some(args) => args
            .string("name")?
            .ok_or_else(|| syn::Error::new(sig.ident.span(), "expected #[sofa(name = \"...\")]"))?,
        None => LitStr::new(&sig.ident.to_string(), sig.ident.span()),
    };
    let mut inputs = sig.inputs.iter_mut();
    match inputs.next() {
        Some(FnArg::Receiver(r)) if r.reference.is_some() && r.mutability.is_none() => {}
        Some(other) => {
            return Err(syn::Error::new_spanned(
                other,
                "service methods take `&self` first",
            ));
        }
        None => {
            return Err(syn::Error::new(
                sig.ident.span(),
                "service methods take `&self` first",
            ))
        }
    }
    let mut args = Vec::new();
    for input in inputs {
        let FnArg::Typed(pat_type) = input else {
            return Err(syn::Error::new_spanned(input, "unexpected receiver"));
        };
        let java_type = match take_sofa_attr(&mut pat_type.attrs, &["java_type"])? {
            Some(a) => a.string("java_type")?,
            None => None,
        };
        let Pat::Ident(pat) = pat_type.pat.as_ref() else {
            return Err(syn::Error::new_spanned(
                &pat_type.pat,
                "arguments of service methods must be plain names",
            ));
        };
        check_owned(&pat_type.ty)?;
        args.push(Arg {
            ident: pat.ident.clone(),
            ty: (*pat_type.ty).clone(),
            java_type,
        });
    }
    let output = match &sig.output {
        ReturnType::Default => Output::Plain(Box::new(syn::parse_quote!(()))),
        ReturnType::Type(_, ty) => {
            check_owned(ty)?;
            match result_parts(ty) {
                Some((ok, err)) => Output::Result {
                    ok: Box::new(ok),
                    err: Box::new(err),
                },
                None => Output::Plain(ty.clone()),
            }
        }
    };
    let docs = f
        .attrs
        .iter()
        .filter(|a| a.path().is_ident("doc"))
        .cloned()
        .collect();
    Ok(Method {
        ident: sig.ident.clone(),
        wire_name,
        args,
        output,
        docs,
    })
}

/// Values cross the network: they must be owned.
fn check_owned(ty: &Type) -> syn::Result<()> {
    match ty {
        Type::Reference(r) => Err(syn::Error::new_spanned(
            r,
            "service methods take and return owned types (for example `String`, not `&str`)",
        )),
        Type::ImplTrait(t) => Err(syn::Error::new_spanned(
            t,
            "service methods take and return concrete types, not `impl Trait`",
        )),
        _ => Ok(()),
    }
}

/// `Result<T, E>` -> (T, E).
fn result_parts(ty: &Type) -> Option<(Type, Type)> {
    let Type::Path(path) = ty else { return None };
    let last = path.path.segments.last()?;
    if last.ident != "Result" {
        return None;
    }
    let PathArguments::AngleBracketed(args) = &last.arguments else {
        return None;
    };
    let mut types = args.args.iter().filter_map(|a| match a {
        GenericArgument::Type(t) => Some(t.clone()),
        _ => None,
    });
    let ok = types.next()?;
    let err = types.next()?;
    types.next().is_none().then_some((ok, err))
}

/// The trait as users implement it: each `async fn` becomes a method returning a `Send`
/// future, and the trait requires `Send + Sync + 'static` so servers can share it.
fn rewrite_trait(mut item: ItemTrait) -> TokenStream {
    for trait_item in &mut item.items {
        if let TraitItem::Fn(f) = trait_item {
            let sig = &mut f.sig;
            sig.asyncness = None;
            let output = match &sig.output {
                ReturnType::Default => quote!(()),
                ReturnType::Type(_, ty) => quote!(#ty),
            };
            let span = sig.ident.span();
            sig.output = syn::parse_quote_spanned! {span=>
                -> impl ::core::future::Future<Output = #output> + ::core::marker::Send
            };
        }
    }
    item.supertraits
        .push(syn::parse_quote!(::core::marker::Send));
    item.supertraits
        .push(syn::parse_quote!(::core::marker::Sync));
    item.supertraits.push(syn::parse_quote!('static));
    if item.colon_token.is_none() {
        item.colon_token = Some(Default::default());
    }
    let span = item.ident.span();
    quote_spanned!(span=> #item)
}
