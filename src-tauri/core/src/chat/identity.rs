//! Who the chat's requests speak for: the user's id, e-mail and time zone, as every request of
//! the VA Bot Integration API reference carries them.

/// The machine's IANA time zone (`Europe/Paris`); `UTC` when the system does not say.
pub fn timezone() -> String {
    iana_time_zone::get_timezone()
        .ok()
        .filter(|z| !z.trim().is_empty())
        .unwrap_or_else(|| "UTC".to_owned())
}

/// `emailId` when Settings > Chat gives none: the user id when it is an address, else the local
/// account at this machine (`jane@workstation`), which names the person without inventing a
/// mailbox. Instances link accounts by it, so the settings page asks for the real one.
pub fn fallback_email(user_id: &str) -> String {
    if user_id.contains('@') {
        return user_id.to_owned();
    }
    let account = std::env::var("USER")
        .or_else(|_| std::env::var("USERNAME"))
        .ok()
        .map(|u| clean(&u))
        .filter(|u| !u.is_empty())
        .unwrap_or_else(|| clean(user_id));
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .or_else(|| std::env::var("COMPUTERNAME").ok())
        .map(|h| clean(&h))
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "localhost".to_owned());
    format!("{account}@{host}")
}

/// Letters, digits and `._-` only, lower case: an address part, whatever the input.
fn clean(text: &str) -> String {
    text.trim()
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
        .collect::<String>()
        .to_ascii_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_address_is_kept_and_anything_else_becomes_one() {
        assert_eq!(
            fallback_email("beth.anglin@example.com"),
            "beth.anglin@example.com"
        );
        let made = fallback_email("Admin");
        let (account, host) = made.split_once('@').expect("an address");
        assert!(!account.is_empty() && !host.is_empty(), "{made}");
        assert!(made
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-@".contains(c)));
    }

    #[test]
    fn the_time_zone_is_a_zone_name() {
        let tz = timezone();
        assert!(!tz.is_empty() && !tz.contains(' '), "{tz}");
    }
}
