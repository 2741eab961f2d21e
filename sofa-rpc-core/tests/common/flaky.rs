//! An `EchoService` whose `echo` fails (the method panics, so the provider answers a framework
//! error) while `failing` is set, and counts the calls it gets.

#![allow(dead_code, unreachable_pub, missing_docs, clippy::panic)]

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;

use super::common::{EchoService, Refused, User};

#[derive(Clone, Default)]
pub struct Flaky {
    pub failing: Arc<AtomicBool>,
    pub calls: Arc<AtomicUsize>,
}

impl Flaky {
    pub fn failing() -> Self {
        let flaky = Flaky::default();
        flaky.failing.store(true, Ordering::SeqCst);
        flaky
    }

    pub fn set_failing(&self, on: bool) {
        self.failing.store(on, Ordering::SeqCst);
    }

    pub fn calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }
}

impl EchoService for Flaky {
    async fn echo(&self, message: String) -> String {
        self.calls.fetch_add(1, Ordering::SeqCst);
        if self.failing.load(Ordering::SeqCst) {
            panic!("flaky provider fails on purpose");
        }
        message
    }
    async fn add(&self, a: i32, b: i32) -> i32 {
        a + b
    }
    async fn echo_user(&self, user: User) -> User {
        user
    }
    async fn sleep(&self, ms: u64) -> u64 {
        tokio::time::sleep(std::time::Duration::from_millis(ms)).await;
        ms
    }
    async fn refuse(&self, why: String) -> Result<String, Refused> {
        Err(Refused(why))
    }
    async fn explode(&self) -> String {
        panic!("kaboom")
    }
    async fn hit(&self) {}
    async fn baggage(&self) -> Vec<(String, String)> {
        Vec::new()
    }
    async fn trace(&self) -> Option<(String, String)> {
        None
    }
}
