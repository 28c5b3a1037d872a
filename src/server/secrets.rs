//! The server's cryptography: AI Hub tokens sealed with AES-256-GCM under the master key,
//! argon2 password hashes, and HS256 login tokens. No secret leaves here in a message.

use aes_gcm::aead::{Aead, AeadCore, KeyInit, OsRng, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use base64::Engine as _;
use serde::{Deserialize, Serialize};

use super::config::MasterKey;

const NONCE_LEN: usize = 12;

/// Encrypts `secret` bound to `context` (the workspace id): base64 of nonce ‖ ciphertext.
pub fn seal(key: &MasterKey, context: &str, secret: &str) -> Result<String, String> {
    let cipher = Aes256Gcm::new_from_slice(&key.0).map_err(|_| "bad key length".to_string())?;
    let nonce = Aes256Gcm::generate_nonce(&mut OsRng);
    let sealed = cipher
        .encrypt(
            &nonce,
            Payload {
                msg: secret.as_bytes(),
                aad: context.as_bytes(),
            },
        )
        .map_err(|_| "encryption failed".to_string())?;
    let mut out = nonce.to_vec();
    out.extend_from_slice(&sealed);
    Ok(base64::engine::general_purpose::STANDARD.encode(out))
}

/// Decrypts what [`seal`] produced; fails when the key or context differ.
pub fn open(key: &MasterKey, context: &str, sealed: &str) -> Result<String, String> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(sealed)
        .map_err(|_| "stored token is not base64".to_string())?;
    if bytes.len() <= NONCE_LEN {
        return Err("stored token is too short".into());
    }
    let (nonce, body) = bytes.split_at(NONCE_LEN);
    let cipher = Aes256Gcm::new_from_slice(&key.0).map_err(|_| "bad key length".to_string())?;
    let plain = cipher
        .decrypt(
            Nonce::from_slice(nonce),
            Payload {
                msg: body,
                aad: context.as_bytes(),
            },
        )
        .map_err(|_| "stored token cannot be decrypted with this master key".to_string())?;
    String::from_utf8(plain).map_err(|_| "stored token is not text".to_string())
}

/// The last four characters of a token, the only part ever shown or logged.
pub fn last4(token: &str) -> String {
    let chars: Vec<char> = token.chars().collect();
    chars[chars.len().saturating_sub(4)..].iter().collect()
}

/// An argon2id hash in PHC string form.
pub fn hash_password(password: &str) -> Result<String, String> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| e.to_string())
}

/// Whether `password` matches a stored hash (a malformed hash never matches).
pub fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|h| {
        Argon2::default()
            .verify_password(password.as_bytes(), &h)
            .is_ok()
    })
}

/// The claims of a login token.
#[derive(Debug, Serialize, Deserialize)]
pub struct Claims {
    /// User id.
    pub sub: String,
    /// Expiry, unix seconds.
    pub exp: u64,
    /// Issued at, unix seconds.
    pub iat: u64,
    /// What a narrower token may do: `view:{workspace id}` for a page link (read-only pages of
    /// one workspace). Absent on login tokens; a token with a scope is never a login token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
}

/// Signs a login token for `user_id` valid for `ttl_secs`.
pub fn issue_token(
    secret: &str,
    user_id: &str,
    now_secs: u64,
    ttl_secs: u64,
) -> Result<String, String> {
    let claims = Claims {
        sub: user_id.to_string(),
        exp: now_secs + ttl_secs,
        iat: now_secs,
        scope: None,
    };
    jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(secret.as_bytes()),
    )
    .map_err(|e| e.to_string())
}

/// The user id of a valid, unexpired HS256 login token (never a page link's key).
pub fn verify_token(secret: &str, token: &str) -> Option<String> {
    decode(secret, token)
        .filter(|c| c.scope.is_none())
        .map(|c| c.sub)
}

/// Signs a page link's key: `user_id` may open the read-only pages and downloads of
/// `workspace_id` (run report, history, results.json, JUnit) in a browser, for `ttl_secs`.
/// Membership is still checked on every request, so removing a member revokes their links.
pub fn issue_view_key(
    secret: &str,
    user_id: &str,
    workspace_id: &str,
    now_secs: u64,
    ttl_secs: u64,
) -> Result<String, String> {
    let claims = Claims {
        sub: user_id.to_string(),
        exp: now_secs + ttl_secs,
        iat: now_secs,
        scope: Some(format!("view:{workspace_id}")),
    };
    jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(secret.as_bytes()),
    )
    .map_err(|e| e.to_string())
}

/// The user id of a valid page key for `workspace_id`.
pub fn verify_view_key(secret: &str, key: &str, workspace_id: &str) -> Option<String> {
    let want = format!("view:{workspace_id}");
    decode(secret, key)
        .filter(|c| c.scope.as_deref() == Some(want.as_str()))
        .map(|c| c.sub)
}

fn decode(secret: &str, token: &str) -> Option<Claims> {
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::HS256);
    validation.leeway = 0;
    jsonwebtoken::decode::<Claims>(
        token,
        &jsonwebtoken::DecodingKey::from_secret(secret.as_bytes()),
        &validation,
    )
    .ok()
    .map(|d| d.claims)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_tokens_open_only_with_the_same_key_and_context() {
        let key = MasterKey([3; 32]);
        let sealed = seal(&key, "ws1", "secret-token-1234").unwrap_or_default();
        assert!(!sealed.contains("secret"));
        assert_eq!(
            open(&key, "ws1", &sealed).ok().as_deref(),
            Some("secret-token-1234")
        );
        assert!(open(&key, "ws2", &sealed).is_err());
        assert!(open(&MasterKey([4; 32]), "ws1", &sealed).is_err());
        assert!(open(&key, "ws1", "AAAA").is_err());
        assert_eq!(last4("abcdef"), "cdef");
        assert_eq!(last4("ab"), "ab");
    }

    #[test]
    fn page_keys_open_pages_of_one_workspace_only_and_never_the_api() {
        let key = issue_view_key("s", "u1", "ws1", 1_000_000_000_000, 60).unwrap();
        assert_eq!(verify_view_key("s", &key, "ws1").as_deref(), Some("u1"));
        assert_eq!(verify_view_key("s", &key, "ws2"), None);
        assert_eq!(verify_view_key("other", &key, "ws1"), None);
        assert_eq!(
            verify_token("s", &key),
            None,
            "a page key is not a login token"
        );
        let login = issue_token("s", "u1", 1_000_000_000_000, 60).unwrap();
        assert_eq!(
            verify_view_key("s", &login, "ws1"),
            None,
            "a login token is not a page key"
        );
    }

    #[test]
    fn passwords_and_tokens_round_trip() {
        let h = hash_password("correct horse").unwrap_or_default();
        assert!(verify_password("correct horse", &h));
        assert!(!verify_password("wrong", &h));
        assert!(!verify_password("x", "not a hash"));
        let t = issue_token("s", "u1", 4_000_000_000, 60).unwrap_or_default();
        assert_eq!(verify_token("s", &t).as_deref(), Some("u1"));
        assert_eq!(verify_token("other", &t), None);
        let expired = issue_token("s", "u1", 1_000, 60).unwrap_or_default();
        assert_eq!(verify_token("s", &expired), None);
    }
}
