//! The little HTTP/1.1 the Nacos config API needs: one request per connection, a bounded
//! wait, `Content-Length` or chunked bodies. A full HTTP client would be a large dependency
//! for four calls on a local network.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::error::{Error, ErrorKind, Result};

/// Largest response read: configuration documents are small.
const MAX_RESPONSE: usize = 16 << 20;

/// An answer.
#[derive(Debug)]
pub(super) struct Response {
    pub(super) status: u16,
    headers: Vec<(String, String)>,
    pub(super) body: Vec<u8>,
}

impl Response {
    /// Header `name`, any case.
    pub(super) fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// A request to be sent.
pub(super) struct Request<'a> {
    pub(super) method: &'a str,
    /// Path and query, e.g. `/nacos/v1/cs/configs?dataId=a`.
    pub(super) target: &'a str,
    pub(super) headers: &'a [(&'a str, &'a str)],
    /// A form body (`application/x-www-form-urlencoded`), when not empty.
    pub(super) form: &'a str,
}

/// Sends `request` to `host` (`h:p`) and reads the whole answer within `limit`.
pub(super) async fn send(host: &str, request: &Request<'_>, limit: Duration) -> Result<Response> {
    let exchange = async {
        let mut stream = TcpStream::connect(host).await?;
        let mut head = format!(
            "{} {} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\nUser-Agent: sofa-rpc-rs\r\n",
            request.method, request.target
        );
        for (k, v) in request.headers {
            head.push_str(&format!("{k}: {v}\r\n"));
        }
        if !request.form.is_empty() {
            head.push_str("Content-Type: application/x-www-form-urlencoded\r\n");
        }
        head.push_str(&format!("Content-Length: {}\r\n\r\n", request.form.len()));
        stream.write_all(head.as_bytes()).await?;
        stream.write_all(request.form.as_bytes()).await?;
        let mut raw = Vec::new();
        (&mut stream)
            .take(MAX_RESPONSE as u64 + 1)
            .read_to_end(&mut raw)
            .await?;
        Ok::<_, std::io::Error>(raw)
    };
    let what = format!("{} http://{host}{}", request.method, request.target);
    let raw = match tokio::time::timeout(limit, exchange).await {
        Ok(Ok(raw)) => raw,
        Ok(Err(e)) => return Err(Error::with_source(ErrorKind::Unavailable, what, e)),
        Err(_) => {
            return Err(Error::new(
                ErrorKind::Timeout,
                format!("{what}: no answer in {limit:?}"),
            ))
        }
    };
    parse(&raw).map_err(|why| Error::new(ErrorKind::Unavailable, format!("{what}: {why}")))
}

fn parse(raw: &[u8]) -> std::result::Result<Response, String> {
    if raw.len() > MAX_RESPONSE {
        return Err(format!("answer larger than {MAX_RESPONSE} bytes"));
    }
    let end = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or("answer without a complete header")?;
    let head = std::str::from_utf8(&raw[..end]).map_err(|_| "header is not UTF-8")?;
    let rest = &raw[end + 4..];
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap_or("");
    let status = status_line
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse::<u16>().ok())
        .ok_or_else(|| format!("bad status line {status_line:?}"))?;
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect();
    let mut response = Response {
        status,
        headers,
        body: Vec::new(),
    };
    let chunked = response
        .header("transfer-encoding")
        .is_some_and(|v| v.eq_ignore_ascii_case("chunked"));
    response.body = if chunked {
        dechunk(rest)?
    } else if let Some(len) = response.header("content-length") {
        let len: usize = len
            .parse()
            .map_err(|_| format!("bad content-length {len:?}"))?;
        rest.get(..len)
            .ok_or("answer shorter than its content-length")?
            .to_vec()
    } else {
        rest.to_vec()
    };
    Ok(response)
}

fn dechunk(mut rest: &[u8]) -> std::result::Result<Vec<u8>, String> {
    let mut body = Vec::new();
    loop {
        let line_end = rest
            .windows(2)
            .position(|w| w == b"\r\n")
            .ok_or("chunk without a size line")?;
        let size_text = std::str::from_utf8(&rest[..line_end]).map_err(|_| "bad chunk size")?;
        let size_text = size_text.split(';').next().unwrap_or("").trim();
        let size = usize::from_str_radix(size_text, 16)
            .map_err(|_| format!("bad chunk size {size_text:?}"))?;
        rest = &rest[line_end + 2..];
        if size == 0 {
            return Ok(body);
        }
        body.extend_from_slice(rest.get(..size).ok_or("chunk cut short")?);
        rest = rest.get(size + 2..).ok_or("chunk cut short")?;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lengths_chunks_and_garbage() {
        let r = parse(b"HTTP/1.1 200 OK\r\nContent-MD5: ab\r\ncontent-length: 3\r\n\r\nabcdef")
            .unwrap();
        assert_eq!(
            (r.status, r.body.as_slice(), r.header("content-md5")),
            (200, &b"abc"[..], Some("ab"))
        );
        let r = parse(b"HTTP/1.1 404 Not Found\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2;x\r\nde\r\n0\r\n\r\n").unwrap();
        assert_eq!((r.status, r.body.as_slice()), (404, &b"abcde"[..]));
        assert!(parse(b"HTTP/1.1 200 OK\r\n").is_err());
        assert!(parse(b"nonsense\r\n\r\n").is_err());
        assert!(parse(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n").is_err());
    }
}
