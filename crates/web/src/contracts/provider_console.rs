//! The provider's section of the dashboard: its sessions per week, no-shows by tutor and by
//! school, and its uploads with what each changed.

use crate::access::Reader;
use crate::charts::{binned_histogram, CountBin};
use crate::WebError;
use obc_app::consoles::WeekSessions;
use obc_store::{NoShows, UploadRecord};

/// A tutor's or school's line: sessions, no-shows and their share.
pub struct NoShowRow {
    pub label: String,
    pub sessions: u64,
    pub no_shows: u64,
    /// The no-shows' share of the sessions, e.g. `12.5%`.
    pub rate: String,
}

/// What the provider's section shows.
pub struct ProviderSection {
    /// The chart of attended sessions per week (inline SVG).
    pub weekly_chart: String,
    pub by_tutor: Vec<NoShowRow>,
    pub by_school: Vec<NoShowRow>,
    pub uploads: Vec<UploadRecord>,
}

/// The section for provider staff (of their own organisation); `None` for other roles.
pub(crate) async fn section(reader: &Reader<'_>) -> Result<Option<ProviderSection>, WebError> {
    let Some(console) = reader.provider_console().await? else {
        return Ok(None);
    };
    Ok(Some(ProviderSection {
        weekly_chart: weekly_chart(&console.weeks),
        by_tutor: rows(console.by_tutor.clone()),
        by_school: rows(console.by_school.clone()),
        uploads: console.uploads.clone(),
    }))
}

fn weekly_chart(weeks: &[WeekSessions]) -> String {
    let bins: Vec<CountBin> = weeks
        .iter()
        .map(|w| CountBin {
            from: w.monday.to_string(),
            to: (w.monday + time::Duration::days(7)).to_string(),
            count: w.attended,
        })
        .collect();
    binned_histogram("Attended sessions per week", "sessions", &bins)
}

fn rows(counts: Vec<NoShows>) -> Vec<NoShowRow> {
    counts
        .into_iter()
        .map(|c| NoShowRow {
            rate: share(c.no_shows, c.sessions),
            label: c.label,
            sessions: c.sessions,
            no_shows: c.no_shows,
        })
        .collect()
}

/// `part` of `whole` in percent with one decimal (`0.0%` of nothing).
fn share(part: u64, whole: u64) -> String {
    if whole == 0 {
        return "0.0%".into();
    }
    let tenths = (part * 1000 + whole / 2) / whole;
    format!("{}.{}%", tenths / 10, tenths % 10)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shares_round_to_a_tenth_of_a_percent() {
        assert_eq!(share(1, 8), "12.5%");
        assert_eq!(share(2, 3), "66.7%");
        assert_eq!(share(0, 0), "0.0%");
        assert_eq!(share(5, 5), "100.0%");
    }
}
