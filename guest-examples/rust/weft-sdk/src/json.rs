//! Temporal's JSON payload converter: `encoding: json/plain`, UTF-8 JSON.

use crate::{Failure, Payload, non_retryable};
use serde::Serialize;
use serde::de::DeserializeOwned;

/// Encode a value as a `json/plain` payload.
pub fn encode<T: Serialize + ?Sized>(value: &T) -> Payload {
    Payload {
        metadata: vec![("encoding".to_owned(), b"json/plain".to_vec())],
        // Serialising plain data to JSON cannot fail; a map with non-string
        // keys is the one case, and it is a guest bug.
        data: serde_json::to_vec(value).expect("value serialises to JSON"),
    }
}

/// Decode a `json/plain` (or `binary/null`, as JSON `null`) payload.
pub fn decode<T: DeserializeOwned>(payload: &Payload) -> Result<T, Failure> {
    let encoding = payload
        .metadata
        .iter()
        .find(|(k, _)| k == "encoding")
        .map(|(_, v)| v.as_slice());
    let data: &[u8] = match encoding {
        Some(b"json/plain") => &payload.data,
        Some(b"binary/null") => b"null",
        other => {
            return Err(non_retryable(
                "InvalidPayload",
                format!(
                    "expected a json/plain payload, got encoding {:?}",
                    other.map(String::from_utf8_lossy)
                ),
            ));
        }
    };
    serde_json::from_slice(data)
        .map_err(|e| non_retryable("InvalidPayload", format!("payload does not decode: {e}")))
}

/// The arguments a workflow or activity was called with.
pub struct Args(pub Vec<Payload>);

impl Args {
    /// Argument `i`, decoded; a missing or ill-typed argument is an
    /// `InvalidInput` failure.
    pub fn get<T: DeserializeOwned>(&self, i: usize) -> Result<T, Failure> {
        let payload = self.0.get(i).ok_or_else(|| {
            non_retryable(
                "InvalidInput",
                format!(
                    "expected at least {} argument(s), got {}",
                    i + 1,
                    self.0.len()
                ),
            )
        })?;
        decode(payload)
            .map_err(|f| non_retryable("InvalidInput", format!("argument {i}: {}", f.message)))
    }

    /// Argument `i` if given.
    pub fn opt<T: DeserializeOwned>(&self, i: usize) -> Result<Option<T>, Failure> {
        if i < self.0.len() {
            self.get(i).map(Some)
        } else {
            Ok(None)
        }
    }

    /// How many arguments there are.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// True if there are none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}
