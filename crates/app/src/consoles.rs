//! The consoles of the web app: a provider's activity and uploads, and the auditor's paged
//! audit log.

use crate::Result;
use obc_store::{AuditEvent, AuditFilter, DaySessions, NoShows, Store, UploadRecord};
use time::{Date, Duration};

/// Sessions of one week, Monday to Sunday.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WeekSessions {
    pub monday: Date,
    pub recorded: u64,
    pub attended: u64,
}

/// What a provider's dashboard shows of its own work.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderConsole {
    /// Every week from the first session's to the last's, empty weeks included.
    pub weeks: Vec<WeekSessions>,
    pub by_tutor: Vec<NoShows>,
    pub by_school: Vec<NoShows>,
    /// Session uploads, newest first.
    pub uploads: Vec<UploadRecord>,
}

/// The provider's console, from its sessions and the audit log of its uploads.
pub async fn provider_console(store: &Store, provider: &str) -> Result<ProviderConsole> {
    Ok(ProviderConsole {
        weeks: by_week(&store.provider_sessions_by_day(provider).await?),
        by_tutor: store.provider_no_shows_by_tutor(provider).await?,
        by_school: store.provider_no_shows_by_school(provider).await?,
        uploads: store.session_uploads(provider).await?,
    })
}

/// Days summed into their weeks, with the weeks in between that had none. Days whose date
/// does not read are left out (the store only holds valid dates).
pub fn by_week(days: &[DaySessions]) -> Vec<WeekSessions> {
    let mut weeks: Vec<WeekSessions> = Vec::new();
    for day in days {
        let Ok(date) = obc_core::model::parse_user_date(&day.date) else {
            continue;
        };
        let monday = date - Duration::days(i64::from(date.weekday().number_days_from_monday()));
        if let Some(last) = weeks.last() {
            let mut empty = last.monday + Duration::days(7);
            while empty < monday {
                weeks.push(WeekSessions {
                    monday: empty,
                    recorded: 0,
                    attended: 0,
                });
                empty += Duration::days(7);
            }
        }
        match weeks.last_mut() {
            Some(week) if week.monday == monday => {
                week.recorded += day.recorded;
                week.attended += day.attended;
            }
            _ => weeks.push(WeekSessions {
                monday,
                recorded: day.recorded,
                attended: day.attended,
            }),
        }
    }
    weeks
}

/// Events per page of the audit log.
pub const AUDIT_PAGE_SIZE: u64 = 100;

/// One page of the filtered audit log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditPage {
    pub events: Vec<AuditEvent>,
    /// Events that pass the filter, on every page.
    pub total: u64,
    /// 1-based, at most `pages`.
    pub page: u64,
    pub pages: u64,
}

/// Page `page` (1-based; past the end gives the last) of the events that pass `filter`,
/// newest first.
pub async fn audit_page(store: &Store, filter: &AuditFilter, page: u64) -> Result<AuditPage> {
    let total = store.audit_event_count(filter).await?;
    let pages = total.div_ceil(AUDIT_PAGE_SIZE).max(1);
    let page = page.clamp(1, pages);
    let events = store
        .audit_events(filter, (page - 1) * AUDIT_PAGE_SIZE, AUDIT_PAGE_SIZE)
        .await?;
    Ok(AuditPage {
        events,
        total,
        page,
        pages,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(date: &str, recorded: u64, attended: u64) -> DaySessions {
        DaySessions {
            date: date.into(),
            recorded,
            attended,
        }
    }

    #[test]
    fn days_sum_into_monday_weeks_with_empty_weeks_between() {
        // 2025-01-06 is a Monday.
        let weeks = by_week(&[
            day("2025-01-06", 2, 1),
            day("2025-01-12", 3, 3),
            day("2025-01-13", 1, 0),
            day("2025-01-29", 4, 4),
        ]);
        let got: Vec<(String, u64, u64)> = weeks
            .iter()
            .map(|w| (w.monday.to_string(), w.recorded, w.attended))
            .collect();
        assert_eq!(
            got,
            [
                ("2025-01-06".to_string(), 5, 4),
                ("2025-01-13".to_string(), 1, 0),
                ("2025-01-20".to_string(), 0, 0),
                ("2025-01-27".to_string(), 4, 4),
            ]
        );
        assert!(by_week(&[]).is_empty());
    }
}
