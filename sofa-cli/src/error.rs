//! What can go wrong, as one line each, and the exit code each kind of failure gets.

use std::fmt;

use sofa_rpc_core::{ErrorKind, RpcError};

/// A command's failure. Printed as one line on stderr; never a panic or a backtrace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Failure {
    /// A mistake in what the user typed (malformed JSON, a type list that does not fit the
    /// arguments, an unknown registry scheme) or a target that cannot be reached: exit 2.
    Usage(String),
    /// The provider's method threw an exception: exit 1.
    Exception {
        /// The exception's Java class.
        class: String,
        /// Its message.
        message: String,
    },
    /// Anything else that failed while running (a timeout, a provider error): exit 1.
    Runtime(String),
}

/// The result of a command.
pub(crate) type Result<T, E = Failure> = std::result::Result<T, E>;

impl Failure {
    /// A [`Failure::Usage`].
    pub(crate) fn usage(message: impl Into<String>) -> Self {
        Failure::Usage(message.into())
    }

    /// The process exit code: 2 for the user's mistakes (as clap uses for bad flags), 1 for
    /// what went wrong at run time.
    pub(crate) fn exit_code(&self) -> u8 {
        match self {
            Failure::Usage(_) => 2,
            Failure::Exception { .. } | Failure::Runtime(_) => 1,
        }
    }

    /// An RPC error of a call to `target`. Errors that mean "nothing answered there" are the
    /// user's to fix (a wrong address), so they count as usage errors.
    pub(crate) fn from_rpc(e: RpcError, target: &str) -> Self {
        match e.kind() {
            ErrorKind::ClientNetwork | ErrorKind::ClientRouter => {
                Failure::Usage(format!("cannot reach {target}: {}", e.message()))
            }
            ErrorKind::ServerBiz => match e.message().split_once(": ") {
                // Generic calls report an application exception as `class: message`.
                Some((class, message)) if !class.contains(' ') => Failure::Exception {
                    class: class.to_string(),
                    message: message.to_string(),
                },
                _ => Failure::Exception {
                    class: "java.lang.RuntimeException".into(),
                    message: e.message().to_string(),
                },
            },
            kind => Failure::Runtime(format!("{}: {}", kind.name(), e.message())),
        }
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::Usage(m) | Failure::Runtime(m) => f.write_str(&one_line(m)),
            Failure::Exception { class, message } => {
                write!(f, "exception {class}: {}", one_line(message))
            }
        }
    }
}

/// Joins the lines of `text` so a failure is always one line (Java messages may hold a
/// stack trace).
fn one_line(text: &str) -> String {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join(" | ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exceptions_are_split_into_class_and_message() {
        let e = RpcError::new(ErrorKind::ServerBiz, "com.example.Boom: no: really");
        assert_eq!(
            Failure::from_rpc(e, "t"),
            Failure::Exception {
                class: "com.example.Boom".into(),
                message: "no: really".into()
            }
        );
    }

    #[test]
    fn unreachable_targets_are_usage_errors() {
        let e = RpcError::new(ErrorKind::ClientNetwork, "connection refused");
        let f = Failure::from_rpc(e, "bolt://127.0.0.1:1");
        assert_eq!(f.exit_code(), 2);
        assert_eq!(
            f.to_string(),
            "cannot reach bolt://127.0.0.1:1: connection refused"
        );
        let timeout = RpcError::new(ErrorKind::ClientTimeout, "3000 ms");
        assert_eq!(Failure::from_rpc(timeout, "t").exit_code(), 1);
    }

    #[test]
    fn failures_print_as_one_line() {
        let f = Failure::Runtime("a\n  at b\n".into());
        assert_eq!(f.to_string(), "a | at b");
    }
}
