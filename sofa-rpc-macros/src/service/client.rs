//! The client stub `<Trait>Client` and one hidden argument struct per method.

use proc_macro2::TokenStream;
use quote::quote;

use super::{Arg, Method, Output, Service};

pub(super) fn generate(service: &Service) -> TokenStream {
    let Service {
        vis,
        ident,
        client,
        interface,
        version,
        unique_id,
        ..
    } = service;
    let doc = format!(
        "Client stub of [`{ident}`]: each method returns a `sofa_rpc_core::Call` to await \
         (or send oneway, as a future, or with a callback)."
    );
    let arg_structs = service.methods.iter().map(|m| args_struct(service, m));
    let methods = service.methods.iter().map(|m| method(service, m));
    quote! {
        #(#arg_structs)*

        #[doc = #doc]
        #[derive(::core::clone::Clone, ::core::fmt::Debug)]
        #vis struct #client {
            client: ::sofa_rpc_core::__private::Client,
            service: ::sofa_rpc_core::__private::ServiceId,
            timeout: ::core::option::Option<::core::time::Duration>,
        }

        impl #client {
            /// The interface name.
            pub const INTERFACE: &'static str = #interface;
            /// The version the service definition names.
            pub const VERSION: &'static str = #version;
            /// The uniqueId the service definition names.
            pub const UNIQUE_ID: &'static str = #unique_id;

            /// A stub calling through `client`; the client's config may override the version
            /// and uniqueId.
            pub fn new(client: ::sofa_rpc_core::__private::Client) -> Self {
                let service = client.service_id(Self::INTERFACE, Self::VERSION, Self::UNIQUE_ID);
                #client { client, service, timeout: ::core::option::Option::None }
            }

            /// A stub with a client of its own, with default settings, for `url`: provider
            /// addresses (`bolt://host:port` or `host:port`, several separated by `;`) or a
            /// registry (`zookeeper://...`, `etcd://...`, `nacos://...`, `local://...`).
            pub fn connect(url: &str) -> ::sofa_rpc_core::Result<Self> {
                ::core::result::Result::Ok(Self::new(::sofa_rpc_core::__private::Client::connect(url)?))
            }

            /// The same stub with `timeout` for its calls (a call's own timeout still wins).
            pub fn with_timeout(mut self, timeout: ::core::time::Duration) -> Self {
                self.timeout = ::core::option::Option::Some(timeout);
                self
            }

            /// The same stub calling `version` of the service.
            pub fn with_version(mut self, version: &str) -> Self {
                self.service = ::sofa_rpc_core::__private::ServiceId::new(
                    self.service.interface(),
                    version,
                    self.service.unique_id(),
                );
                self
            }

            /// The same stub calling the service published under `unique_id`.
            pub fn with_unique_id(mut self, unique_id: &str) -> Self {
                self.service = ::sofa_rpc_core::__private::ServiceId::new(
                    self.service.interface(),
                    self.service.version(),
                    unique_id,
                );
                self
            }

            /// The client calls go through.
            pub fn client(&self) -> &::sofa_rpc_core::__private::Client {
                &self.client
            }

            /// The service the stub calls.
            pub fn service_id(&self) -> &::sofa_rpc_core::__private::ServiceId {
                &self.service
            }

            #(#methods)*
        }
    }
}

