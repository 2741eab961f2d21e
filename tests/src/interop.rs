//! The services every SOFA peer in the interop tests serves and calls, defined as the Java and
//! Node peers define them: `com.example.EchoService:1.0` (Hessian) and
//! `com.example.ProtoEchoService:1.0` (protobuf, `tests/peers/proto/echo.proto`).

use std::collections::HashMap;

use bytes::Bytes;
use serde::{Deserialize, Serialize};
use sofa_rpc_core::hessian::Value;
use sofa_rpc_core::RemoteException;

/// The Java class `com.example.User`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename = "com.example.User")]
pub struct User {
    /// `String name`.
    pub name: String,
    /// `int age`.
    pub age: i32,
}

sofa_rpc_core::java_type!(User => "com.example.User");

/// `com.example.EchoService:1.0`.
#[sofa_rpc_core::service(interface = "com.example.EchoService")]
pub trait EchoService {
    /// `String echo(String)`.
    async fn echo(&self, message: String) -> String;
    /// `int add(int, int)`.
    async fn add(&self, a: i32, b: i32) -> i32;
    /// `long echoLong(long)`.
    #[sofa(name = "echoLong")]
    async fn echo_long(&self, n: i64) -> i64;
    /// `double echoDouble(double)`.
    #[sofa(name = "echoDouble")]
    async fn echo_double(&self, d: f64) -> f64;
    /// `boolean echoBool(boolean)`.
    #[sofa(name = "echoBool")]
    async fn echo_bool(&self, b: bool) -> bool;
    /// `byte[] echoBytes(byte[])`.
    #[sofa(name = "echoBytes")]
    async fn echo_bytes(&self, bytes: Bytes) -> Bytes;
    /// `List echoList(List)`.
    #[sofa(name = "echoList")]
    async fn echo_list(&self, list: Vec<Value>) -> Vec<Value>;
    /// `Map echoMap(Map)`.
    #[sofa(name = "echoMap")]
    async fn echo_map(&self, map: HashMap<String, Value>) -> HashMap<String, Value>;
    /// `User echoUser(User)`.
    #[sofa(name = "echoUser")]
    async fn echo_user(&self, user: User) -> User;
    /// Throws `boom: <message>`.
    async fn fail(&self, message: String) -> Result<String, RemoteException>;
    /// Node's peer returns an exception object `app error: <message>`.
    #[sofa(name = "failReturn")]
    async fn fail_return(&self, message: String) -> Result<String, RemoteException>;
}

/// The Rust implementation of `EchoService`.
#[derive(Clone, Copy, Debug, Default)]
pub struct Echo;

impl EchoService for Echo {
    async fn echo(&self, message: String) -> String {
        message
    }
    async fn add(&self, a: i32, b: i32) -> i32 {
        a.wrapping_add(b)
    }
    async fn echo_long(&self, n: i64) -> i64 {
        n
    }
    async fn echo_double(&self, d: f64) -> f64 {
        d
    }
    async fn echo_bool(&self, b: bool) -> bool {
        b
    }
    async fn echo_bytes(&self, bytes: Bytes) -> Bytes {
        bytes
    }
    async fn echo_list(&self, list: Vec<Value>) -> Vec<Value> {
        list
    }
    async fn echo_map(&self, map: HashMap<String, Value>) -> HashMap<String, Value> {
        map
    }
    async fn echo_user(&self, user: User) -> User {
        user
    }
    async fn fail(&self, message: String) -> Result<String, RemoteException> {
        Err(RemoteException::new(
            "java.lang.RuntimeException",
            format!("boom: {message}"),
        ))
    }
    async fn fail_return(&self, message: String) -> Result<String, RemoteException> {
        Err(RemoteException::new(
            "java.lang.Exception",
            format!("app error: {message}"),
        ))
    }
}

/// `com.example.Group`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, prost::Enumeration)]
#[repr(i32)]
pub enum Group {
    /// `A = 0`.
    A = 0,
    /// `B = 1`.
    B = 1,
}

/// `com.example.EchoRequest`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct EchoRequest {
    /// `string name = 1`.
    #[prost(string, tag = "1")]
    pub name: String,
    /// `Group group = 2`.
    #[prost(enumeration = "Group", tag = "2")]
    pub group: i32,
}

/// `com.example.EchoResponse`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct EchoResponse {
    /// `int32 code = 1`.
    #[prost(int32, tag = "1")]
    pub code: i32,
    /// `string message = 2`.
    #[prost(string, tag = "2")]
    pub message: String,
}

/// `com.example.ProtoEchoService:1.0`.
#[sofa_rpc_core::service(interface = "com.example.ProtoEchoService")]
pub trait ProtoEchoService {
    /// Answers `{code: 200, message: "hello <name>, you are in <group>"}`.
    #[sofa(name = "echoObj")]
    async fn echo_obj(&self, request: EchoRequest) -> EchoResponse;
    /// Fails with `proto boom: <name>`.
    #[sofa(name = "failObj")]
    async fn fail_obj(&self, request: EchoRequest) -> Result<EchoResponse, String>;
}

/// The Rust implementation of `ProtoEchoService`.
#[derive(Clone, Copy, Debug, Default)]
pub struct ProtoEcho;

impl ProtoEchoService for ProtoEcho {
    async fn echo_obj(&self, request: EchoRequest) -> EchoResponse {
        let group = Group::try_from(request.group).map_or("?", |g| match g {
            Group::A => "A",
            Group::B => "B",
        });
        EchoResponse {
            code: 200,
            message: format!("hello {}, you are in {group}", request.name),
        }
    }
    async fn fail_obj(&self, request: EchoRequest) -> Result<EchoResponse, String> {
        Err(format!("proto boom: {}", request.name))
    }
}
