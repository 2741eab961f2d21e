//! The dispatcher `<Trait>Server<T>`.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use super::{Method, Output, Service};

pub(super) fn generate(service: &Service) -> TokenStream {
    let Service {
        vis,
        ident,
        client,
        server,
        ..
    } = service;
    let doc = format!(
        "Serves any implementation of [`{ident}`]: export it with \
         `sofa_rpc_core::Server::builder().service({server}::new(my_impl))`."
    );
    let names = service.methods.iter().map(|m| &m.wire_name);
    let arms = service.methods.iter().map(arm);
    let accept_arms = service.methods.iter().map(|m| accept_arm(service, m));
    let local_arms = service.methods.iter().map(|m| local_arm(service, m));
    let descriptors = service.methods.iter().map(descriptor);
    quote! {
        #[doc = #doc]
        #vis struct #server<T> {
            inner: ::sofa_rpc_core::__private::Arc<T>,
        }

        impl<T: #ident> #server<T> {
            /// Serves `service`.
            pub fn new(service: T) -> Self {
                #server { inner: ::sofa_rpc_core::__private::Arc::new(service) }
            }

            /// Serves a shared `service`.
            pub fn from_arc(service: ::sofa_rpc_core::__private::Arc<T>) -> Self {
                #server { inner: service }
            }
        }

        impl<T> ::core::clone::Clone for #server<T> {
            fn clone(&self) -> Self {
                #server { inner: ::core::clone::Clone::clone(&self.inner) }
            }
        }

        impl<T: #ident> ::sofa_rpc_core::__private::Dispatch for #server<T> {
            fn service_id(&self) -> ::sofa_rpc_core::__private::ServiceId {
                ::sofa_rpc_core::__private::ServiceId::new(
                    #client::INTERFACE,
                    #client::VERSION,
                    #client::UNIQUE_ID,
                )
            }

            fn methods(&self) -> &'static [&'static str] {
                &[#(#names),*]
            }

            fn method_descriptors(
                &self,
            ) -> ::std::vec::Vec<::sofa_rpc_core::__private::MethodDescriptor> {
                ::std::vec![#(#descriptors),*]
            }

            fn accepts_local(
                &self,
                method: &str,
                args: &dyn ::sofa_rpc_core::__private::Args,
            ) -> bool {
                let ::core::option::Option::Some(args) = ::sofa_rpc_core::__private::Args::as_any(args) else {
                    return false;
                };
                match method {
                    #(#accept_arms)*
                    _ => false,
                }
            }

            fn prepare_local(
                &self,
                method: &str,
                args: &dyn ::sofa_rpc_core::__private::Args,
            ) -> ::core::option::Option<::sofa_rpc_core::__private::Prepared> {
                let args = ::sofa_rpc_core::__private::Args::as_any(args)?;
                match method {
                    #(#local_arms)*
                    _ => ::core::option::Option::None,
                }
            }

            #[allow(unused_variables)]
            fn prepare(
                &self,
                method: &str,
                args: &mut dyn ::sofa_rpc_core::__private::RequestReader<'_>,
            ) -> ::sofa_rpc_core::__private::Result<::sofa_rpc_core::__private::Prepared> {
                match method {
                    #(#arms)*
                    _ => ::core::result::Result::Err(::sofa_rpc_core::__private::no_method(
                        &::sofa_rpc_core::__private::Dispatch::service_id(self),
                        method,
                    )),
                }
            }
        }
    }
}

/// The method's Java signature: the same parameter types the generated client sends in
/// `methodArgSigs`, so a generic caller that copies them reaches the same method.
fn descriptor(method: &Method) -> TokenStream {
    let wire_name = &method.wire_name;
    let params = method.args.iter().map(super::client::java_type_of);
    let ret = match &method.output {
        Output::Plain(ty) | Output::Result { ok: ty, .. } => {
            quote!(::sofa_rpc_core::__private::java_type!(#ty))
        }
    };
    quote! {
        ::sofa_rpc_core::__private::MethodDescriptor::new(
            #wire_name,
            ::std::vec![#(#params),*],
            #ret,
        )
    }
}

/// In-process: the stub's arguments are this definition's own type (a same-named service
/// defined elsewhere has another) and can be copied.
fn accept_arm(service: &Service, method: &Method) -> TokenStream {
    let wire_name = &method.wire_name;
    let args_struct = service.args_struct(method);
    quote! {
        #wire_name => args.downcast_ref::<#args_struct>().is_some() && #args_struct::__clonable(),
    }
}

/// In-process: the method called with copies of the stub's arguments; the reply is the one
/// the network path makes, its value kept as the method's own type.
fn local_arm(service: &Service, method: &Method) -> TokenStream {
    let Method {
        ident,
        wire_name,
        args,
        output,
        ..
    } = method;
    let args_struct = service.args_struct(method);
    let vars: Vec<_> = (0..args.len()).map(|i| format_ident!("arg{}", i)).collect();
    let reply = reply(output);
    quote! {
        #wire_name => {
            let (#(#vars,)*) = args.downcast_ref::<#args_struct>()?.__take()?;
            let inner = ::core::clone::Clone::clone(&self.inner);
            ::core::option::Option::Some(::sofa_rpc_core::__private::Box::pin(async move {
                let out = inner.#ident(#(#vars),*).await;
                #reply
            }))
        }
    }
}

/// The reply of a method's output `out`.
fn reply(output: &Output) -> TokenStream {
    match output {
        Output::Plain(ty) => quote! {
            ::sofa_rpc_core::__private::Reply::Value(::sofa_rpc_core::__private::owned!(#ty, out))
        },
        Output::Result { ok, err } => quote! {
            match out {
                ::core::result::Result::Ok(value) => ::sofa_rpc_core::__private::Reply::Value(
                    ::sofa_rpc_core::__private::owned!(#ok, value),
                ),
                ::core::result::Result::Err(error) => ::sofa_rpc_core::__private::Reply::AppError(
                    <#err as ::sofa_rpc_core::__private::AppError>::to_exception(&error),
                ),
            }
        },
    }
}

fn arm(method: &Method) -> TokenStream {
    let Method {
        ident,
        wire_name,
        args,
        output,
        ..
    } = method;
    let vars: Vec<_> = (0..args.len()).map(|i| format_ident!("arg{}", i)).collect();
    let decodes = args.iter().enumerate().map(|(i, a)| {
        let ty = &a.ty;
        let var = &vars[i];
        quote! {
            let #var: #ty = ::sofa_rpc_core::__private::decode!(#ty, args.next_arg()?)
                .map_err(|e| ::sofa_rpc_core::__private::bad_arg(#wire_name, #i, e))?;
        }
    });
    let reply = reply(output);
    let count = args.len();
    quote! {
        #wire_name => {
            args.set_arg_count(#count);
            #(#decodes)*
            let inner = ::core::clone::Clone::clone(&self.inner);
            ::core::result::Result::Ok(::sofa_rpc_core::__private::Box::pin(async move {
                let out = inner.#ident(#(#vars),*).await;
                #reply
            }))
        }
    }
}
