//! Every feature of the macros in one service, plus a reference.

use serde::{Deserialize, Serialize};
use sofa_rpc_core::{reference, service, Dispatch, RemoteException, Result};

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename = "com.example.User")]
pub struct User {
    name: String,
}

#[service(interface = "com.example.UserService", version = "2.0", unique_id = "blue")]
pub trait UserService {
    /// Documented.
    async fn find(&self, id: i64) -> Option<User>;
    #[sofa(name = "saveUser")]
    async fn save(&self, #[sofa(java_type = "com.example.User")] user: User) -> Result<(), RemoteException>;
    async fn ping(&self);
    async fn count(&self) -> u64;
}

struct Users;

impl UserService for Users {
    async fn find(&self, _id: i64) -> Option<User> {
        None
    }
    async fn save(&self, _user: User) -> Result<(), RemoteException> {
        Ok(())
    }
    async fn ping(&self) {}
    async fn count(&self) -> u64 {
        0
    }
}

#[reference(direct_url = "bolt://127.0.0.1:12200", timeout = 1500, retries = 2, serialization = "msgpack")]
fn users() -> Result<UserServiceClient>;

fn main() {
    let server = UserServiceServer::new(Users);
    assert_eq!(server.service_id().unique_name(), "com.example.UserService:2.0:blue");
    assert_eq!(server.methods(), &["find", "saveUser", "ping", "count"]);
    let client = users().expect("a client builds without connecting");
    assert_eq!(client.service_id().unique_name(), "com.example.UserService:2.0:blue");
    assert_eq!(client.client().config().retries, 2);
    let call = client.save(User { name: "x".into() });
    assert_eq!(call.invocation().method(), "saveUser");
    let arg = call.invocation().args().arg(0).expect("one argument");
    assert_eq!(arg.java_type(), "com.example.User");
    let call = client.find(7);
    assert_eq!(call.invocation().args().arg(0).expect("id").java_type(), "long");
}
