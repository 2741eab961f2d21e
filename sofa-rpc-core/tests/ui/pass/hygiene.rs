//! The generated code needs no prelude and no imports of its own.
#![no_implicit_prelude]

mod api {
    #[::sofa_rpc_core::service(interface = "com.example.Hygiene")]
    pub trait Hygiene {
        async fn echo(&self, message: ::std::string::String) -> ::std::string::String;
        async fn maybe(&self, n: i32) -> ::std::result::Result<i32, ::std::string::String>;
    }

    pub struct Impl;

    impl Hygiene for Impl {
        async fn echo(&self, message: ::std::string::String) -> ::std::string::String {
            message
        }
        async fn maybe(&self, n: i32) -> ::std::result::Result<i32, ::std::string::String> {
            ::std::result::Result::Ok(n)
        }
    }

    #[::sofa_rpc_core::reference(direct_url = "127.0.0.1:1")]
    pub fn hygiene() -> ::sofa_rpc_core::Result<HygieneClient>;
}

fn main() {
    let _server = api::HygieneServer::new(api::Impl);
    let _client = api::hygiene();
}