/// The Java type of an argument: its `java_type` attribute, else what its Rust type maps to.
pub(super) fn java_type_of(arg: &Arg) -> TokenStream {
    match &arg.java_type {
        Some(lit) => quote!(::std::borrow::Cow::Borrowed(#lit)),
        None => {
            let ty = &arg.ty;
            quote!(::sofa_rpc_core::__private::java_type!(#ty))
        }
    }
}

fn args_struct(service: &Service, method: &Method) -> TokenStream {
    let name = service.args_struct(method);
    let vis = &service.vis;
    let fields = method.args.iter().map(|a| {
        let (ident, ty) = (&a.ident, &a.ty);
        quote!(#ident: #ty)
    });
    let count = method.args.len();
    let tys: Vec<_> = method.args.iter().map(|a| &a.ty).collect();
    let idents: Vec<_> = method.args.iter().map(|a| &a.ident).collect();
    let java_types = method.args.iter().map(java_type_of);
    let arms = method.args.iter().enumerate().map(|(i, a)| {
        let ident = &a.ident;
        quote! {
            #i => ::core::option::Option::Some(
                ::sofa_rpc_core::__private::value_ref!(&self.#ident, &java[#i])
            ),
        }
    });
    quote! {
        #[doc(hidden)]
        #[allow(non_camel_case_types)]
        #vis struct #name {
            #(#fields,)*
        }

        impl ::sofa_rpc_core::__private::Args for #name {
            fn len(&self) -> usize {
                #count
            }

            #[allow(unused_variables, unreachable_code, clippy::match_single_binding)]
            fn arg(&self, index: usize) -> ::core::option::Option<::sofa_rpc_core::__private::ValueRef<'_>> {
                static JAVA: ::std::sync::OnceLock<[::std::borrow::Cow<'static, str>; #count]> =
                    ::std::sync::OnceLock::new();
                let java = JAVA.get_or_init(|| [#(#java_types),*]);
                match index {
                    #(#arms)*
                    _ => ::core::option::Option::None,
                }
            }

            fn as_any(&self) -> ::core::option::Option<&dyn ::core::any::Any> {
                ::core::option::Option::Some(self)
            }
        }

        #[allow(dead_code)]
        impl #name {
            /// Whether an in-process provider can own copies of these arguments.
            fn __clonable() -> bool {
                ::sofa_rpc_core::__private::all_clone!(#(#tys),*)
            }

            /// Copies of the arguments for an in-process provider, when every type is `Clone`.
            #[allow(clippy::unused_unit)]
            fn __take(&self) -> ::core::option::Option<(#(#tys,)*)> {
                ::core::option::Option::Some((
                    #(::sofa_rpc_core::__private::clone_of!(&self.#idents)?,)*
                ))
            }
        }
    }
}

fn method(service: &Service, method: &Method) -> TokenStream {
    let Method {
        ident,
        wire_name,
        args,
        output,
        docs,
    } = method;
    let args_struct = service.args_struct(method);
    let params = args.iter().map(|a| {
        let (ident, ty) = (&a.ident, &a.ty);
        quote!(#ident: #ty)
    });
    let names = args.iter().map(|a| &a.ident);
    let (result, decode) = match output {
        Output::Plain(ty) => (
            quote!(#ty),
            quote! {
                if let ::core::option::Option::Some(value) =
                    ::sofa_rpc_core::__private::local_value::<#ty>(&response)
                {
                    return value.map_err(::sofa_rpc_core::__private::bad_response);
                }
                match response.body()? {
                    ::sofa_rpc_core::__private::ResponseBody::Value(source) =>
                        ::sofa_rpc_core::__private::decode!(#ty, source)
                            .map_err(::sofa_rpc_core::__private::bad_response),
                    ::sofa_rpc_core::__private::ResponseBody::AppException(e) =>
                        ::core::result::Result::Err(::sofa_rpc_core::__private::unexpected_exception(e)),
                    ::sofa_rpc_core::__private::ResponseBody::Error(e) =>
                        ::core::result::Result::Err(e),
                }
            },
        ),
        Output::Result { ok, err } => (
            quote!(::core::result::Result<#ok, #err>),
            quote! {
                if let ::core::option::Option::Some(value) =
                    ::sofa_rpc_core::__private::local_value::<#ok>(&response)
                {
                    return value
                        .map(::core::result::Result::Ok)
                        .map_err(::sofa_rpc_core::__private::bad_response);
                }
                match response.body()? {
                    ::sofa_rpc_core::__private::ResponseBody::Value(source) =>
                        ::sofa_rpc_core::__private::decode!(#ok, source)
                            .map(::core::result::Result::Ok)
                            .map_err(::sofa_rpc_core::__private::bad_response),
                    ::sofa_rpc_core::__private::ResponseBody::AppException(e) =>
                        ::core::result::Result::Ok(::core::result::Result::Err(
                            <#err as ::sofa_rpc_core::__private::AppError>::from_exception(e),
                        )),
                    ::sofa_rpc_core::__private::ResponseBody::Error(e) =>
                        ::core::result::Result::Err(e),
                }
            },
        ),
    };
    quote! {
        #(#docs)*
        pub fn #ident(&self, #(#params),*) -> ::sofa_rpc_core::__private::Call<#result> {
            let args = #args_struct { #(#names),* };
            let mut invocation = ::sofa_rpc_core::__private::Invocation::new(
                ::core::clone::Clone::clone(&self.service),
                #wire_name,
                ::sofa_rpc_core::__private::Arc::new(args),
            );
            if let ::core::option::Option::Some(timeout) = self.timeout {
                invocation.context_mut().set_timeout(timeout);
            }
            ::sofa_rpc_core::__private::Call::new(
                ::core::clone::Clone::clone(&self.client),
                invocation,
                |response: ::sofa_rpc_core::__private::Response| { #decode },
            )
        }
    }
}
