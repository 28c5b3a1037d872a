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
    };
    jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(secret.as_bytes()),
    )
    .map_err(|e| e.to_string())
}

/// The user id of a valid, unexpired HS256 token.
pub fn verify_token(secret: &str, token: &str) -> Option<String> {
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::HS256);
    validation.leeway = 0;
    jsonwebtoken::decode::<Claims>(
        token,
        &jsonwebtoken::DecodingKey::from_secret(secret.as_bytes()),
        &validation,
    )
    .ok()
    .map(|d| d.claims.sub)
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
