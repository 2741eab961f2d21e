//! `nacos`: a Nacos configuration (dataId + group), through the v1 HTTP config API.
//!
//! `nacos://h:p[,h:p][/namespace]?dataId=d[&group=g]`, the port being the HTTP port (as for
//! the Nacos registry). The key is `group/dataId` (`DEFAULT_GROUP` when the URL names no
//! group). The watch reads `GET /nacos/v1/cs/configs` (404: absent) and then long-polls
//! `POST /nacos/v1/cs/configs/listener` with the MD5 the server gave, 30 s at a time; when the
//! listener names the key, it reads again. Any failure is reported and the next server of
//! the list is tried after a pause. Nacos stores text: values must be UTF-8.
//!
//! [`NacosSource::publish`] and [`NacosSource::remove`] write through the same API, for
//! tools and tests.

use std::time::Duration;

use super::http::{send, Request, Response};
use super::stream::{channel, Updates};
use super::{ConfigSource, ConfigStream};
use crate::address::RegistryUrl;
use crate::backoff::Backoff;
use crate::error::{Error, ErrorKind, Result};
use crate::url::encode_component;

/// The group of keys written without one.
pub(super) const DEFAULT_GROUP: &str = "DEFAULT_GROUP";

/// How long the server may hold one listener request.
const LONG_POLL: Duration = Duration::from_secs(30);

/// Bound on a plain request.
const OP_TIMEOUT: Duration = Duration::from_secs(5);

/// Watches Nacos configurations: the key is `group/dataId` or a bare `dataId`.
#[derive(Clone, Debug)]
pub struct NacosSource {
    hosts: Vec<String>,
    namespace: String,
}

impl NacosSource {
    /// A source for the servers `hosts` (`h:p`, HTTP port), in `namespace` (empty: public).
    pub fn new<S: AsRef<str>>(hosts: &[S], namespace: impl Into<String>) -> Self {
        NacosSource {
            hosts: hosts.iter().map(|h| h.as_ref().to_string()).collect(),
            namespace: namespace.into(),
        }
    }

    pub(super) fn from_url(url: &RegistryUrl) -> Result<(Self, String)> {
        let hosts = url.require_hosts()?;
        let namespace = url.path().trim_matches('/');
        let data_id = url
            .param("dataId")
            .filter(|d| !d.is_empty())
            .ok_or_else(|| Error::invalid(format!("nacos config url {url} has no dataId=")))?;
        let group = url
            .param("group")
            .filter(|g| !g.is_empty())
            .unwrap_or(DEFAULT_GROUP);
        Ok((Self::new(&hosts, namespace), format!("{group}/{data_id}")))
    }

    /// Sets the configuration `key` to `content`.
    pub async fn publish(&self, key: &str, content: &str) -> Result<()> {
        let (group, data_id) = split_key(key)?;
        let form = format!(
            "{}&content={}",
            self.key_query(group, data_id),
            encode_component(content)
        );
        let request = Request {
            method: "POST",
            target: "/nacos/v1/cs/configs",
            headers: &[],
            form: &form,
        };
        self.expect_true(&request).await
    }

    /// Deletes the configuration `key`.
    pub async fn remove(&self, key: &str) -> Result<()> {
        let (group, data_id) = split_key(key)?;
        let target = format!("/nacos/v1/cs/configs?{}", self.key_query(group, data_id));
        let request = Request {
            method: "DELETE",
            target: &target,
            headers: &[],
            form: "",
        };
        self.expect_true(&request).await
    }

    async fn expect_true(&self, request: &Request<'_>) -> Result<()> {
        let host = self.hosts.first().map(String::as_str).unwrap_or("");
        let response = send(host, request, OP_TIMEOUT).await?;
        if response.status == 200 && response.body.trim_ascii() == b"true" {
            return Ok(());
        }
        Err(Error::new(
            ErrorKind::Rejected,
            format!(
                "nacos {} {}: {} {}",
                request.method,
                request.target,
                response.status,
                String::from_utf8_lossy(&response.body)
            ),
        ))
    }

    fn key_query(&self, group: &str, data_id: &str) -> String {
        let mut query = format!(
            "dataId={}&group={}",
            encode_component(data_id),
            encode_component(group)
        );
        if !self.namespace.is_empty() {
            query.push_str(&format!("&tenant={}", encode_component(&self.namespace)));
        }
        query
    }
}

/// `group/dataId` (or `dataId`) into its parts.
fn split_key(key: &str) -> Result<(&str, &str)> {
    let (group, data_id) = key.split_once('/').unwrap_or((DEFAULT_GROUP, key));
    if data_id.is_empty() || group.is_empty() {
        return Err(Error::invalid(format!(
            "nacos config key {key:?} is not group/dataId"
        )));
    }
    Ok((group, data_id))
}

