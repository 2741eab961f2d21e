//! Connection observers hear of every connection opened and closed, on both ends.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::*;
use sofa_bolt::{Connection, ConnectionConfig, ConnectionEvent, ConnectionObserver, ServerConfig};

type Seen = Arc<Mutex<Vec<String>>>;

fn recorder(seen: &Seen) -> ConnectionObserver {
    let seen = seen.clone();
    ConnectionObserver::new(move |event: &ConnectionEvent<'_>| {
        let line = match event {
            ConnectionEvent::Opened { side, .. } => format!("{side:?} opened"),
            ConnectionEvent::Closed { side, reason, .. } => format!("{side:?} closed: {reason}"),
        };
        seen.lock().unwrap().push(line);
    })
}

async fn wait_for(seen: &Seen, n: usize) -> Vec<String> {
    for _ in 0..300 {
        if seen.lock().unwrap().len() >= n {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    seen.lock().unwrap().clone()
}

#[tokio::test]
async fn both_ends_report_open_and_close() {
    let server_seen = Seen::default();
    let client_seen = Seen::default();
    let server = echo_server(ServerConfig {
        observer: recorder(&server_seen),
        ..ServerConfig::default()
    })
    .await;
    let config = ConnectionConfig {
        observer: recorder(&client_seen),
        ..ConnectionConfig::default()
    };
    let conn = Connection::connect(server.local_addr(), config)
        .await
        .unwrap();
    assert_eq!(wait_for(&client_seen, 1).await, ["Client opened"]);
    assert_eq!(wait_for(&server_seen, 1).await, ["Server opened"]);

    conn.close();
    let client = wait_for(&client_seen, 2).await;
    assert_eq!(client[1], "Client closed: closed locally");
    let server_side = wait_for(&server_seen, 2).await;
    assert!(
        server_side[1].starts_with("Server closed"),
        "{server_side:?}"
    );
    server.shutdown().await;
}
