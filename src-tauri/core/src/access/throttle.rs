//! Wrong profile passwords are throttled per profile: after [`FREE_FAILURES`] failures in a
//! row the profile is locked for 30 s, doubling with each further failure up to 15 minutes.
//!
//! The state is persisted (a `settings` row per profile), not kept in memory: the CLI is a new
//! process per command, so an in-process counter would start at zero with every guess. An
//! attempt is counted *before* the (slow, Argon2) check and cleared only by a success, inside an
//! immediate transaction, so guesses made in parallel by several processes each count and
//! none slips through while another is being checked.

use rusqlite::{Connection, TransactionBehavior};

use crate::error::{CoreError, CoreResult, ErrorCode};
use crate::store::{get_setting, set_setting};

/// Failures in a row before the first lock.
pub(crate) const FREE_FAILURES: u32 = 5;
const FIRST_LOCK_SECS: i64 = 30;
const MAX_LOCK_SECS: i64 = 15 * 60;

fn key(profile: &str) -> String {
    // Profile names are unique without regard to case (the column is NOCASE).
    format!("password_failures:{}", profile.to_lowercase())
}

/// How long a profile stays locked after its `failures`-th failure in a row (0: not locked).
pub(crate) fn lock_secs(failures: u32) -> i64 {
    if failures < FREE_FAILURES {
        return 0;
    }
    let doublings = (failures - FREE_FAILURES).min(30);
    FIRST_LOCK_SECS
        .saturating_mul(1_i64 << doublings)
        .min(MAX_LOCK_SECS)
}

/// (failures in a row, locked until in Unix ms).
fn read(conn: &Connection, profile: &str) -> CoreResult<(u32, i64)> {
    let Some(text) = get_setting(conn, &key(profile))? else {
        return Ok((0, 0));
    };
    // A damaged value counts as "no failures" rather than locking the profile forever.
    let mut parts = text.split(':');
    let failures = parts.next().and_then(|f| f.parse().ok()).unwrap_or(0);
    let until = parts.next().and_then(|u| u.parse().ok()).unwrap_or(0);
    Ok((failures, until))
}

/// Counts one attempt for `profile` in advance, or refuses it with `too_many_attempts` while
/// the profile is locked (without looking at the password, so a lock really slows guessing).
pub(crate) fn reserve(conn: &mut Connection, profile: &str, now_ms: i64) -> CoreResult<()> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let (failures, until) = read(&tx, profile)?;
    if until > now_ms {
        let wait_s = (until - now_ms + 999) / 1000;
        return Err(CoreError::new(
            ErrorCode::TooManyAttempts,
            format!(
                "Too many wrong passwords for the profile \"{profile}\". Try again in {wait_s} s."
            ),
        ));
    }
    let failures = failures.saturating_add(1);
    let until = match lock_secs(failures) {
        0 => 0,
        s => now_ms.saturating_add(s * 1000),
    };
    set_setting(&tx, &key(profile), &format!("{failures}:{until}"))?;
    tx.commit()?;
    Ok(())
}

/// A correct password: the profile's failures are forgotten.
pub(crate) fn clear(conn: &Connection, profile: &str) -> CoreResult<()> {
    conn.execute("DELETE FROM settings WHERE key = ?1", [key(profile)])?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn conn() -> Connection {
        let c = Connection::open_in_memory().unwrap();
        c.execute_batch("CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
            .unwrap();
        c
    }

    #[test]
    fn the_lock_grows_exponentially_and_is_capped() {
        assert_eq!(lock_secs(1), 0);
        assert_eq!(lock_secs(FREE_FAILURES - 1), 0);
        assert_eq!(lock_secs(FREE_FAILURES), 30);
        assert_eq!(lock_secs(FREE_FAILURES + 1), 60);
        assert_eq!(lock_secs(FREE_FAILURES + 2), 120);
        assert_eq!(lock_secs(FREE_FAILURES + 5), 900);
        assert_eq!(lock_secs(u32::MAX), 900);
    }

    #[test]
    fn attempts_lock_then_unlock_with_time_and_success_resets() {
        let mut c = conn();
        let t0 = 1_000_000;
        for _ in 0..FREE_FAILURES {
            reserve(&mut c, "Admin", t0).unwrap();
        }
        let err = reserve(&mut c, "admin", t0 + 1_000).unwrap_err();
        assert_eq!(err.code, ErrorCode::TooManyAttempts);
        assert!(err.message.contains("29 s"), "{}", err.message);
        // After the lock: one more attempt, then a longer lock.
        reserve(&mut c, "Admin", t0 + 30_000).unwrap();
        assert!(reserve(&mut c, "Admin", t0 + 30_000 + 59_000).is_err());
        reserve(&mut c, "Admin", t0 + 30_000 + 60_000).unwrap();
        // A success forgets everything.
        clear(&c, "ADMIN").unwrap();
        for _ in 0..FREE_FAILURES - 1 {
            reserve(&mut c, "Admin", t0 + 100_000).unwrap();
        }
        // Other profiles are not affected.
        reserve(&mut c, "Viewer", t0).unwrap();
    }
}
