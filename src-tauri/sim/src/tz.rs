//! The few IANA time zones simulated accounts use, and the ServiceNow/Jira date formats.
//!
//! Raw ServiceNow dates are UTC, but display values and JQL date literals are read in the
//! account's zone; that mismatch is a classic source of silent sync gaps, so the simulator
//! reproduces it with real daylight-saving rules instead of pretending every user is on GMT.
//! A full tz database would be overkill for the handful of zones the demo accounts use.

use time::macros::format_description;
use time::{Date, Duration, Month, OffsetDateTime, PrimitiveDateTime, Time, Weekday};

/// Daylight-saving rule of a zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum DstRule {
    None,
    /// Second Sunday of March 02:00 local to first Sunday of November 02:00 local (since 2007).
    UnitedStates,
    /// Last Sunday of March 01:00 UTC to last Sunday of October 01:00 UTC.
    European,
}

/// A time zone with a standard offset and an optional one-hour daylight-saving rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Zone {
    name: &'static str,
    standard_offset_secs: i32,
    rule: DstRule,
}

const ZONES: &[Zone] = &[
    Zone {
        name: "GMT",
        standard_offset_secs: 0,
        rule: DstRule::None,
    },
    Zone {
        name: "UTC",
        standard_offset_secs: 0,
        rule: DstRule::None,
    },
    Zone {
        name: "Etc/UTC",
        standard_offset_secs: 0,
        rule: DstRule::None,
    },
    Zone {
        name: "America/New_York",
        standard_offset_secs: -5 * 3600,
        rule: DstRule::UnitedStates,
    },
    Zone {
        name: "America/Chicago",
        standard_offset_secs: -6 * 3600,
        rule: DstRule::UnitedStates,
    },
    Zone {
        name: "America/Los_Angeles",
        standard_offset_secs: -8 * 3600,
        rule: DstRule::UnitedStates,
    },
    Zone {
        name: "Europe/London",
        standard_offset_secs: 0,
        rule: DstRule::European,
    },
    Zone {
        name: "Europe/Berlin",
        standard_offset_secs: 3600,
        rule: DstRule::European,
    },
    Zone {
        name: "Asia/Kolkata",
        standard_offset_secs: 5 * 3600 + 1800,
        rule: DstRule::None,
    },
    Zone {
        name: "Asia/Singapore",
        standard_offset_secs: 8 * 3600,
        rule: DstRule::None,
    },
];

impl Zone {
    /// Looks a zone up by IANA name; unknown names fall back to GMT, as ServiceNow does for
    /// users whose zone is empty.
    pub fn named(name: &str) -> Zone {
        ZONES
            .iter()
            .copied()
            .find(|zone| zone.name == name)
            .unwrap_or(ZONES[0])
    }

    pub fn name(&self) -> &'static str {
        self.name
    }

    /// Offset from UTC in seconds at the given UTC instant.
    pub fn offset_at_utc(&self, utc: PrimitiveDateTime) -> i32 {
        let dst = match self.rule {
            DstRule::None => false,
            DstRule::UnitedStates => {
                let year = utc.year();
                let std = Duration::seconds(i64::from(self.standard_offset_secs));
                // Transitions happen at 02:00 local standard time (start) and 02:00 local daylight
                // time, which is 01:00 standard (end).
                let start = nth_sunday(year, Month::March, 2)
                    .with_time(Time::from_hms(2, 0, 0).unwrap_or(Time::MIDNIGHT))
                    - std;
                let end = nth_sunday(year, Month::November, 1)
                    .with_time(Time::from_hms(1, 0, 0).unwrap_or(Time::MIDNIGHT))
                    - std;
                utc >= start && utc < end
            }
            DstRule::European => {
                let year = utc.year();
                let one = Time::from_hms(1, 0, 0).unwrap_or(Time::MIDNIGHT);
                let start = last_sunday(year, Month::March).with_time(one);
                let end = last_sunday(year, Month::October).with_time(one);
                utc >= start && utc < end
            }
        };
        self.standard_offset_secs + if dst { 3600 } else { 0 }
    }

    /// UTC to local wall-clock time.
    pub fn to_local(&self, utc: PrimitiveDateTime) -> PrimitiveDateTime {
        utc + Duration::seconds(i64::from(self.offset_at_utc(utc)))
    }

    /// Local wall-clock time to UTC. In the autumn overlap the earlier (daylight) reading wins.
    pub fn to_utc(&self, local: PrimitiveDateTime) -> PrimitiveDateTime {
        let daylight = local - Duration::seconds(i64::from(self.standard_offset_secs + 3600));
        if self.rule != DstRule::None && self.offset_at_utc(daylight) != self.standard_offset_secs {
            return daylight;
        }
        local - Duration::seconds(i64::from(self.standard_offset_secs))
    }
}

fn nth_sunday(year: i32, month: Month, n: u8) -> Date {
    let first = Date::from_calendar_date(year, month, 1).unwrap_or(Date::MIN);
    let to_sunday = (7 - first.weekday().number_days_from_sunday()) % 7;
    first + Duration::days(i64::from(to_sunday) + 7 * i64::from(n - 1))
}

