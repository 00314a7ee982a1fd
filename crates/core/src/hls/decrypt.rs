//! AES-128 segments (RFC 8216 §4.3.2.4, §5.2): a segment under an EXT-X-KEY with
//! METHOD=AES-128 is the whole segment encrypted with AES-128-CBC and PKCS#7 padding, with the
//! 16-byte key from the key URI and the IV from the tag or the media sequence number.

use crate::error::{Error, Result};
use aes::cipher::{block_padding::Pkcs7, BlockDecryptMut, KeyIvInit};

/// Decrypts one segment (or initialization section) with a 16-byte `key` and `iv`. Errors:
/// a key that is not 16 bytes, data that is not whole blocks, or padding that does not
/// check (the usual sign of a wrong key or IV).
pub fn decrypt_aes128(key: &[u8], iv: &[u8; 16], data: &[u8]) -> Result<Vec<u8>> {
    let key: &[u8; 16] = key.try_into().map_err(|_| {
        Error::invalid(
            "AES-128 key",
            format!("{} bytes, expected 16", key.len()),
            0,
        )
    })?;
    if data.len() % 16 != 0 {
        return Err(Error::invalid(
            "AES-128 segment",
            format!("{} bytes, not a whole number of 16-byte blocks", data.len()),
            0,
        ));
    }
    cbc::Decryptor::<aes::Aes128>::new(key.into(), iv.into())
        .decrypt_padded_vec_mut::<Pkcs7>(data)
        .map_err(|_| {
            Error::invalid(
                "AES-128 segment",
                "the padding does not check after decryption (wrong key or IV?)",
                data.len().saturating_sub(16) as u64,
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    /// NIST SP 800-38A F.2.2 (CBC-AES128.Decrypt), its first two blocks, plus the PKCS#7
    /// padding block encrypted here as CBC continues.
    #[test]
    fn decrypts_the_nist_vector() {
        let key = hex("2b7e151628aed2a6abf7158809cf4f3c");
        let iv: [u8; 16] = hex("000102030405060708090a0b0c0d0e0f").try_into().unwrap();
        let plain = hex("6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e51");
        let mut cipher = hex("7649abac8119b246cee98e9b12e9197d5086cb9b507219ee95db113a917678b2");
        // The padding block: E(K, 16 x 0x10 XOR last cipher block).
        use aes::cipher::{BlockEncrypt, KeyInit};
        let aes = aes::Aes128::new_from_slice(&key).unwrap();
        let mut pad: Vec<u8> = cipher[16..].iter().map(|b| b ^ 0x10).collect();
        aes.encrypt_block(pad.as_mut_slice().into());
        cipher.extend_from_slice(&pad);
        assert_eq!(decrypt_aes128(&key, &iv, &cipher).unwrap(), plain);
    }

    #[test]
    fn refuses_bad_input() {
        let iv = [0u8; 16];
        assert!(decrypt_aes128(&[0; 15], &iv, &[0; 16]).is_err());
        assert!(decrypt_aes128(&[0; 16], &iv, &[0; 17]).is_err());
        assert!(decrypt_aes128(&[0; 16], &iv, &[]).is_err());
        // Decrypts to something, but its padding does not check.
        assert!(decrypt_aes128(&[0; 16], &iv, &[0; 32]).is_err());
    }
}