impl ConfigSource for NacosSource {
    fn describe(&self) -> String {
        let mut url = format!("nacos://{}", self.hosts.join(","));
        if !self.namespace.is_empty() {
            url.push('/');
            url.push_str(&self.namespace);
        }
        url.push('/');
        url
    }

    fn watch(&self, key: &str) -> Result<ConfigStream> {
        let (group, data_id) = split_key(key)?;
        if self.hosts.is_empty() {
            return Err(Error::invalid("a nacos config source needs a host"));
        }
        let (updates, stream) = channel();
        let watch = Watch {
            source: self.clone(),
            group: group.to_string(),
            data_id: data_id.to_string(),
            host: 0,
        };
        tokio::spawn(watch.run(updates));
        Ok(stream)
    }
}

struct Watch {
    source: NacosSource,
    group: String,
    data_id: String,
    /// Index of the server in use.
    host: usize,
}

impl Watch {
    fn host(&self) -> &str {
        let hosts = &self.source.hosts;
        hosts
            .get(self.host % hosts.len().max(1))
            .map(String::as_str)
            .unwrap_or("")
    }

    async fn run(mut self, updates: Updates) {
        let mut backoff = Backoff::new();
        loop {
            let failure = match self.read_then_listen(&updates, &mut backoff).await {
                Ok(()) => return,
                Err(e) => e,
            };
            // The next server may answer.
            self.host = self.host.wrapping_add(1);
            if !updates.send(Err(failure)).await || !updates.pause(backoff.next_delay()).await {
                return;
            }
        }
    }

    /// Reads, then long-polls until the key changes, over and over; `Ok` once the stream is
    /// dropped, `Err` on a failure.
    async fn read_then_listen(&self, updates: &Updates, backoff: &mut Backoff) -> Result<()> {
        loop {
            let (value, md5) = self.read().await?;
            backoff.reset();
            if !updates.send(Ok(value)).await {
                return Ok(());
            }
            loop {
                let changed = tokio::select! {
                    _ = updates.closed() => return Ok(()),
                    changed = self.listen(&md5) => changed?,
                };
                if changed {
                    break;
                }
            }
        }
    }

    /// The value (`None`: absent) and the MD5 the server knows it by.
    async fn read(&self) -> Result<(Option<Vec<u8>>, String)> {
        let target = format!(
            "/nacos/v1/cs/configs?{}",
            self.source.key_query(&self.group, &self.data_id)
        );
        let request = Request {
            method: "GET",
            target: &target,
            headers: &[],
            form: "",
        };
        let response = send(self.host(), &request, OP_TIMEOUT).await?;
        match response.status {
            200 => {
                let md5 = response_md5(&response);
                Ok((Some(response.body), md5))
            }
            404 => Ok((None, String::new())),
            status => Err(Error::new(
                ErrorKind::Unavailable,
                format!(
                    "nacos GET {target}: {status} {}",
                    String::from_utf8_lossy(&response.body)
                ),
            )),
        }
    }

    /// One long poll: whether the server says the key changed from `md5`.
    async fn listen(&self, md5: &str) -> Result<bool> {
        if md5 == NO_MD5 {
            // Nothing to long-poll with: read again after a pause instead.
            tokio::time::sleep(Duration::from_secs(1)).await;
            return Ok(true);
        }
        let mut item = format!("{}\u{2}{}\u{2}{md5}", self.data_id, self.group);
        if !self.source.namespace.is_empty() {
            item.push('\u{2}');
            item.push_str(&self.source.namespace);
        }
        item.push('\u{1}');
        let form = format!("Listening-Configs={}", encode_component(&item));
        let timeout = LONG_POLL.as_millis().to_string();
        let request = Request {
            method: "POST",
            target: "/nacos/v1/cs/configs/listener",
            headers: &[("Long-Pulling-Timeout", &timeout)],
            form: &form,
        };
        let response = send(self.host(), &request, LONG_POLL + OP_TIMEOUT).await?;
        if response.status != 200 {
            return Err(Error::new(
                ErrorKind::Unavailable,
                format!(
                    "nacos listener for {}/{}: {} {}",
                    self.group,
                    self.data_id,
                    response.status,
                    String::from_utf8_lossy(&response.body)
                ),
            ));
        }
        Ok(!response.body.trim_ascii().is_empty())
    }
}

/// Stands for the MD5 of a server that sent none: the key is then polled every second.
const NO_MD5: &str = "-";

/// The server's MD5 of the content, or [`NO_MD5`].
fn response_md5(response: &Response) -> String {
    response
        .header("content-md5")
        .map(str::to_string)
        .unwrap_or_else(|| NO_MD5.to_string())
}
