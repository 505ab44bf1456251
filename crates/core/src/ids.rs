//! Typed identifiers: a type prefix and a UUIDv7 (time-ordered), e.g. `acct_0192…`.

/// Makes a new id with the given prefix. UUIDv7 sorts by creation time, so ids double as
/// stable cursors for lists.
pub fn new_id(prefix: &str) -> String {
    format!("{prefix}_{}", uuid::Uuid::now_v7().simple())
}

/// Id prefixes, one per resource kind.
pub mod prefix {
    /// Users.
    pub const USER: &str = "user";
    /// Ledger accounts.
    pub const ACCOUNT: &str = "acct";
    /// Transfers.
    pub const TRANSFER: &str = "tr";
    /// Journal entries.
    pub const JOURNAL: &str = "je";
    /// API keys.
    pub const API_KEY: &str = "key";
}

/// True when `id` has the shape `<prefix>_<32 hex digits>`. Used to answer a malformed id
/// with 404 without touching the database and to refuse junk cursors.
pub fn looks_like(id: &str, prefix: &str) -> bool {
    id.len() == prefix.len() + 33
        && id.starts_with(prefix)
        && id.as_bytes()[prefix.len()] == b'_'
        && id[prefix.len() + 1..].bytes().all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shape() {
        let id = new_id(prefix::ACCOUNT);
        assert!(looks_like(&id, prefix::ACCOUNT), "{id}");
        assert!(!looks_like(&id, prefix::TRANSFER));
        assert!(!looks_like("acct_xyz", prefix::ACCOUNT));
        assert!(
            new_id("tr") < {
                std::thread::sleep(std::time::Duration::from_millis(2));
                new_id("tr")
            }
        );
    }
}