fn last_sunday(year: i32, month: Month) -> Date {
    let next_month_first = match month {
        Month::December => Date::from_calendar_date(year + 1, Month::January, 1),
        _ => Date::from_calendar_date(year, month.next(), 1),
    }
    .unwrap_or(Date::MAX);
    let mut day = next_month_first - Duration::days(1);
    while day.weekday() != Weekday::Sunday {
        day -= Duration::days(1);
    }
    day
}

/// ServiceNow's `YYYY-MM-DD HH:MM:SS`.
pub fn format_sn(dt: PrimitiveDateTime) -> String {
    dt.format(format_description!(
        "[year]-[month]-[day] [hour]:[minute]:[second]"
    ))
    .unwrap_or_default()
}

/// Parses ServiceNow's `YYYY-MM-DD HH:MM:SS` (or a bare date, meaning midnight).
pub fn parse_sn(text: &str) -> Option<PrimitiveDateTime> {
    let text = text.trim();
    PrimitiveDateTime::parse(
        text,
        format_description!("[year]-[month]-[day] [hour]:[minute]:[second]"),
    )
    .ok()
    .or_else(|| {
        Date::parse(text, format_description!("[year]-[month]-[day]"))
            .ok()
            .map(|date| date.midnight())
    })
}

/// Jira's `2024-01-31T13:05:22.123+0000` rendering of a UTC instant in a zone.
pub fn format_jira(utc: PrimitiveDateTime, millis: u16, zone: Zone) -> String {
    let offset = zone.offset_at_utc(utc);
    let local = utc + Duration::seconds(i64::from(offset));
    let sign = if offset < 0 { '-' } else { '+' };
    let abs = offset.unsigned_abs();
    format!(
        "{}.{:03}{}{:02}{:02}",
        local
            .format(format_description!(
                "[year]-[month]-[day]T[hour]:[minute]:[second]"
            ))
            .unwrap_or_default(),
        millis,
        sign,
        abs / 3600,
        (abs % 3600) / 60
    )
}

/// Current UTC time, truncated to whole seconds like ServiceNow's stored dates.
pub fn now_utc() -> PrimitiveDateTime {
    let now = OffsetDateTime::now_utc();
    let now = now.replace_nanosecond(0).unwrap_or(now);
    PrimitiveDateTime::new(now.date(), now.time())
}

/// Milliseconds since the Unix epoch of a UTC wall-clock time.
pub fn epoch_millis(utc: PrimitiveDateTime) -> i64 {
    let seconds = utc.assume_utc().unix_timestamp();
    seconds * 1000
}

/// The UTC wall-clock time of epoch milliseconds.
pub fn from_epoch_millis(millis: i64) -> Option<PrimitiveDateTime> {
    let odt = OffsetDateTime::from_unix_timestamp_nanos(i128::from(millis) * 1_000_000).ok()?;
    Some(PrimitiveDateTime::new(odt.date(), odt.time()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_york_switches_to_daylight_time_in_march_and_back_in_november() {
        let ny = Zone::named("America/New_York");
        let winter = parse_sn("2024-01-15 12:00:00").unwrap();
        let summer = parse_sn("2024-07-15 12:00:00").unwrap();
        assert_eq!(ny.offset_at_utc(winter), -5 * 3600);
        assert_eq!(ny.offset_at_utc(summer), -4 * 3600);
        // 2024-03-10 07:00 UTC is 03:00 EDT, the first daylight instant.
        assert_eq!(
            ny.offset_at_utc(parse_sn("2024-03-10 06:59:59").unwrap()),
            -5 * 3600
        );
        assert_eq!(
            ny.offset_at_utc(parse_sn("2024-03-10 07:00:00").unwrap()),
            -4 * 3600
        );
        assert_eq!(
            ny.offset_at_utc(parse_sn("2024-11-03 06:00:00").unwrap()),
            -5 * 3600
        );
        assert_eq!(
            format_sn(ny.to_utc(parse_sn("2024-07-15 08:00:00").unwrap())),
            "2024-07-15 12:00:00"
        );
    }

    #[test]
    fn berlin_follows_the_european_rule() {
        let berlin = Zone::named("Europe/Berlin");
        assert_eq!(
            berlin.offset_at_utc(parse_sn("2024-03-31 00:59:59").unwrap()),
            3600
        );
        assert_eq!(
            berlin.offset_at_utc(parse_sn("2024-03-31 01:00:00").unwrap()),
            7200
        );
        assert_eq!(
            format_sn(berlin.to_local(parse_sn("2024-08-01 10:00:00").unwrap())),
            "2024-08-01 12:00:00"
        );
    }

    #[test]
    fn jira_dates_carry_the_zone_offset() {
        let utc = parse_sn("2024-01-31 18:05:22").unwrap();
        assert_eq!(
            format_jira(utc, 7, Zone::named("America/New_York")),
            "2024-01-31T13:05:22.007-0500"
        );
        assert_eq!(epoch_millis(utc), 1_706_724_322_000);
        assert_eq!(from_epoch_millis(1_706_724_322_000), Some(utc));
    }
}
